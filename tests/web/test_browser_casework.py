"""The cycle in a browser (Playwright, Chromium, a phone screen, a live server): a social
worker assesses a client by tapping scores, screen by screen, then ticks an action done; the
client page draws each domain's scores; the supervisor signs the review off. Every page is
watched for console errors and CSP violations. Screenshots go to artifacts/screenshots/."""

import datetime

import pytest
from django.utils import timezone

from casework import services
from casework.models import DOMAIN_GROUPS, Assessment, Review
from tests.casework.conftest import scores

from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)
from .test_browser_programmes import WATCH_CSP
from .test_browser_referrals import sign_out


@pytest.mark.django_db(transaction=True)
def test_assess_review_tick_and_sign_off(browser_page, live_server, supervisor, worker, volunteer, client_a):  # noqa: F811
    page, base = browser_page, live_server.url
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.add_init_script(WATCH_CSP)

    def check_page():
        problems.extend(f"CSP on {page.url}: {v}" for v in page.evaluate("window.__csp"))

    today = timezone.localdate(timezone=client_a.site.tzinfo)
    first = services.assessment_record(
        actor=worker, client=client_a, assessed_on=today - datetime.timedelta(days=95), scores=scores(arv_adherence=1)
    )
    plan = services.plan_create(actor=worker, client=client_a, started_on=first.assessed_on)
    goal = services.goal_create(actor=worker, plan=plan, domain="arv_adherence", description="Minum ARV teratur")
    action = services.action_create(
        actor=worker, goal=goal, description="Pasang alarm minum obat", owner=worker, due_date=today
    )

    sign_in(page, base, "worker_a")
    check_page()
    assert "Pasang alarm minum obat" in page.locator("#h-due-week").locator("..").inner_text()
    shot(page, "casework-today")
    page.goto(f"{base}/clients/{client_a.pk}/assessment/")
    check_page()
    for step, (_key, _label, domains) in enumerate(DOMAIN_GROUPS):
        for domain in domains:
            page.locator(f"label[for='id_score_{domain}_2']").click()  # "3 — some need", a thumb's tap
        if step == 0:
            shot(page, "casework-assessment-screen")
        if step == len(DOMAIN_GROUPS) - 1:
            page.fill("#id_review_note", "Kepatuhan membaik")
        with page.expect_navigation():
            page.locator("main button[type=submit]").click()
        check_page()
    assert page.url == f"{base}/clients/{client_a.pk}/"
    latest = Assessment.objects.latest("id")
    assert latest.kind == "review" and set(latest.scores.values()) == {3}
    # The chart: ARV adherence went from 1 to 3.
    row = page.locator("tr[data-domain='arv_adherence']")
    assert row.locator("circle").count() == 2
    assert row.locator("polyline").count() == 1
    assert "+2" in row.inner_text()
    shot(page, "casework-client-chart")

    page.goto(f"{base}/clients/{client_a.pk}/plan/")
    check_page()
    with page.expect_navigation():
        page.locator(f"form[action='/actions/{action.pk}/tick/'] button").click()
    check_page()
    action.refresh_from_db()
    assert action.status == "done"
    shot(page, "casework-plan")

    sign_out(page, base)
    sign_in(page, base, "supervisor_a")
    page.goto(f"{base}/reviews/")
    check_page()
    shot(page, "casework-review-queue")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    check_page()
    assert Review.objects.get().signed_off_by_id == supervisor.pk
    page.goto(f"{base}/caseload/")
    check_page()
    assert page.locator("#casework-domains").count() == 1
    assert not problems, problems
