"""The printable slip: service, urgency, the centre to call back, a print button the CSP allows."""

import datetime
import re

import pytest

from cases.models import Client, User
from referrals import services

from .browser_checks import console  # noqa: F401 (a fixture)
from .test_browser import browser_page, sign_in  # noqa: F401 (browser_page is a fixture)


@pytest.fixture
def urgent_referral(client_a, facility_a, worker):
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    client_a.refresh_from_db()
    User.objects.filter(pk=worker.pk).update(first_name="Rahma", last_name="Daud", phone="+6281240000099")
    worker.refresh_from_db()
    referral = services.referral_create(
        actor=worker,
        client=client_a,
        to_facility=facility_a,
        service="viral_load",
        reason="Perlu tes viral load",
        urgency="high",
        due_date=datetime.date.today() + datetime.timedelta(days=5),
    )
    return services.referral_transition(action="send", referral=referral, actor=worker)


@pytest.mark.django_db
def test_slip_shows_service_urgency_and_whom_to_call(page_as, worker, urgent_referral):
    page = page_as(worker).get(f"/referrals/{urgent_referral.pk}/slip/").content.decode()
    assert "Tes viral load" in page
    assert urgent_referral.get_urgency_display() in page
    centre = re.search(r'<dd class="col-7" id="slip-centre">(.*?)</dd>', page, flags=re.S).group(1)
    assert "Sentra Ternate" in centre and "Rahma Daud" in centre
    assert 'href="tel:+6281240000099"' in centre
    assert re.search(r'<button type="button" class="btn btn-primary w-100" data-print>', page)
    assert "onclick" not in page and "<style" not in page
    assert urgent_referral.reason not in page and urgent_referral.client.full_name not in page


@pytest.mark.django_db(transaction=True)
def test_print_button_prints_and_the_printout_is_the_slip_alone(browser_page, console, live_server, urgent_referral):  # noqa: F811
    page, base = browser_page, live_server.url
    page.add_init_script("window.print = function () { window.printed = (window.printed || 0) + 1; };")
    sign_in(page, base, "worker_a")
    page.goto(f"{base}/referrals/{urgent_referral.pk}/slip/")
    page.get_by_role("button", name=re.compile("Cetak|Print")).click()
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    assert page.locator("nav.navbar").is_hidden() and page.locator("[data-print]").is_hidden()
    assert page.locator("#slip-title").is_visible() and page.locator(".qr svg").is_visible()
