"""In a browser: choosing a facility narrows the services offered, with no page load (htmx)."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Client
from referrals.models import Referral
from tests.factories import FacilityFactory

from .browser_checks import console  # noqa: F401 (a fixture)
from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)


def settled(page):
    """htmx restores the kept service when the swap settles, a moment after it: the next
    choice is made after that, as a person's would be."""
    expect(page.locator("#service-field")).not_to_have_class(re.compile(r"htmx-(settling|swapping|request)"))


def offered(page):
    return page.eval_on_selector_all("#id_service option", "os => os.map(o => o.value).filter(Boolean)")


@pytest.mark.django_db(transaction=True)
def test_services_follow_the_chosen_facility(browser_page, console, live_server, volunteer, client_a, facility_a):  # noqa: F811
    page, base = browser_page, live_server.url
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    tb_clinic = FacilityFactory(site=client_a.site, name="Klinik Paru", services=["tb", "vct"])
    sign_in(page, base, "volunteer_a1")
    page.goto(f"{base}/referrals/new/?client={client_a.pk}")
    assert "tb" in offered(page)  # no facility chosen yet: every service
    page.select_option("#id_service", "vct")
    page.select_option("#id_to_facility", str(facility_a.pk))
    page.wait_for_selector("#id_service option[value=tb]", state="detached")
    settled(page)
    assert offered(page) == ["vct", "art_initiation", "art_refill", "viral_load"]
    # Restored after htmx settles, a moment after the swap: waited for, not read at once.
    expect(page.locator("#id_service")).to_have_value("vct")  # still offered: kept
    page.select_option("#id_service", "viral_load")
    page.select_option("#id_to_facility", str(tb_clinic.pk))
    page.wait_for_selector("#id_service option[value=tb]", state="attached")
    settled(page)
    assert offered(page) == ["vct", "tb"]
    expect(page.locator("#id_service")).to_have_value("")  # not offered there: chosen again
    page.select_option("#id_service", "tb")
    page.fill("#id_reason", "Batuk lebih dari dua minggu")
    shot(page, "referral-form-services")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/referrals/*/")
    referral = Referral.objects.get()
    assert (referral.to_facility, referral.service) == (tb_clinic, "tb")
