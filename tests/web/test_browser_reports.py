"""The supervisor's figures in a browser (Playwright, Chromium, a phone screen, against a live
server): the cascade and indicator bars are drawn to scale (measured, not read from the
markup), a figure opens the clients behind it, and a worker records a dated outcome from the
client's page. The browser_page fixture fails on any console error or CSP refusal."""

import datetime
import re

import pytest
from django.utils import timezone

from cases.arv import services as arv_services
from tests.factories import make_client

from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _drawn_percent(svg):
    """The share of its track the bar covers, as laid out on the screen."""
    track = svg.locator("rect.track").bounding_box()
    bar = svg.locator("rect.bar").bounding_box()
    return 100 * bar["width"] / track["width"]


@pytest.fixture
def cohort(supervisor, worker, facility_a, site_a):
    """Six clients of the worker: four on ART (one of them on 90-day refills, one with a
    suppressed result), one lost to follow-up, one with no refill yet."""
    today = timezone.localdate(timezone=site_a.tzinfo)
    days = datetime.timedelta
    clients = [
        make_client(
            actor=supervisor,
            full_name=f"Klien {n}",
            nickname=f"K{n}",
            assigned_social_worker=worker,
            art_start_date=datetime.date(2024, 1, 1),
            consent_date=datetime.date(2025, 1, 1),
        )  # fmt: skip
        for n in range(6)
    ]
    for client, (ago, supply) in zip(clients, [(5, 30), (10, 90), (20, 30), (25, 30), (90, 30)], strict=False):
        arv_services.refill_record(
            actor=worker, client=client, facility=facility_a, pickup_date=today - days(ago), days_supplied=supply
        )
    arv_services.viral_load_record(actor=worker, client=clients[0], sample_date=today - days(3), copies_per_ml=40)
    return clients


def test_the_bars_follow_the_figures_and_open_the_clients_behind_them(browser_page, live_server, supervisor, cohort):  # noqa: F811
    page, base = browser_page, live_server.url
    sign_in(page, base, "supervisor_a")
    page.goto(f"{base}/caseload/")
    shot(page, "caseload-figures")
    stages = page.locator("#cascade li")
    drawn = {}
    for i in range(stages.count()):
        stage = stages.nth(i)
        percent = float(stage.get_attribute("data-percent"))
        measured = _drawn_percent(stage.locator("svg.figure-bar"))
        assert abs(measured - percent) < 1, (stage.get_attribute("data-key"), percent, measured)
        drawn[stage.get_attribute("data-key")] = measured
    # In care 6, on ART 4 (67 %), supplied 4, VL tested 1 (17 %): not every bar is full.
    assert round(drawn["registered"]) == 100 and round(drawn["on_art"]) == 67 and round(drawn["vl_tested"]) == 17

    rows = page.locator("#indicators li")
    assert rows.count() == 6
    measured_any = False
    for i in range(rows.count()):
        row = rows.nth(i)
        percent = row.get_attribute("data-percent")
        if percent:
            assert abs(_drawn_percent(row.locator("svg.figure-bar")) - float(percent)) < 1, row.get_attribute("data-id")
            measured_any = True
    assert measured_any
    dsd = page.locator("#indicators li[data-id='HIV.IND.53']")
    assert float(dsd.get_attribute("data-percent")) == 25.0  # one of the four on 90 days

    # ART.1's numerator opens the four clients on ART: codes and nicknames.
    page.locator("#indicators li[data-id='HIV.IND.27'] a").first.click()
    page.wait_for_url(re.compile(r"/caseload/indicators/HIV\.IND\.27/"))
    shot(page, "indicator-clients")
    listed = page.locator("#indicator-clients li").all_inner_texts()
    assert sorted(text.split(" · ")[0] for text in listed) == sorted(c.code for c in cohort[:4])


def test_a_worker_records_a_death_from_the_client_page(browser_page, live_server, worker, cohort):  # noqa: F811
    page, base = browser_page, live_server.url
    client = cohort[4]
    sign_in(page, base, "worker_a")
    page.goto(f"{base}/clients/{client.pk}/")
    page.locator(f"main a[href='/clients/{client.pk}/status/']").click()
    page.wait_for_url(f"{base}/clients/{client.pk}/status/")
    page.select_option("#id_status", "deceased")
    page.locator("main form button[type=submit]").click()  # no reason yet: a friendly error
    assert page.locator(".invalid-feedback").count() >= 1
    page.fill("#id_reason", "Kabar dari keluarga")
    shot(page, "status-form")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/clients/{client.pk}/")
    assert "alert-success" in page.content()
    assert "Kabar dari keluarga" in page.locator("#timeline").inner_text()
    client.refresh_from_db()
    assert client.status == "deceased"
