"""The empowerment report for a period as of its end, the national view, and the client's
timeline. One site's story, dated back from today (D):

- P1 economic (KDS Sahabat), from D-60: client_a enrolled D-60, completed D-10 with a business
  and income <500k → 500k-1M; c2 enrolled D-60, dropped D-45; c3 enrolled D-5, ongoing;
  a session D-7 (2 family members);
- P2 anti-stigma (no group), from D-20: a session D-3 attended by client_a with 3 family
  members, 20 neighbours and 2 health workers.
"""

import csv
import datetime
import io
import json

import openpyxl
import pytest

from cases.arv import services as arv_services
from empowerment import services
from reports.national import clients_on_art
from tests.factories import make_client

from .conftest import site_today

REPORT = "/api/v1/reports/empowerment/"
NATIONAL = "/api/v1/reports/national/"


@pytest.fixture
def story(supervisor, worker, group_a1, client_a):
    d = site_today(supervisor.site)
    ago = lambda n: d - datetime.timedelta(days=n)  # noqa: E731
    early = {"consent_date": ago(90)}
    client_a.consent_date = ago(90)
    client_a.save(update_fields=["consent_date"])
    c2 = make_client(actor=supervisor, full_name="Nur Laila", date_of_birth=datetime.date(1985, 2, 3),
                     support_groups=[group_a1], assigned_social_worker=worker, **early)  # fmt: skip
    c3 = make_client(actor=supervisor, full_name="Yusuf Sangaji", date_of_birth=datetime.date(1979, 8, 9),
                     support_groups=[group_a1], assigned_social_worker=worker, **early)  # fmt: skip
    p1 = services.programme_create(
        actor=supervisor, site=supervisor.site, kind="economic", name="KUBE Sahabat", start_date=ago(60),
        support_group=group_a1, facilitator=worker,
    )  # fmt: skip
    e1 = services.enrolment_create(actor=supervisor, programme=p1, client=client_a, enrolled_on=ago(60),
                                   income_before="<500k")  # fmt: skip
    services.enrolment_update(actor=supervisor, enrolment=e1, outcome="completed", outcome_on=ago(10),
                              business_started=True, income_after="500k-1M", employed=False)  # fmt: skip
    e2 = services.enrolment_create(actor=supervisor, programme=p1, client=c2, enrolled_on=ago(60),
                                   income_before="none")  # fmt: skip
    services.enrolment_update(actor=supervisor, enrolment=e2, outcome="dropped", outcome_on=ago(45),
                              income_after="none")  # fmt: skip
    services.enrolment_create(actor=supervisor, programme=p1, client=c3, enrolled_on=ago(5))
    services.session_record(actor=supervisor, programme=p1, date=ago(7), topic="Pembukuan", attendees=[client_a],
                            others={"family": 2})  # fmt: skip
    p2 = services.programme_create(
        actor=supervisor, site=supervisor.site, kind="anti_stigma", name="Sosialisasi Kelurahan Gamalama",
        start_date=ago(20),
    )  # fmt: skip
    services.enrolment_create(actor=supervisor, programme=p2, client=client_a, enrolled_on=ago(20))
    services.session_record(actor=supervisor, programme=p2, date=ago(3), topic="Stop stigma", attendees=[client_a],
                            others={"family": 3, "community": 20, "health_workers": 2})  # fmt: skip
    return {"ago": ago, "c2": c2, "c3": c3, "p1": p1, "p2": p2}


def values(body):
    return {k: v["value"] for k, v in body.items() if isinstance(v, dict) and "value" in v}


def test_report_for_the_last_30_days(as_user, supervisor, story, django_assert_max_num_queries):
    ago = story["ago"]
    # the scope's site; programmes, sessions, enrolments, reached clients: one aggregate each
    with django_assert_max_num_queries(6):
        r = as_user(supervisor).get(REPORT, {"from": str(ago(30)), "to": str(ago(0))})
    assert r.status_code == 200, r.content
    body = r.json()
    assert values(body) == {
        "programmes": 2,
        "sessions": 2,
        "enrolled": 2,  # client_a and c3; c2 dropped before the period
        "completed": 1,
        "dropped": 0,
        "business_started": 1,
        "income_up": 1,
        "employed": 0,
        "reached_clients": 1,
        "reached_others": 25,  # the economic session's family members are not "reached"
    }
    assert body["reached_others_by_category"] == {"family": 3, "community": 20, "health_workers": 2}
    assert all(body[k]["definition"] for k in values(body))


def test_an_earlier_period_is_as_of_its_end(as_user, supervisor, story):
    ago = story["ago"]
    r = as_user(supervisor).get(REPORT, {"from": str(ago(60)), "to": str(ago(31))})
    assert values(r.json()) == {
        "programmes": 1,
        "sessions": 0,
        "enrolled": 2,  # client_a and c2; c3 came later
        "completed": 0,  # client_a completed after this period's end
        "dropped": 1,
        "business_started": 0,
        "income_up": 0,
        "employed": 0,
        "reached_clients": 0,
        "reached_others": 0,
    }


@pytest.mark.parametrize(
    "who, expected",
    [
        # the group's programme only, and the group's clients
        ("volunteer", {"programmes": 1, "sessions": 1, "enrolled": 2, "reached_clients": 0, "reached_others": 0}),
        # the site's programmes, but only their own caseload's clients (none)
        ("colleague", {"programmes": 2, "sessions": 2, "enrolled": 0, "reached_clients": 0, "reached_others": 25}),
        (
            "outsider_supervisor",
            {"programmes": 0, "sessions": 0, "enrolled": 0, "reached_clients": 0, "reached_others": 0},
        ),  # fmt: skip
    ],
)
def test_report_follows_the_callers_reach(request, as_user, story, who, expected):
    ago = story["ago"]
    r = as_user(request.getfixturevalue(who)).get(REPORT, {"from": str(ago(30)), "to": str(ago(0))})
    assert r.status_code == 200
    got = values(r.json())
    assert {k: got[k] for k in expected} == expected


def test_facility_staff_have_no_empowerment_report(as_user, facility_staff):
    assert as_user(facility_staff).get(REPORT).status_code == 403


def test_group_filter_narrows_to_the_groups_programmes(as_user, supervisor, story, group_a1, group_a2):
    ago = story["ago"]
    got = values(as_user(supervisor).get(REPORT, {"from": str(ago(30)), "group": group_a1.pk}).json())
    assert (got["programmes"], got["reached_others"]) == (1, 0)
    got = values(as_user(supervisor).get(REPORT, {"from": str(ago(30)), "group": group_a2.pk}).json())
    assert got["programmes"] == 0


def test_report_downloads(as_user, supervisor, story):
    ago = story["ago"]
    api = as_user(supervisor)
    r = api.get(REPORT, {"from": str(ago(30)), "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = {row[0]: row[1] for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")))}
    assert (rows["income_up"], rows["reached_others"], rows["reached_others:community"]) == ("1", "25", "20")
    r = api.get(REPORT, {"from": str(ago(30)), "format": "xlsx"})
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}["completed"] == 1


def test_bad_period_is_400(as_user, supervisor):
    r = as_user(supervisor).get(REPORT, {"from": "2026-12-01", "to": "2026-01-01"})
    assert r.status_code == 400 and "from" in r.json()


# --- national view ---------------------------------------------------------------------------------


def test_national_view_per_site_without_identities(
    as_user, admin_user, story, client_a, client_b, enrolment_b, facility_a, worker, django_assert_max_num_queries
):
    ago = story["ago"]
    arv_services.refill_record(actor=worker, client=client_a, facility=facility_a, pickup_date=ago(40),
                                days_supplied=30)  # fmt: skip
    # sites, in care, on ART, and the four empowerment aggregates
    with django_assert_max_num_queries(8):
        r = as_user(admin_user).get(NATIONAL, {"from": str(ago(30)), "to": str(ago(0))})
    assert r.status_code == 200, r.content
    rows = {row["code"]: row for row in r.json()["sites"]}
    assert set(rows) == {"TTE", "MKS"}
    tte, mks = rows["TTE"], rows["MKS"]
    assert (tte["clients"], tte["on_art"], tte["programmes"], tte["completed"], tte["reached_others"]) == (
        3,
        1,
        2,
        1,
        25,
    )
    assert (mks["clients"], mks["on_art"], mks["programmes"], mks["enrolled"]) == (1, 0, 1, 1)
    text = json.dumps(r.json())
    for client in (client_a, client_b, story["c2"], story["c3"]):
        assert client.code not in text and client.full_name not in text
    assert set(tte) == {"site", "code", "name", "clients", "on_art", "programmes", "sessions", "enrolled",
                        "completed", "dropped", "business_started", "income_up", "employed", "reached_clients",
                        "reached_others", "reached_others_by_category"}  # fmt: skip


@pytest.mark.parametrize("who", ["supervisor", "worker", "volunteer", "facility_staff", "outsider_supervisor"])
def test_national_view_is_for_admins_only(request, as_user, who):
    assert as_user(request.getfixturevalue(who)).get(NATIONAL).status_code == 403


def test_national_view_anonymous_is_401(api):
    assert api.get(NATIONAL).status_code == 401


def test_national_csv(as_user, admin_user, story):
    r = as_user(admin_user).get(NATIONAL, {"format": "csv"})
    assert r.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert header[:4] == ["code", "name", "clients", "on_art"]
    assert [row[0] for row in rows] == ["TTE"]


def test_clients_on_art_on_a_day(worker, client_a, client_b, facility_a, site_a):
    d = site_today(site_a)
    arv_services.refill_record(actor=worker, client=client_a, facility=facility_a,
                                pickup_date=d - datetime.timedelta(days=40), days_supplied=30)  # fmt: skip

    def on_art(day):  # sites with someone on ART (a site with none may answer 0 or be absent)
        return {site: n for site, n in clients_on_art(day).items() if n}

    assert on_art(d) == {site_a.pk: 1}
    assert on_art(d - datetime.timedelta(days=41)) == {}  # before the first refill
    # next due D-10; lost to follow-up from D+18 (28 days)
    assert on_art(d + datetime.timedelta(days=17)) == {site_a.pk: 1}
    assert on_art(d + datetime.timedelta(days=18)) == {}


# --- the client's timeline -----------------------------------------------------------------------


def test_timeline_shows_enrolments_and_sessions_attended(as_user, worker, colleague, client_a, story):
    r = as_user(worker).get(f"/api/v1/clients/{client_a.pk}/timeline/")
    assert r.status_code == 200
    events = r.json()["results"]
    enrolments = [e for e in events if e["type"] == "enrolment"]
    sessions = [e for e in events if e["type"] == "session"]
    assert {e["programme_name"] for e in enrolments} == {"KUBE Sahabat", "Sosialisasi Kelurahan Gamalama"}
    assert {e["outcome"] for e in enrolments} == {"completed", ""}
    assert {e["topic"] for e in sessions} == {"Pembukuan", "Stop stigma"}
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/timeline/").status_code == 404
