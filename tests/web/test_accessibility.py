"""Accessibility: axe-core (vendored under tests/vendor/) finds no serious or critical
violation on any main page, as each role, in Chromium on a phone-sized screen."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as DjangoClient

from referrals import services as referral_services

from .test_browser import browser_page  # noqa: F401 (a fixture)
from .test_browser_offline import prepare_offline

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PAGES = (
    "/",
    "/clients/",
    "/clients/{client}/",
    "/clients/{client}/edit/",
    "/clients/{client}/visits/new/",
    "/clients/{client}/refills/new/",
    "/clients/{client}/access-log/",
    "/referrals/",
    "/referrals/new/",
    "/referrals/{referral}/",
    "/incidents/",
    "/incidents/new/",
    "/notifications/",
    "/caseload/",
    "/programmes/",
    "/national/",
    "/emergency-access/review/",
    "/offline/",
)
PUBLIC_PAGES = ("/", "/login/", "/offline/")

# The violations axe reports, as short lines (rule, impact, the first elements it names).
RUN_AXE = """() => axe.run(document, {resultTypes: ['violations']}).then(result => result.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '
             + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""


def violations(page):
    # Colours are checked as they settle, not halfway through a transition.
    page.emulate_media(reduced_motion="reduce")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # through DevTools, which the page's CSP does not govern
    return page.evaluate(RUN_AXE)


def sign_in_by_cookie(page, base, user):
    django_client = DjangoClient()
    django_client.force_login(user)
    cookie = django_client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])


@pytest.fixture
def referral(worker, late_client, facility_a):
    return referral_services.referral_create(
        actor=worker, client=late_client, to_facility=facility_a, service="art_refill", reason="Kontrol ARV"
    )


def check_pages(page, base, paths):
    found, seen = {}, 0
    for path in paths:
        response = page.goto(f"{base}{path}")
        if response.status != 200:
            continue  # a page this role may not open
        seen += 1
        problems = violations(page)
        if problems:
            found[path] = problems
    return seen, found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", [None, "worker", "volunteer", "supervisor", "facility_staff", "admin_user"])
def test_no_serious_violation_on_any_main_page(request, browser_page, live_server, persona, late_client, referral):  # noqa: F811
    page, base = browser_page, live_server.url
    if persona is None:
        paths = PUBLIC_PAGES
    else:
        sign_in_by_cookie(page, base, request.getfixturevalue(persona))
        ids = {"client": late_client.pk, "referral": referral.pk}
        paths = [path.format(**ids) for path in PAGES]
    seen, found = check_pages(page, base, paths)
    print(f"\naxe, {persona or 'anonymous'}: {seen} pages checked")
    assert seen >= 3
    assert not found, "\n".join(f"{path}: {problem}" for path, problems in found.items() for problem in problems)


@pytest.mark.django_db(transaction=True)
def test_no_serious_violation_in_the_offline_app(browser_page, live_server, worker, late_client):  # noqa: F811
    page, base = browser_page, live_server.url
    prepare_offline(page, base, "worker_a")
    page.context.set_offline(True)
    found = {}
    for view in (
        "today",
        "caseload",
        f"client/{late_client.pk}",
        f"visit/{late_client.pk}",
        f"refill/{late_client.pk}",
        f"attempt/{late_client.pk}",
        "outbox",
    ):
        page.goto(f"{base}/offline/#{view}")
        page.locator("#view-app").wait_for()
        problems = violations(page)
        if problems:
            found[view] = problems
    assert not found, "\n".join(f"#{view}: {problem}" for view, problems in found.items() for problem in problems)
