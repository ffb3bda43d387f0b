"""reports/casework/: plans, reviews on time, domains improved, closures — as of the period's end."""

import datetime

import pytest

from casework import services
from casework.reminders import months_after

from .conftest import scores, site_today

pytestmark = pytest.mark.django_db


def _get(api, **params):
    r = api.get("/api/v1/reports/casework/", params)
    assert r.status_code == 200, r.content
    return r.json()


def _domains(report):
    return {d["domain"]: (d["improved"], d["same"], d["worse"]) for d in report["domains_improved"]["domains"]}


def test_plans_late_review_and_domains(as_user, supervisor, plan_a, reassessment_a, client_b, assessment_b):
    report = _get(as_user(supervisor))
    assert report["open_cases"]["value"] == 1  # client_a; client_b is another site's
    assert (report["with_current_plan"]["value"], report["with_current_plan"]["n"]) == (1, 1)
    # Assessed 100 days ago, due 3 months later (in the period), reassessed 5 days ago: late.
    assert (report["reviews_on_time"]["value"], report["reviews_on_time"]["n"]) == (0, 1)
    assert report["domains_improved"]["n"] == 1
    domains = _domains(report)
    assert domains["arv_adherence"] == (1, 0, 0) and domains["economic"] == (1, 0, 0)
    assert domains["legal"] == (0, 1, 0)
    assert all(report[k]["definition"] for k in ("open_cases", "with_current_plan", "reviews_on_time"))


def test_review_before_its_due_date_is_on_time(as_user, supervisor, worker, client_a, assessment_a):
    due = months_after(assessment_a.assessed_on, client_a.site.review_months)
    services.assessment_record(
        actor=worker, client=client_a, assessed_on=due - datetime.timedelta(days=2), scores=scores(arv_adherence=1)
    )
    report = _get(
        as_user(supervisor), **{"from": (due - datetime.timedelta(days=5)).isoformat(), "to": due.isoformat()}
    )
    assert (report["reviews_on_time"]["value"], report["reviews_on_time"]["n"]) == (1, 1)
    assert _domains(report)["arv_adherence"] == (0, 1, 0)


def test_figures_are_as_of_the_periods_end(as_user, supervisor, worker, plan_a, reassessment_a, client_a):
    today = site_today(client_a.site)
    services.client_close(actor=worker, client=client_a, reason="goals_met", closed_on=today)
    report = _get(as_user(supervisor))
    assert report["open_cases"]["value"] == 0
    assert report["closures"]["value"] == 1 and report["closures"]["by_reason"]["goals_met"] == 1
    # Two months ago: open, its plan running, not yet reassessed, nothing closed.
    then = today - datetime.timedelta(days=60)
    past = _get(
        as_user(supervisor), **{"from": (then - datetime.timedelta(days=29)).isoformat(), "to": then.isoformat()}
    )
    assert (past["open_cases"]["value"], past["with_current_plan"]["value"]) == (1, 1)
    assert past["domains_improved"]["n"] == 0 and past["closures"]["value"] == 0
    services.client_reopen(actor=worker, client=client_a, note="Kembali")
    report = _get(as_user(supervisor))
    assert report["reopened"]["value"] == 1 and report["open_cases"]["value"] == 1
    assert report["with_current_plan"]["value"] == 0  # closing ended the plan


@pytest.mark.parametrize(
    "persona, status",
    [("worker", 200), ("admin_user", 200), ("volunteer", 403), ("facility_staff", 403), ("colleague", 200)],
)
def test_who_sees_it(request, as_user, persona, status, plan_a):
    r = as_user(request.getfixturevalue(persona)).get("/api/v1/reports/casework/")
    assert r.status_code == status
    if persona == "colleague":
        assert r.json()["open_cases"]["value"] == 0  # not their caseload


def test_csv_download(as_user, supervisor, plan_a):
    r = as_user(supervisor).get("/api/v1/reports/casework/", {"format": "csv"})
    assert r.status_code == 200 and b"with_current_plan" in r.content


def test_caseload_page_shows_the_figures(supervisor, plan_a, client):
    client.force_login(supervisor)
    body = client.get("/caseload/").content.decode()
    assert 'data-figure="with_current_plan">1 (100%)' in body
    assert 'id="casework-domains"' in body
