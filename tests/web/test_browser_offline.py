"""The field app without signal (SPEC §12.6), in Chromium with the network cut."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases import outbox, services
from cases.models import Refill, Tracing, TracingAttempt
from outreach.models import HomeVisit

from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)

PIN = "2468"
STORE = "basodara-field"


def store_exists(page):
    return page.evaluate(f"indexedDB.databases().then(dbs => dbs.some(d => d.name === '{STORE}'))")


def prepare_offline(page, base, username):
    """Sign in, let the service worker install, and keep the caseload under a PIN."""
    sign_in(page, base, username)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    assert not store_exists(page)  # nothing is kept before the worker chooses a PIN
    page.goto(f"{base}/offline/")
    page.fill("#setup-pin", PIN)
    page.fill("#setup-pin2", PIN)
    page.locator("#setup-form button[type=submit]").click()
    page.locator("#view-today").wait_for()
    assert store_exists(page)


def record_visit_offline(page, base, client, plan):
    page.context.set_offline(True)
    page.goto(f"{base}/clients/{client.pk}/visits/new/")  # answered by the service worker
    page.locator("#visit-form").wait_for()
    assert page.locator("#network-state").inner_text() in ("Offline", "Luring", "Tanpa sinyal")
    page.select_option("#visit-kind", "home_visit")
    page.fill("#visit-plan", plan)
    page.locator("#visit-form button[type=submit]").click()
    page.locator("#view-outbox .outbox-entry").first.wait_for()


def waiting(page):
    return page.locator("#outbox-list .outbox-entry").count()


@pytest.mark.django_db(transaction=True)
def test_visit_recorded_offline_is_kept_and_sent_once_when_the_network_returns(
    browser_page,  # noqa: F811
    live_server,
    worker,
    client_a,
):
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    record_visit_offline(page, base, client_a, "Antar ke klinik")
    shot(page, "offline-outbox")
    page.reload()  # still offline: the shell again, the entry still there
    page.locator("#view-outbox .outbox-entry").first.wait_for()
    assert waiting(page) == 1 and page.locator("#outbox-count").inner_text() == "1"
    shown = page.locator(".outbox-content").inner_text()
    # As typed, in the form's own words: labels and choice names, not field names or codes.
    assert "Rencana: Antar ke klinik" in shown
    assert "home_visit" not in shown and "visited_at" not in shown and "client:" not in shown
    assert not HomeVisit.objects.exists()

    page.context.set_offline(False)  # the 'online' event sends the outbox
    expect(page.locator("#outbox-count")).to_have_text("0")
    assert waiting(page) == 0
    [visit] = HomeVisit.objects.filter(client=client_a)
    assert (visit.plan, visit.visitor) == ("Antar ke klinik", worker)


@pytest.mark.django_db(transaction=True)
def test_an_entry_sent_twice_is_recorded_once(browser_page, live_server, worker, client_a):  # noqa: F811
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    record_visit_offline(page, base, client_a, "Sekali saja")
    page.context.set_offline(False)
    # The first send reached the server but its answer was lost: the phone sends it again
    # with the same key and is answered with the original response.
    first = page.evaluate(
        """BasodaraStore.outbox().then(rows => fetch(rows[0].entry.url, {method: 'POST',
             headers: {'Content-Type': 'application/json', 'Idempotency-Key': rows[0].key,
                       'X-CSRFToken': document.cookie.match(/csrftoken=([^;]+)/)[1]},
             body: JSON.stringify(rows[0].entry.body)}).then(r => r.status))"""
    )
    assert first == 201
    page.locator("#sync-now").click()
    expect(page.locator("#outbox-count")).to_have_text("0")
    assert HomeVisit.objects.filter(client=client_a).count() == 1


@pytest.mark.django_db(transaction=True)
def test_client_reassigned_while_offline_refuses_the_entry_and_shows_it(
    browser_page,  # noqa: F811
    live_server,
    supervisor,
    worker,
    colleague,
    client_a,
):
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    record_visit_offline(page, base, client_a, "Catatan penting")
    services.client_assign(actor=supervisor, client=client_a, social_worker=colleague)
    page.refusals_expected = {f"{base}/api/v1/visits/"}
    page.context.set_offline(False)
    refused = page.locator(".outbox-entry[data-state=refused]")
    refused.wait_for()
    shot(page, "offline-refused")
    assert "Catatan penting" in refused.locator(".outbox-content").inner_text()
    assert refused.locator(".outbox-reason").inner_text()
    assert page.locator("#outbox-count").inner_text() == "1"
    assert not HomeVisit.objects.exists()
    refused.get_by_role("button", name=re.compile("Buang|Discard")).click()
    expect(page.locator("#outbox-count")).to_have_text("0")
    assert waiting(page) == 0


@pytest.mark.django_db(transaction=True)
def test_sign_out_wipes_the_store(browser_page, live_server, worker, client_a):  # noqa: F811
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    page.goto(f"{base}/")
    page.locator(".navbar-toggler").click()
    page.locator("#nav-menu.show").wait_for()
    with page.expect_navigation():
        page.locator("form[action='/logout/'] button").click()
    page.wait_for_url(f"{base}/login/")
    assert not store_exists(page)
    assert page.evaluate("sessionStorage.getItem('basodara-field-key')") is None


@pytest.mark.django_db(transaction=True)
def test_five_wrong_pins_wipe_the_store(browser_page, live_server, worker, client_a):  # noqa: F811
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    page.evaluate("BasodaraStore.lock()")  # as a new session of the app would start
    page.context.set_offline(True)
    page.goto(f"{base}/clients/")
    page.locator("#view-unlock").wait_for()
    page.fill("#unlock-pin", PIN)  # the right PIN opens it
    page.locator("#unlock-form button[type=submit]").click()
    page.locator("#view-caseload").wait_for()
    assert client_a.code in page.locator("#view-caseload").inner_text()
    page.evaluate("BasodaraStore.lock()")
    page.reload()
    for left in (4, 3, 2, 1):
        page.fill("#unlock-pin", "0000")
        page.locator("#unlock-form button[type=submit]").click()
        expect(page.locator("#unlock-error")).to_have_text(re.compile(f" {left}$"))
    page.fill("#unlock-pin", "0000")
    page.locator("#unlock-form button[type=submit]").click()
    page.locator("#view-wiped").wait_for()
    shot(page, "offline-wiped")
    assert not store_exists(page)


@pytest.mark.django_db(transaction=True)
def test_days_without_sync_wipe_the_store(browser_page, live_server, worker, client_a):  # noqa: F811
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    page.context.set_offline(True)
    page.evaluate(
        f"""idb.openDB('{STORE}').then(db => db.put('meta', Date.now() - 8 * 86400000, 'last_sync')
             .then(() => db.close()))"""
    )
    page.goto(f"{base}/")
    page.locator("#view-wiped").wait_for()
    assert not store_exists(page)


@pytest.mark.django_db(transaction=True)
def test_signal_lost_on_the_visit_page_keeps_what_was_typed(browser_page, live_server, worker, client_a):  # noqa: F811
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    page.goto(f"{base}/clients/{client_a.pk}/visits/new/")  # the server's form, with signal
    page.select_option("#id_kind", "home_visit")
    page.fill("#id_plan", "Diketik sebelum sinyal hilang")
    # The site's clock, whatever the phone's: an hour ago there.
    at_site = (timezone.localtime(timezone=client_a.site.tzinfo) - datetime.timedelta(hours=1)).replace(
        second=0, microsecond=0
    )
    page.fill("#id_visited_at", at_site.strftime("%Y-%m-%dT%H:%M"))
    page.context.set_offline(True)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/offline/#outbox")
    entry = page.locator(".outbox-entry")
    entry.wait_for()
    assert "Diketik sebelum sinyal hilang" in entry.locator(".outbox-content").inner_text()
    assert not HomeVisit.objects.exists()
    page.context.set_offline(False)
    expect(page.locator("#outbox-count")).to_have_text("0")
    [visit] = HomeVisit.objects.filter(client=client_a)
    assert (visit.plan, visit.kind, visit.visitor) == ("Diketik sebelum sinyal hilang", "home_visit", worker)
    assert visit.visited_at == at_site


@pytest.mark.django_db(transaction=True)
def test_refill_and_tracing_attempt_recorded_offline_are_sent_in_order(
    browser_page,  # noqa: F811
    live_server,
    worker,
    late_client,
    facility_a,
):
    outbox.run_all()  # ten days late: a tracing task is open
    tracing = Tracing.objects.get(client=late_client, status="open")
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    page.context.set_offline(True)
    page.goto(f"{base}/")
    page.locator("#today-tracing").get_by_role("link", name=re.compile(late_client.code)).click()
    page.locator("#client-attempt").click()
    page.select_option("#attempt-method", "phone")
    page.select_option("#attempt-outcome", "reached")
    page.fill("#attempt-note", "Sudah dihubungi")
    page.locator("#attempt-form button[type=submit]").click()
    expect(page.locator("#outbox-count")).to_have_text("1")
    page.goto(f"{base}/clients/{late_client.pk}/refills/new/")
    page.select_option("#refill-facility", str(facility_a.pk))
    page.fill("#refill-days", "60")
    pickup = datetime.date.fromisoformat(page.input_value("#refill-date"))  # the phone's today
    page.locator("#refill-form button[type=submit]").click()
    expect(page.locator("#outbox-count")).to_have_text("2")
    assert page.locator(".outbox-entry").count() == 2
    page.context.set_offline(False)
    expect(page.locator("#outbox-count")).to_have_text("0")
    attempt = TracingAttempt.objects.get(tracing=tracing, note="Sudah dihubungi")
    refill = Refill.objects.get(client=late_client, days_supplied=60)
    assert (attempt.made_by, attempt.method, attempt.outcome) == (worker, "phone", "reached")
    assert (refill.facility, refill.pickup_date) == (facility_a, pickup)
    assert attempt.made_at < refill.created_at  # sent in the order they were recorded
