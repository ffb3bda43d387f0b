"""Home visits: recording by role, the 48-hour rule with history, tracing closed by a visit."""

import datetime

import pytest
from django.utils import timezone

from cases import outbox
from cases import services as case_services
from cases.arv import services as arv_services
from cases.models import Tracing
from outreach.models import HomeVisit

PERSONAS = [
    "admin_user",
    "supervisor",
    "worker",
    "colleague",
    "volunteer",
    "other_volunteer",
    "facility_staff",
    "outsider_supervisor",
]


@pytest.fixture
def world(client_a, client_b, colleague, other_volunteer, facility_staff, admin_user, outsider_supervisor):
    return {"a": client_a, "b": client_b}


def visit_payload(client, **extra):
    payload = {
        "client": client.pk,
        "visited_at": (timezone.now() - datetime.timedelta(hours=2)).isoformat(),
        "kind": "home_visit",
        "missed_doses_7d": 1,
        "pills_left": 20,
        "health_complaints": "Batuk ringan",
        "family_support": "Ibu mendukung",
        "plan": "Kunjungan ulang",
        "next_visit_date": str(timezone.localdate() + datetime.timedelta(days=14)),
    }
    payload.update(extra)
    return payload


RECORD = {
    # persona: status for a home visit to client_a, status for an outreach contact
    "admin_user": (201, 201),
    "supervisor": (201, 201),
    "worker": (201, 201),
    "volunteer": (400, 201),  # volunteers record outreach contacts and calls, not home visits
    "colleague": (400, 400),
    "other_volunteer": (400, 400),
    "outsider_supervisor": (400, 400),
    "facility_staff": (403, 403),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_record_visit_by_role(request, world, as_user, who):
    api = as_user(request.getfixturevalue(who))
    for kind, status in zip(("home_visit", "outreach"), RECORD[who], strict=True):
        r = api.post("/api/v1/visits/", visit_payload(world["a"], kind=kind), format="json")
        assert r.status_code == status, (who, kind, r.content)


@pytest.mark.parametrize("who", PERSONAS)
def test_read_visits_by_role(request, world, as_user, worker, who):
    visit = case_visit(worker, world["a"])
    api = as_user(request.getfixturevalue(who))
    sees = who in {"admin_user", "supervisor", "worker", "volunteer"}
    assert [v["id"] for v in api.get("/api/v1/visits/").json()["results"]] == ([visit.pk] if sees else [])
    assert api.get(f"/api/v1/visits/{visit.pk}/").status_code == (200 if sees else 404)


def case_visit(actor, client, **extra):
    from outreach import services

    fields = {"visited_at": timezone.now() - datetime.timedelta(hours=1), "kind": "home_visit", "plan": "Awal"}
    fields.update(extra)
    return services.visit_record(actor=actor, client=client, **fields)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"visited_at": "2999-01-01T10:00:00Z"}, "visited_at"),
        ({"client": 999999}, "client"),
        ({"kind": "teleport"}, "kind"),
        ({"missed_doses_7d": -1}, "missed_doses_7d"),
        ({"missed_doses_7d": 50}, "missed_doses_7d"),
        ({"next_visit_date": "2000-01-01"}, "next_visit_date"),
        ({"visited_at": "yesterday"}, "visited_at"),
        # Before the client's consent (2026-01-10), here a date of local mean time.
        ({"visited_at": "1842-06-28T03:08:04+09:00"}, "visited_at"),
        ({"visited_at": "2026-01-09T10:00:00+09:00"}, "visited_at"),
    ],
)
def test_bad_visit_input_is_400(as_user, worker, client_a, change, field):
    r = as_user(worker).post("/api/v1/visits/", {**visit_payload(client_a), **change}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert not HomeVisit.objects.exists()


def test_author_corrects_within_48_hours_with_history(as_user, worker, client_a):
    visit = case_visit(worker, client_a, missed_doses_7d=3)
    r = as_user(worker).patch(f"/api/v1/visits/{visit.pk}/", {"missed_doses_7d": 0, "plan": "Rujuk"}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["missed_doses_7d"] == 0 and body["version"] == 2
    [revision] = body["revisions"]
    assert revision["changed_by"] == worker.pk
    assert revision["before"] == {"missed_doses_7d": 3, "plan": "Awal"}
    assert revision["after"] == {"missed_doses_7d": 0, "plan": "Rujuk"}


def test_after_48_hours_only_a_supervisor_corrects(as_user, worker, supervisor, client_a):
    visit = case_visit(worker, client_a)
    HomeVisit.objects.filter(pk=visit.pk).update(created_at=timezone.now() - datetime.timedelta(hours=49))
    r = as_user(worker).patch(f"/api/v1/visits/{visit.pk}/", {"plan": "Terlambat"}, format="json")
    assert r.status_code == 409
    visit.refresh_from_db()
    assert visit.plan == "Awal" and not visit.revisions.exists()
    r = as_user(supervisor).patch(f"/api/v1/visits/{visit.pk}/", {"plan": "Dikoreksi supervisor"}, format="json")
    assert r.status_code == 200
    assert visit.revisions.get().changed_by == supervisor


def test_a_colleague_cannot_correct_anothers_visit(as_user, worker, supervisor, client_a, colleague):
    case_services.client_share(
        actor=supervisor, client=client_a, user=colleague, until=timezone.localdate(), can_edit=True
    )
    visit = case_visit(worker, client_a)
    r = as_user(colleague).patch(f"/api/v1/visits/{visit.pk}/", {"plan": "x"}, format="json")
    assert r.status_code == 403


def test_stale_visit_version_is_409(as_user, worker, client_a):
    visit = case_visit(worker, client_a)
    api = as_user(worker)
    assert api.patch(f"/api/v1/visits/{visit.pk}/", {"plan": "A", "version": 1}, format="json").status_code == 200
    assert api.patch(f"/api/v1/visits/{visit.pk}/", {"plan": "B", "version": 1}, format="json").status_code == 409


def test_visit_closes_the_open_tracing(worker, client_a, facility_a):
    site_today = timezone.localdate(timezone=client_a.site.tzinfo)
    arv_services.refill_record(
        actor=worker,
        client=client_a,
        facility=facility_a,
        pickup_date=site_today - datetime.timedelta(days=40),
        days_supplied=30,
    )
    outbox.run_all()
    tracing = Tracing.objects.get(client=client_a, status="open")
    case_visit(worker, client_a)
    tracing.refresh_from_db()
    assert (tracing.status, tracing.close_reason) == ("closed", "visit")
    assert tracing.attempts.get().outcome == "reached"


def test_last_visit_date_on_client_rows(as_user, worker, client_a):
    assert as_user(worker).get(f"/api/v1/clients/{client_a.pk}/").json()["last_visit_date"] is None
    case_visit(worker, client_a, visited_at=timezone.now() - datetime.timedelta(days=3))
    case_visit(worker, client_a, visited_at=timezone.now() - datetime.timedelta(days=1))
    row = as_user(worker).get(f"/api/v1/clients/{client_a.pk}/").json()
    assert row["last_visit_date"] == str(timezone.localdate(timezone.now() - datetime.timedelta(days=1)))


def test_visits_due_for_the_worker(worker, client_a, supervisor, colleague):
    from outreach import selectors
    from tests.factories import make_client

    other = make_client(actor=supervisor, full_name="Lain", assigned_social_worker=worker)
    mine_later = make_client(actor=supervisor, full_name="Nanti", assigned_social_worker=worker)
    theirs = make_client(actor=supervisor, full_name="Punya rekan", assigned_social_worker=colleague)
    today = timezone.localdate()
    earlier = timezone.now() - datetime.timedelta(days=10)
    case_visit(worker, client_a, visited_at=earlier, next_visit_date=today - datetime.timedelta(days=1))
    case_visit(worker, other, visited_at=earlier, next_visit_date=today)
    case_visit(worker, mine_later, visited_at=earlier, next_visit_date=today + datetime.timedelta(days=5))
    case_visit(colleague, theirs, visited_at=earlier, next_visit_date=today)
    assert set(selectors.clients_visit_due(worker, today=today)) == {client_a, other}
