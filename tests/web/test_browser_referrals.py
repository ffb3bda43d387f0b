"""The referral loop in a browser (Playwright, Chromium, a phone screen, against a live server):
a volunteer refers a client to the clinic and sends it; the clinic's staff finds it in the
facility inbox, accepts it and closes it. Screenshots go to artifacts/screenshots/."""

import re

import pytest

from cases.models import Client
from referrals.models import Referral

from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)


def submit(page, selector):
    """Click a form's button and wait for the page the POST leads to (the same URL)."""
    with page.expect_navigation():
        page.locator(selector).click()


def sign_out(page, base):
    page.locator(".navbar-toggler").click()  # the menu is collapsed on a phone
    page.locator("#nav-menu.show").wait_for()
    with page.expect_navigation():
        page.locator("form[action='/logout/'] button").click()
    page.wait_for_url(f"{base}/login/")


@pytest.mark.django_db(transaction=True)
def test_volunteer_refers_and_clinic_closes_the_loop(
    browser_page,  # noqa: F811
    live_server,
    volunteer,
    facility_staff,
    client_a,
    facility_a,
):
    page, base = browser_page, live_server.url
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)  # the clinic is an outside facility

    # The volunteer drafts the referral from the referral boxes …
    sign_in(page, base, "volunteer_a1")
    page.locator(".navbar-toggler").click()
    page.locator("#nav-menu a[href='/referrals/']").click()
    page.wait_for_url(f"{base}/referrals/")
    shot(page, "referrals-outbox-empty")
    page.locator("main a[href='/referrals/new/']").click()
    page.wait_for_url(f"{base}/referrals/new/")
    page.select_option("#id_client", str(client_a.pk))
    page.select_option("#id_to_facility", str(facility_a.pk))
    page.select_option("#id_service", "vct")
    page.select_option("#id_urgency", "high")
    page.fill("#id_reason", "Perlu tes VCT dan konseling")
    shot(page, "referral-form")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/referrals/[0-9]+/$"))
    referral = Referral.objects.get()
    assert referral.status == "draft"
    assert page.locator("#form-send").count() == 1 and page.locator("#form-accept").count() == 0
    shot(page, "referral-draft")

    # … and sends it: the slip for the clinic is now offered.
    submit(page, "#form-send button[type=submit]")
    assert "alert-success" in page.content()
    assert page.locator(f"a[href='/referrals/{referral.pk}/slip/']").count() == 1
    assert page.locator("#form-send").count() == 0
    shot(page, "referral-sent")
    sign_out(page, base)

    # The clinic's staff finds it in the facility inbox …
    sign_in(page, base, "clinic_a")
    page.goto(f"{base}/referrals/")
    assert page.locator("#referrals li").count() == 1
    assert "Siti Rahmawati" not in page.content()
    shot(page, "facility-inbox")
    page.locator(f"#referrals a[href='/referrals/{referral.pk}/']").click()
    page.wait_for_url(f"{base}/referrals/{referral.pk}/")
    assert page.locator("#form-cancel").count() == 0
    shot(page, "facility-referral-sent")

    # … accepts it …
    submit(page, "#form-accept button[type=submit]")
    assert page.locator("#form-complete").count() == 1
    shot(page, "facility-referral-accepted")

    # … and closes it with its outcome; asking for no outcome first shows the error in place.
    submit(page, "#form-complete button[type=submit]")
    assert page.locator("#id_complete_outcome_error").is_visible()
    shot(page, "facility-referral-complete-error")
    page.check("#id_complete_result_0")
    page.fill("#id_complete_outcome", "Tes VCT dilakukan, konseling diberikan")
    submit(page, "#form-complete button[type=submit]")
    assert "alert-success" in page.content()
    assert page.locator("#h-actions").count() == 0
    assert page.locator("#events li").count() == 4  # draft, sent, accepted, completed
    shot(page, "facility-referral-completed")
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("completed", "Tes VCT dilakukan, konseling diberikan")
