"""Overdue (SPEC §5, §6), the client-row figure, the list's query budget and the report."""

import datetime

import pytest
from django.utils import timezone

from cases import outbox
from cases.models import Notification, NotificationKind
from referrals.models import Referral, ReferralStatus

S = ReferralStatus
URL = "/api/v1/referrals/"


def days_ago(n):
    return timezone.now() - datetime.timedelta(days=n)


def test_overdue_on_rows(as_user, worker, make_referral, sharing_client_a, facility_a):
    fresh = make_referral(client=sharing_client_a, facility=facility_a, status=S.SENT)
    waiting = make_referral(client=sharing_client_a, facility=facility_a, status=S.SENT)
    late = make_referral(client=sharing_client_a, facility=facility_a, status=S.ACCEPTED)
    on_time = make_referral(client=sharing_client_a, facility=facility_a, status=S.ACCEPTED)
    Referral.objects.filter(pk=waiting.pk).update(sent_at=days_ago(4))
    Referral.objects.filter(pk=late.pk).update(due_date=datetime.date(2020, 1, 1))
    Referral.objects.filter(pk=on_time.pk).update(due_date=datetime.date.today() + datetime.timedelta(days=9))
    rows = {r["id"]: r["overdue"] for r in as_user(worker).get(URL).data["results"]}
    assert rows == {fresh.pk: False, waiting.pk: True, late.pk: True, on_time.pk: False}
    overdue = {r["id"] for r in as_user(worker).get(f"{URL}?overdue=true").data["results"]}
    assert overdue == {waiting.pk, late.pk}


def test_overdue_notifies_the_sender_once(worker, make_referral, sharing_client_a, facility_a):
    waiting = make_referral(client=sharing_client_a, facility=facility_a, status=S.SENT)
    make_referral(client=sharing_client_a, facility=facility_a, status=S.SENT)  # sent just now
    Referral.objects.filter(pk=waiting.pk).update(sent_at=days_ago(4))
    first = outbox.run_all()
    assert first[NotificationKind.REFERRAL_OVERDUE] == 1
    assert outbox.run_all()[NotificationKind.REFERRAL_OVERDUE] == 0
    note = Notification.objects.get(kind=NotificationKind.REFERRAL_OVERDUE)
    assert (note.subject_type, note.subject_id, note.recipient_user_id) == ("referrals.referral", waiting.pk, worker.pk)
    text = outbox.render(note)
    assert sharing_client_a.code in text
    assert "Siti" not in text and facility_a.name not in text


def test_overdue_scan_follows_the_given_day(worker, make_referral, sharing_client_a, facility_a):
    referral = make_referral(client=sharing_client_a, facility=facility_a, status=S.SENT)
    today = timezone.localdate(timezone=sharing_client_a.site.tzinfo)
    assert outbox.run_all(today=today + datetime.timedelta(days=2))[NotificationKind.REFERRAL_OVERDUE] == 0
    assert outbox.run_all(today=today + datetime.timedelta(days=4))[NotificationKind.REFERRAL_OVERDUE] == 1
    assert Notification.objects.get().subject_id == referral.pk


def test_open_referrals_on_client_rows(as_user, supervisor, make_referral, sharing_client_a, client_b, facility_a):
    for status in (S.DRAFT, S.SENT, S.ACCEPTED, S.DECLINED, S.COMPLETED, S.CANCELLED):
        make_referral(client=sharing_client_a, facility=facility_a, status=status)
    rows = {r["code"]: r["open_referrals"] for r in as_user(supervisor).get("/api/v1/clients/").data["results"]}
    assert rows == {sharing_client_a.code: 3}
    detail = as_user(supervisor).get(f"/api/v1/clients/{sharing_client_a.pk}/").data
    assert detail["open_referrals"] == 3


def test_client_without_referrals_has_zero(as_user, outsider_supervisor, client_b):
    rows = as_user(outsider_supervisor).get("/api/v1/clients/").data["results"]
    assert [r["open_referrals"] for r in rows] == [0]


@pytest.mark.parametrize("persona", ["supervisor", "worker", "facility_staff"])
def test_list_query_budget_does_not_grow(
    request, as_user, django_assert_max_num_queries, make_referral, sharing_client_a, facility_a, persona
):
    api = as_user(request.getfixturevalue(persona))
    for rows in (5, 50):
        while Referral.objects.count() < rows:
            make_referral(client=sharing_client_a, facility=facility_a, status=S.SENT)
        # the sites' time zones (cached, at most once), count, the page of rows (with
        # client and overdue), their events, the access log's insert for their clients
        with django_assert_max_num_queries(5):
            response = api.get(f"{URL}?page_size=50")
        assert len(response.data["results"]) == rows


# --- the report ------------------------------------------------------------------------------------

REPORT = "/api/v1/reports/referrals/"


@pytest.fixture
def report_world(make_referral, sharing_client_a, facility_a, centre):
    """Six referrals of site A with hand-set times; figures computed by hand below."""
    now = timezone.now()

    def at(days, hours=0):
        return now - datetime.timedelta(days=days, hours=hours)

    made = {}
    # completed: sent 10 days ago, accepted 1 day later, completed 2 days after that
    made["c1"] = make_referral(client=sharing_client_a, facility=facility_a, status=S.COMPLETED)
    Referral.objects.filter(pk=made["c1"].pk).update(sent_at=at(10), accepted_at=at(9), closed_at=at(7))
    # completed: sent 10 days ago, accepted 3 days later, completed 4 days after that
    made["c2"] = make_referral(client=sharing_client_a, facility=facility_a, status=S.COMPLETED)
    Referral.objects.filter(pk=made["c2"].pk).update(sent_at=at(10), accepted_at=at(7), closed_at=at(3))
    made["nc"] = make_referral(client=sharing_client_a, facility=facility_a, status=S.NOT_COMPLETED)
    Referral.objects.filter(pk=made["nc"].pk).update(sent_at=at(6), accepted_at=at(4), closed_at=at(1))
    made["declined"] = make_referral(client=sharing_client_a, facility=facility_a, status=S.DECLINED)
    # overdue: sent 5 days ago, never accepted (clinic, vct)
    made["waiting"] = make_referral(client=sharing_client_a, facility=facility_a, status=S.SENT)
    Referral.objects.filter(pk=made["waiting"].pk).update(sent_at=at(5))
    # overdue: accepted, due date passed (centre, counselling)
    made["late"] = make_referral(client=sharing_client_a, facility=centre, status=S.ACCEPTED, service="counselling")
    Referral.objects.filter(pk=made["late"].pk).update(
        due_date=datetime.date(2020, 1, 1), sent_at=at(3), accepted_at=at(1)
    )
    made["draft"] = make_referral(client=sharing_client_a, facility=centre, service="counselling")
    return made


def test_report_figures(as_user, supervisor, report_world, facility_a, centre, settings):
    response = as_user(supervisor).get(REPORT)
    assert response.status_code == 200, response.data
    data = response.data
    assert data["site"] == supervisor.site_id
    assert data["total"] == 7
    assert data["by_status"] == {
        "draft": 1,
        "sent": 1,
        "accepted": 1,
        "declined": 1,
        "completed": 2,
        "not_completed": 1,
        "cancelled": 0,
    }
    # 2 completed of 2 + 1 + 1 closed by the facilities
    assert data["completion_rate"]["value"] == 0.5
    assert data["completion_rate"]["n"] == 4
    assert "declined" in data["completion_rate"]["definition"]
    # sent→accepted over the accepted: c1 1 day, c2 3, nc 2, late 2 → median 2
    assert data["median_days_sent_to_accepted"]["value"] == 2.0
    assert data["median_days_sent_to_accepted"]["n"] == 4
    # accepted→completed over the completed only: c1 2 days, c2 4 days
    assert data["median_days_accepted_to_completed"] == {
        "value": 3.0,
        "n": 2,
        "definition": data["median_days_accepted_to_completed"]["definition"],
    }
    assert data["overdue_by_facility"] == [
        {"facility": centre.pk, "name": centre.name, "count": 1},
        {"facility": facility_a.pk, "name": facility_a.name, "count": 1},
    ] or data["overdue_by_facility"] == [
        {"facility": facility_a.pk, "name": facility_a.name, "count": 1},
        {"facility": centre.pk, "name": centre.name, "count": 1},
    ]
    assert data["overdue_by_service"] == [{"service": "counselling", "count": 1}, {"service": "vct", "count": 1}]


def test_report_for_facility_staff_is_their_facility(as_user, facility_staff, report_world, settings):
    data = as_user(facility_staff).get(REPORT).data
    assert data["facility"] == facility_staff.facility_id and data["site"] is None
    # Drafts are never granted, and the centre's referrals are not theirs.
    assert data["total"] == 5
    assert data["by_status"]["draft"] == 0 and data["by_status"]["accepted"] == 0


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-05-01&to=2026-04-01", "from"),
        ("site=x", "site"),
    ],
)
def test_report_bad_input_is_400(as_user, supervisor, query, field, settings):
    response = as_user(supervisor).get(f"{REPORT}?{query}")
    assert response.status_code == 400
    assert field in response.data


def test_report_other_site_is_refused(as_user, supervisor, site_b, settings):
    assert as_user(supervisor).get(f"{REPORT}?site={site_b.pk}").status_code == 400


def test_report_admin_picks_a_site(as_user, admin_user, report_world, site_b, settings):
    assert as_user(admin_user).get(f"{REPORT}?site={site_b.pk}").data["total"] == 0
    assert as_user(admin_user).get(REPORT).data["total"] == 7


def test_report_period_excludes_older_referrals(as_user, supervisor, report_world, settings):
    Referral.objects.filter(pk=report_world["draft"].pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    assert as_user(supervisor).get(REPORT).data["total"] == 6


def test_report_narrows_by_group_and_worker_like_every_report(
    as_user, supervisor, report_world, worker, colleague, group_a1, group_a2, outsider_worker, settings
):
    """The report reads its site, group, worker and period through reports.scope: the
    referrals of a group's or a worker's clients; a worker of another site is a 400."""
    api = as_user(supervisor)
    assert api.get(f"{REPORT}?group={group_a1.pk}").data["total"] == 7
    assert api.get(f"{REPORT}?group={group_a2.pk}").data["total"] == 0
    assert api.get(f"{REPORT}?worker={worker.pk}").data["total"] == 7
    assert api.get(f"{REPORT}?worker={colleague.pk}").data["total"] == 0
    refused = api.get(f"{REPORT}?worker={outsider_worker.pk}")
    assert refused.status_code == 400 and "worker" in refused.data
