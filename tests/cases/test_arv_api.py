"""Refills, viral loads, tracing and the inbox through the API, by role (SPEC §7, §8)."""

import datetime

import pytest
from django.utils import timezone

from cases import outbox, services
from cases.arv import services as arv_services
from cases.models import Notification
from cases.outbox import delivery
from tests.factories import lapse, make_client

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
# Who may record a refill for client_a (201), who sees it but may not (400: not a client of
# theirs to record for), and who is refused outright (403).
RECORD_REFILL = {
    "admin_user": 201,
    "supervisor": 201,
    "worker": 201,
    "volunteer": 201,
    "colleague": 400,
    "other_volunteer": 400,
    "outsider_supervisor": 400,
    "facility_staff": 403,
}
SEES_CLIENT_A_RECORDS = {"admin_user", "supervisor", "worker", "volunteer"}


@pytest.fixture
def world(client_a, client_b, colleague, other_volunteer, facility_staff, admin_user, outsider_supervisor):
    return {"a": client_a, "b": client_b}


def today():
    return timezone.localdate()


@pytest.mark.parametrize("who", PERSONAS)
def test_refill_create_by_role(request, world, as_user, facility_a, who):
    api = as_user(request.getfixturevalue(who))
    payload = {"client": world["a"].pk, "facility": facility_a.pk, "pickup_date": str(today()), "days_supplied": 90}
    r = api.post("/api/v1/refills/", payload, format="json")
    assert r.status_code == RECORD_REFILL[who], (who, r.content)
    if r.status_code == 201:
        body = r.json()
        assert body["next_due"] == str(today() + datetime.timedelta(days=90))
        assert set(body) == {
            "id",
            "client",
            "facility",
            "pickup_date",
            "days_supplied",
            "missed_doses",
            "next_due",
            "returned_to_treatment",
        }


@pytest.mark.parametrize("who", PERSONAS)
def test_refill_and_viral_load_reads_by_role(request, world, as_user, worker, facility_a, who):
    refill = arv_services.refill_record(
        actor=worker, client=world["a"], facility=facility_a, pickup_date=today(), days_supplied=30
    )
    vl = arv_services.viral_load_record(actor=worker, client=world["a"], sample_date=today(), copies_per_ml=40)
    api = as_user(request.getfixturevalue(who))
    visible = who in SEES_CLIENT_A_RECORDS
    for url, pk in (("/api/v1/refills/", refill.pk), ("/api/v1/viral-loads/", vl.pk)):
        r = api.get(url)
        assert r.status_code == 200
        assert [row["id"] for row in r.json()["results"]] == ([pk] if visible else [])
        assert api.get(f"{url}{pk}/").status_code == (200 if visible else 404)


def test_refill_validation(as_user, worker, client_a, facility_a):
    api = as_user(worker)
    base = {"client": client_a.pk, "facility": facility_a.pk, "pickup_date": str(today()), "days_supplied": 30}
    for change, field in [
        ({"days_supplied": 45}, "days_supplied"),
        ({"days_supplied": "many"}, "days_supplied"),
        ({"pickup_date": "2999-01-01"}, "pickup_date"),
        ({"pickup_date": "1950-01-01"}, "pickup_date"),
        ({"missed_doses": -1}, "missed_doses"),
        ({"client": 999999}, "client"),
        ({"facility": None}, "facility"),
    ]:
        r = api.post("/api/v1/refills/", {**base, **change}, format="json")
        assert r.status_code == 400, (change, r.content)
        assert field in r.json(), (change, r.json())
    assert not client_a.refills.exists()


def test_viral_load_suppression_is_derived(as_user, worker, client_a):
    api = as_user(worker)
    high = api.post(
        "/api/v1/viral-loads/",
        {"client": client_a.pk, "sample_date": str(today()), "copies_per_ml": 1000},
        format="json",
    )
    low = api.post(
        "/api/v1/viral-loads/",
        {"client": client_a.pk, "sample_date": str(today()), "copies_per_ml": 999},
        format="json",
    )
    assert (high.json()["suppressed"], low.json()["suppressed"]) == (False, True)
    bad = api.post(
        "/api/v1/viral-loads/", {"client": client_a.pk, "sample_date": str(today()), "copies_per_ml": -5}, format="json"
    )
    assert bad.status_code == 400 and "copies_per_ml" in bad.json()


def test_read_only_share_cannot_record(as_user, supervisor, colleague, client_a, facility_a):
    services.client_share(actor=supervisor, client=client_a, user=colleague, until=today(), can_edit=False)
    r = as_user(colleague).post(
        "/api/v1/refills/",
        {"client": client_a.pk, "facility": facility_a.pk, "pickup_date": str(today()), "days_supplied": 30},
        format="json",
    )
    assert r.status_code == 400 and "client" in r.json()


# --- ARV state on client rows ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "days_ago, days_supplied, state, days_late",
    [
        (0, 30, "on_time", 0),
        (28, 30, "due", 0),  # due in 2 days: within the 3-day window
        (30, 30, "due", 0),  # due today
        (33, 30, "late", 3),
        (57, 30, "late", 27),
        (58, 30, "ltfu", 28),
    ],
)
def test_arv_state_on_rows_and_filter(as_user, worker, client_a, facility_a, days_ago, days_supplied, state, days_late):
    site_today = timezone.localdate(timezone=client_a.site.tzinfo)
    arv_services.refill_record(
        actor=worker,
        client=client_a,
        facility=facility_a,
        pickup_date=site_today - datetime.timedelta(days=days_ago),
        days_supplied=days_supplied,
    )
    api = as_user(worker)
    row = api.get(f"/api/v1/clients/{client_a.pk}/").json()
    assert (row["arv_state"], row["days_late"]) == (state, days_late)
    assert row["next_refill_due"] == str(site_today - datetime.timedelta(days=days_ago - days_supplied))
    assert [r["id"] for r in api.get(f"/api/v1/clients/?arv_state={state}").json()["results"]] == [client_a.pk]
    other = "on_time" if state != "on_time" else "late"
    assert api.get(f"/api/v1/clients/?arv_state={other}").json()["count"] == 0


def test_arv_state_without_refill_is_null(as_user, worker, client_a):
    row = as_user(worker).get(f"/api/v1/clients/{client_a.pk}/").json()
    assert (row["arv_state"], row["days_late"], row["next_refill_due"]) == (None, None, None)
    assert as_user(worker).get("/api/v1/clients/?arv_state=soon").status_code == 400


def test_status_ltfu_reads_ltfu(as_user, worker, client_a, facility_a, supervisor):
    arv_services.refill_record(
        actor=worker, client=client_a, facility=facility_a, pickup_date=today(), days_supplied=30
    )
    services.client_update(actor=supervisor, client=client_a, status="ltfu")
    assert as_user(worker).get(f"/api/v1/clients/{client_a.pk}/").json()["arv_state"] == "ltfu"


# --- tracing -----------------------------------------------------------------------------------------


@pytest.fixture
def tracing(client_a, worker, facility_a):
    return lapse(client_a, actor=worker, facility=facility_a)


@pytest.mark.parametrize("who", PERSONAS)
def test_tracing_reach(request, world, tracing, as_user, who):
    api = as_user(request.getfixturevalue(who))
    visible = who in SEES_CLIENT_A_RECORDS
    assert [t["id"] for t in api.get("/api/v1/tracing/").json()["results"]] == ([tracing.pk] if visible else [])
    assert api.get(f"/api/v1/tracing/{tracing.pk}/").status_code == (200 if visible else 404)
    r = api.post(f"/api/v1/tracing/{tracing.pk}/claim/")
    assert r.status_code == (200 if visible else 404), (who, r.content)


def test_tracing_claim_is_exclusive(tracing, as_user, worker, volunteer):
    assert as_user(worker).post(f"/api/v1/tracing/{tracing.pk}/claim/").status_code == 200
    assert as_user(worker).post(f"/api/v1/tracing/{tracing.pk}/claim/").status_code == 200  # own claim again
    assert as_user(volunteer).post(f"/api/v1/tracing/{tracing.pk}/claim/").status_code == 409
    r = as_user(volunteer).post(
        f"/api/v1/tracing/{tracing.pk}/attempts/", {"method": "phone", "outcome": "not_found"}, format="json"
    )
    assert r.status_code == 409
    tracing.refresh_from_db()
    assert tracing.claimed_by == worker


def test_tracing_attempts_and_final_outcome(tracing, as_user, worker, client_a):
    api = as_user(worker)
    r = api.post(
        f"/api/v1/tracing/{tracing.pk}/attempts/", {"method": "phone", "outcome": "wrong_contact"}, format="json"
    )
    assert r.status_code == 201, r.content
    r = api.post(f"/api/v1/tracing/{tracing.pk}/attempts/", {"method": "fax", "outcome": "lost"}, format="json")
    assert r.status_code == 400 and set(r.json()) == {"method", "outcome"}
    r = api.post(
        f"/api/v1/tracing/{tracing.pk}/attempts/",
        {"method": "home", "outcome": "transferred", "note": "Pindah ke Tidore"},
        format="json",
    )
    assert r.status_code == 201
    body = api.get(f"/api/v1/tracing/{tracing.pk}/").json()
    assert body["status"] == "closed" and body["close_reason"] == "transferred"
    assert [a["outcome"] for a in body["attempts"]] == ["wrong_contact", "transferred"]
    client_a.refresh_from_db()
    assert client_a.status == "transferred_out"
    assert api.post(f"/api/v1/tracing/{tracing.pk}/claim/").status_code == 409


def test_deceased_outcome_sets_client_status(tracing, worker, client_a):
    arv_services.tracing_record_attempt(actor=worker, tracing=tracing, method="via_group", outcome="deceased")
    client_a.refresh_from_db()
    assert client_a.status == "deceased"


def test_refill_closes_tracing(tracing, worker, client_a, facility_a):
    arv_services.refill_record(
        actor=worker, client=client_a, facility=facility_a, pickup_date=today(), days_supplied=30
    )
    tracing.refresh_from_db()
    assert (tracing.status, tracing.close_reason) == ("closed", "refill")


def test_tracing_list_query_budget(tracing, as_user, worker, supervisor, facility_a, django_assert_max_num_queries):
    for i in range(5):
        c = make_client(actor=supervisor, full_name=f"T {i}", assigned_social_worker=worker)
        arv_services.refill_record(
            actor=worker,
            client=c,
            facility=facility_a,
            pickup_date=today() - datetime.timedelta(days=45),
            days_supplied=30,
        )
    outbox.run_all()
    # count + page (client joined) + attempts prefetch + the access log's one insert
    with django_assert_max_num_queries(4):
        r = as_user(worker).get("/api/v1/tracing/")
    assert r.json()["count"] == 6


# --- notifications inbox -------------------------------------------------------------------------------


def test_inbox_shows_own_delivered_notifications_and_marks_read(tracing, as_user, worker, volunteer, supervisor):
    pending = Notification.objects.filter(recipient_user=worker)
    assert pending.exists()
    api = as_user(worker)
    assert api.get("/api/v1/notifications/").json()["count"] == 0  # not delivered yet
    for n in Notification.objects.all():
        delivery.notification_deliver(notification_id=n.pk)
    rows = api.get("/api/v1/notifications/").json()["results"]
    assert {r["kind"] for r in rows} <= {"refill_missed", "tracing_due"} and rows
    assert set(rows[0]) == {"id", "kind", "text", "channel", "subject_type", "subject_id", "created_at", "read_at"}
    assert all(r["read_at"] is None for r in rows)
    r = api.post(f"/api/v1/notifications/{rows[0]['id']}/read/")
    assert r.status_code == 200 and r.json()["read_at"]
    assert api.get("/api/v1/notifications/?unread=true").json()["count"] == len(rows) - 1
    # Someone else's notification: not found, and not marked.
    assert as_user(volunteer).post(f"/api/v1/notifications/{rows[0]['id']}/read/").status_code == 404
    assert as_user(supervisor).get(f"/api/v1/notifications/{rows[0]['id']}/").status_code == 404
