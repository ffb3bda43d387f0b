"""Empowerment in a browser (Playwright, Chromium, a phone screen, against a live server): a
volunteer takes attendance by tapping a name and typing counts; the supervisor sees the
figures move. Every page is watched for console errors and CSP violations (style-src
'self': no inline style may slip in). Screenshots go to artifacts/screenshots/."""

import datetime

import pytest
from django.utils import timezone

from empowerment import services
from empowerment.models import ProgrammeSession

from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)
from .test_browser_referrals import sign_out

# Every page reports its CSP violations where the test can read them.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.mark.django_db(transaction=True)
def test_volunteer_takes_attendance_and_supervisor_sees_it(
    browser_page,  # noqa: F811
    live_server,
    supervisor,
    worker,
    volunteer,
    group_a1,
    client_a,
):
    page, base = browser_page, live_server.url
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.add_init_script(WATCH_CSP)

    def check_page():
        problems.extend(f"CSP on {page.url}: {v}" for v in page.evaluate("window.__csp"))

    today = timezone.localdate(timezone=client_a.site.tzinfo)
    programme = services.programme_create(
        actor=supervisor, site=client_a.site, kind="economic", name="KUBE Ikan Asap", support_group=group_a1,
        start_date=today - datetime.timedelta(days=30), facilitator=volunteer,
    )  # fmt: skip
    services.enrolment_create(actor=supervisor, programme=programme, client=client_a, enrolled_on=today)

    sign_in(page, base, "volunteer_a1")
    check_page()
    page.goto(f"{base}/programmes/")
    check_page()
    shot(page, "programmes-volunteer")
    page.locator(f"a[href='/programmes/{programme.pk}/']").click()
    page.wait_for_url(f"{base}/programmes/{programme.pk}/")
    check_page()
    page.locator(f"a[href='/programmes/{programme.pk}/sessions/new/']").click()
    page.wait_for_url(f"{base}/programmes/{programme.pk}/sessions/new/")
    check_page()
    page.fill("#id_topic", "Pengasapan ikan")
    page.locator("label.attendee", has_text="Siti").click()  # tap the name
    assert page.locator(f"input[name=attendees][value='{client_a.pk}']").is_checked()
    page.fill("#id_others_family", "3")
    page.fill("#id_others_community", "12")
    shot(page, "attendance-form")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert page.url == f"{base}/programmes/{programme.pk}/"
    check_page()
    shot(page, "programme-detail")
    session = ProgrammeSession.objects.get(topic="Pengasapan ikan")
    assert list(session.attendees.values_list("pk", flat=True)) == [client_a.pk]
    assert session.others == {"family": 3, "community": 12, "health_workers": 0}
    assert "Pengasapan ikan" in page.locator("#sessions").inner_text()

    sign_out(page, base)
    sign_in(page, base, "supervisor_a")
    page.goto(f"{base}/programmes/")
    check_page()
    shot(page, "programmes-supervisor")
    assert page.locator("[data-figure=sessions]").inner_text() == "1"
    assert page.locator("[data-figure=enrolled]").inner_text() == "1"
    page.goto(f"{base}/caseload/")
    check_page()
    assert page.locator("#empowerment-figures [data-figure=sessions]").inner_text() == "1"
    assert page.locator("#cascade svg.figure-bar").count() == 5
    assert not problems, problems


@pytest.mark.django_db(transaction=True)
def test_admin_national_view_has_no_console_errors(browser_page, live_server, admin_user, client_a):  # noqa: F811
    page, base = browser_page, live_server.url
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.add_init_script(WATCH_CSP)
    sign_in(page, base, "admin")
    page.goto(f"{base}/national/")
    shot(page, "national")
    assert page.locator("tr[data-site=TTE] td").first.inner_text() == "1"  # client_a in care
    problems.extend(page.evaluate("window.__csp"))
    assert not problems, problems
