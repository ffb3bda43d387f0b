"""The browser flows (Playwright, Chromium) on a 360×740 phone screen against a live server.

Screenshots of every page visited go to artifacts/screenshots/ for a human look at the layout.
"""

import datetime
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone

from cases.arv import services as arv_services
from tests.factories import PASSWORD

playwright_api = pytest.importorskip("playwright.sync_api")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("BASODARA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
def browser_page(allow_sync_orm_under_playwright):
    if not os.path.exists(CHROMIUM):
        # bin/test installs Debian's Chromium when it can (root); CI always has it.
        message = f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set BASODARA_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
        # What the user would not see but the page does: any console error (a CSP refusal
        # is one), an uncaught exception, or a file of the page that failed to load. A page
        # the test opens on purpose to be refused (403/404) is not a failure; its files are.
        problems = []
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.error("
            "'CSP violation: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"
        )
        page = context.new_page()
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not m.text.startswith("Failed to load resource")  # reported with its URL below
                and problems.append(f"console error: {m.text}")
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and r.request.resource_type != "document"
                # A test that provokes a refusal on purpose names it in page.refusals_expected.
                and r.url not in getattr(page, "refusals_expected", ())
                and problems.append(f"{r.status} for {r.request.resource_type} {r.url}")
            ),
        )
        # A request cut short by the next navigation (ERR_ABORTED) is the browser's doing.
        page.on(
            "requestfailed",
            lambda r: (
                "ERR_ABORTED" not in (r.failure or "")
                and problems.append(f"failed: {r.resource_type} {r.url} {r.failure}")
            ),
        )
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()
        assert not problems, "the browser reported problems:\n" + "\n".join(problems)


def shot(page, name):
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, base, username):
    page.goto(f"{base}/login/")
    shot(page, "login")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}/")


@pytest.mark.django_db(transaction=True)
def test_worker_finds_late_client_and_records_visit(browser_page, live_server, worker, client_a, facility_a):
    page, base = browser_page, live_server.url
    arv_services.refill_record(
        actor=worker,
        client=client_a,
        facility=facility_a,
        pickup_date=timezone.localdate(timezone=client_a.site.tzinfo) - datetime.timedelta(days=40),
        days_supplied=30,
    )
    sign_in(page, base, "worker_a")
    shot(page, "today-worker")
    page.goto(f"{base}/clients/")
    page.select_option("#id_arv_state", "late")
    page.get_by_role("button", name=re.compile("Filter|Saring")).click()
    page.wait_for_url(re.compile(r"arv_state=late"))
    shot(page, "client-list-late")
    page.get_by_role("link", name=re.compile(client_a.code)).click()
    page.wait_for_url(f"{base}/clients/{client_a.pk}/")
    shot(page, "client-detail")
    page.locator(f"a[href='/clients/{client_a.pk}/visits/new/']").click()
    page.wait_for_url(f"{base}/clients/{client_a.pk}/visits/new/")
    page.select_option("#id_kind", "home_visit")
    page.fill("#id_plan", "Antar ke klinik minggu depan")
    shot(page, "visit-form")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/clients/{client_a.pk}/")
    timeline = page.locator("#timeline")
    assert timeline.locator("li").count() >= 2  # the visit and the refill
    assert "alert-success" in page.content()
    shot(page, "client-detail-after-visit")


@pytest.mark.django_db(transaction=True)
def test_supervisor_reassigns_and_former_worker_loses_access(
    browser_page, live_server, supervisor, worker, colleague, client_a
):
    page, base = browser_page, live_server.url
    sign_in(page, base, "supervisor_a")
    shot(page, "today-supervisor")
    page.goto(f"{base}/caseload/")
    shot(page, "caseload")
    page.goto(f"{base}/clients/{client_a.pk}/")
    page.select_option("#id_social_worker", str(colleague.pk))
    # Wait for the page the POST leads to: a click on the old page's menu would be lost.
    with page.expect_navigation():
        page.locator(f"form[action='/clients/{client_a.pk}/assign/'] button").click()
    assert "alert-success" in page.content()
    shot(page, "client-reassigned")
    page.locator(".navbar-toggler").click()  # the menu is collapsed on a phone
    page.locator("#nav-menu.show").wait_for()
    with page.expect_navigation():
        page.locator("form[action='/logout/'] button").click()
    page.wait_for_url(f"{base}/login/")
    sign_in(page, base, "worker_a")
    response = page.goto(f"{base}/clients/{client_a.pk}/")
    assert response.status == 404


@pytest.mark.django_db(transaction=True)
def test_language_switch_to_english(browser_page, live_server, worker, client_a):
    page, base = browser_page, live_server.url
    sign_in(page, base, "worker_a")
    page.goto(f"{base}/clients/")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("#id_status option[value=ltfu]").inner_text() == "Putus berobat (LTFU)"
    page.select_option("#language", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith("/clients/")
    assert page.locator("#id_status option[value=ltfu]").inner_text() == "Lost to follow-up"
    shot(page, "client-list-english")
    page.goto(f"{base}/incidents/")
    shot(page, "incidents")
    page.goto(f"{base}/notifications/")
    shot(page, "notifications")


@pytest.mark.django_db(transaction=True)
def test_emergency_access_then_supervisor_review(browser_page, live_server, colleague, supervisor, client_a):
    page, base = browser_page, live_server.url
    sign_in(page, base, "colleague_a")
    assert page.goto(f"{base}/clients/{client_a.pk}/").status == 404
    page.goto(f"{base}/clients/?q={client_a.code}")
    page.locator("a[href^='/emergency-access/']").click()
    page.wait_for_url(re.compile(r"/emergency-access/"))
    assert page.input_value("#id_code") == client_a.code
    page.fill("#id_reason", "Klien pingsan di rumah, pendamping tidak bisa dihubungi")
    shot(page, "emergency-access")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/clients/{client_a.pk}/")
    assert "alert-warning" in page.content()
    shot(page, "client-detail-emergency")
    page.locator(".navbar-toggler").click()
    page.locator("form[action='/logout/'] button").click()
    page.wait_for_url(f"{base}/login/")

    sign_in(page, base, "supervisor_a")
    page.goto(f"{base}/emergency-access/review/")
    assert "Klien pingsan di rumah" in page.content()
    shot(page, "emergency-access-review")
    page.goto(f"{base}/clients/{client_a.pk}/")
    page.locator(f"a[href='/clients/{client_a.pk}/access-log/']").click()
    page.wait_for_url(f"{base}/clients/{client_a.pk}/access-log/")
    assert page.locator("tbody tr").count() >= 2  # the emergency opening and the read after it
    shot(page, "access-log")
