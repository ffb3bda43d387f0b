"""Dated outcomes (SPEC §12.1): `POST clients/{id}/status/`, its history on the client, the
timeline and the access log, the web action, the tracing outcomes that record one, and the
migration that turned stored statuses into changes."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from cases import outbox
from cases.arv import services as arv_services
from cases.models import AccessLog, ClientStatusEvent, Tracing
from tests.factories import make_client

pytestmark = pytest.mark.django_db


def _today(client):
    return timezone.localdate(timezone=client.site.tzinfo)


def _status(api, client, **body):
    return api.post(f"/api/v1/clients/{client.pk}/status/", body, format="json")


def test_a_death_is_recorded_with_its_day_and_kept_as_history(as_user, worker, supervisor, client_a):
    day = _today(client_a) - datetime.timedelta(days=3)
    r = _status(as_user(worker), client_a, status="deceased", effective_date=day.isoformat(), reason="Kabar keluarga")
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "deceased" and r.json()["effective_date"] == day.isoformat()
    assert r.json()["recorded_by"] == worker.pk
    client_a.refresh_from_db()
    assert client_a.status == "deceased"
    # A mistake is put right by a later change, never by an edit: both stay.
    r = _status(as_user(supervisor), client_a, status="active", effective_date=_today(client_a).isoformat(),
                reason="Salah orang: klien masih hidup")  # fmt: skip
    assert r.status_code == 201, r.content
    detail = as_user(supervisor).get(f"/api/v1/clients/{client_a.pk}/").json()
    assert [(h["status"], h["reason"]) for h in detail["status_history"]] == [
        ("deceased", "Kabar keluarga"),
        ("active", "Salah orang: klien masih hidup"),
    ]
    assert detail["status"] == "active"


def test_the_change_is_on_the_timeline_and_in_the_access_log(as_user, worker, client_a):
    day = _today(client_a) - datetime.timedelta(days=1)
    _status(as_user(worker), client_a, status="transferred_out", effective_date=day.isoformat(), reason="Ke Manado")
    events = as_user(worker).get(f"/api/v1/clients/{client_a.pk}/timeline/").json()["results"]
    status = next(e for e in events if e["type"] == "status")
    assert (status["status"], status["effective_date"], status["reason"]) == (
        "transferred_out",
        day.isoformat(),
        "Ke Manado",
    )
    logged = AccessLog.objects.filter(client_id=client_a.pk, user=worker)
    assert logged.filter(action="create", object_type="cases.clientstatusevent").count() == 1
    changed = logged.filter(action="update", object_type="cases.client").values_list("fields", flat=True)
    assert any("status" in fields for fields in changed)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "ltfu", "effective_date": "2026-01-01", "reason": "x"}, "status"),  # derived, never typed
        ({"status": "deceased", "effective_date": "2999-01-01", "reason": "x"}, "effective_date"),
        ({"status": "deceased", "effective_date": "1900-01-01", "reason": "x"}, "effective_date"),  # before birth
        ({"status": "deceased", "effective_date": "kemarin", "reason": "x"}, "effective_date"),
        ({"status": "deceased", "effective_date": "2026-01-01", "reason": "   "}, "reason"),
        ({"status": "active", "effective_date": "2026-01-01", "reason": "x"}, "status"),  # already active
        ({"effective_date": "2026-01-01", "reason": "x"}, "status"),
    ],
)
def test_bad_changes_are_a_400_naming_the_field(as_user, worker, client_a, body, field):
    r = _status(as_user(worker), client_a, **body)
    assert r.status_code == 400 and field in r.json(), r.content
    assert not ClientStatusEvent.objects.exists()


def test_a_date_learned_late_can_be_put_before_the_latest_change(as_user, supervisor, worker, client_a, facility_a):
    """A death recorded on the day the news came is dated right later: the reports of the
    months between then count the client as died, not as lost (SPEC §12.1)."""
    api = as_user(worker)
    today = _today(client_a)
    arv_services.refill_record(
        actor=worker, client=client_a, facility=facility_a, pickup_date=today - datetime.timedelta(days=200),
        days_supplied=30,
    )  # fmt: skip
    assert (
        _status(api, client_a, status="deceased", effective_date=today.isoformat(), reason="Kabar").status_code == 201
    )
    # Nothing changes on that day: refused.
    same_day = _status(api, client_a, status="deceased", effective_date=today.isoformat(), reason="Lagi")
    assert same_day.status_code == 400 and "status" in same_day.json()
    died = today - datetime.timedelta(days=150)
    r = _status(api, client_a, status="deceased", effective_date=died.isoformat(), reason="Akta kematian")
    assert r.status_code == 201, r.content
    client_a.refresh_from_db()
    assert client_a.status == "deceased"
    period = {
        "from": (died + datetime.timedelta(days=10)).isoformat(),
        "to": (died + datetime.timedelta(days=40)).isoformat(),
    }
    art2 = as_user(supervisor).get("/api/v1/reports/indicators/", period).json()["indicators"][1]
    assert art2["code"] == "ART.2" and art2["breakdown"]["died"] == 0  # died before the period: not in it
    period = {
        "from": (died - datetime.timedelta(days=20)).isoformat(),
        "to": (died + datetime.timedelta(days=10)).isoformat(),
    }
    art2 = as_user(supervisor).get("/api/v1/reports/indicators/", period).json()["indicators"][1]
    assert art2["breakdown"] == {"ltfu": 0, "died": 1, "stopped": 0, "transferred_out": 0}


@pytest.mark.parametrize(
    "who, expected",
    [
        ("admin_user", 201),
        ("supervisor", 201),
        ("worker", 201),
        ("colleague", 404),
        ("volunteer", 403),  # reads the client, reports outcomes through tracing
        ("facility_staff", 404),
        ("outsider_supervisor", 404),
    ],
)
def test_who_may_change_a_status(request, as_user, client_a, facility_staff, who, expected):
    body = {"status": "stopped", "effective_date": _today(client_a).isoformat(), "reason": "Menolak"}
    r = _status(as_user(request.getfixturevalue(who)), client_a, **body)
    assert r.status_code == expected, (who, r.content)


def test_an_unknown_client_is_404_like_one_out_of_reach(as_user, colleague, client_a):
    body = {"status": "stopped", "effective_date": "2026-01-01", "reason": "x"}
    assert _status(as_user(colleague), client_a, **body).status_code == 404
    assert as_user(colleague).post("/api/v1/clients/999999/status/", body, format="json").status_code == 404


def test_a_patch_of_the_status_names_the_action(as_user, supervisor, client_a):
    api = as_user(supervisor)
    r = api.patch(f"/api/v1/clients/{client_a.pk}/", {"status": "deceased"}, format="json")
    assert r.status_code == 400 and "clients/{id}/status/" in r.json()["status"][0]
    client_a.refresh_from_db()
    assert client_a.status == "active"
    # Sending back what was read is no change: a full PUT of the read client passes.
    body = {k: v for k, v in api.get(f"/api/v1/clients/{client_a.pk}/").json().items() if v is not None}
    r = api.patch(f"/api/v1/clients/{client_a.pk}/", {"status": body["status"], "nickname": "Sit"}, format="json")
    assert r.status_code == 200, r.content


def test_tracing_outcomes_record_a_dated_change(client_a, worker, facility_a):
    arv_services.refill_record(
        actor=worker,
        client=client_a,
        facility=facility_a,
        pickup_date=_today(client_a) - datetime.timedelta(days=40),
        days_supplied=30,
    )
    outbox.run_all()
    tracing = Tracing.objects.get(client=client_a)
    arv_services.tracing_record_attempt(
        actor=worker, tracing=tracing, method="home", outcome="deceased", note="Tetangga"
    )
    event = ClientStatusEvent.objects.get(client=client_a)
    assert (event.status, event.effective_date, event.recorded_by) == ("deceased", _today(client_a), worker)
    assert "Tetangga" in event.reason


def test_an_outcome_given_at_registration_is_a_dated_change(supervisor):
    client = make_client(actor=supervisor, full_name="Klien Impor", status="stopped")
    event = ClientStatusEvent.objects.get(client=client)
    assert (client.status, event.status, event.effective_date) == ("stopped", "stopped", _today(client))


# --- the web action -------------------------------------------------------------------------


def test_the_client_page_offers_the_action_with_a_form(client, worker, client_a):
    client.force_login(worker)
    page = client.get(f"/clients/{client_a.pk}/")
    assert f"/clients/{client_a.pk}/status/".encode() in page.content
    r = client.post(f"/clients/{client_a.pk}/status/", {"status": "deceased", "effective_date": "", "reason": ""})
    assert r.status_code == 200 and b"invalid-feedback" in r.content  # friendly field errors
    day = _today(client_a).isoformat()
    r = client.post(f"/clients/{client_a.pk}/status/", {"status": "deceased", "effective_date": day, "reason": "RS"})
    assert r.status_code == 302
    client_a.refresh_from_db()
    assert client_a.status == "deceased"
    page = client.get(f"/clients/{client_a.pk}/status/")
    assert b"RS" in page.content  # the history under the form


def test_the_web_action_is_refused_to_volunteers(client, volunteer, client_a):
    client.force_login(volunteer)
    assert f"/clients/{client_a.pk}/status/".encode() not in client.get(f"/clients/{client_a.pk}/").content
    assert client.get(f"/clients/{client_a.pk}/status/").status_code == 403


# --- the migration ----------------------------------------------------------------------------


@pytest.fixture
def back_to_latest_after():
    """A test that moves the schema back brings it forward again to every app's latest
    migration, whatever happens, so the tests after it find the schema they expect."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_stored_statuses_into_dated_changes(back_to_latest_after):
    executor = MigrationExecutor(connection)
    before = [("cases", "0011_client_status_events")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Site = apps.get_model("cases", "Site")
    Client = apps.get_model("cases", "Client")
    Facility = apps.get_model("cases", "Facility")
    Refill = apps.get_model("cases", "Refill")
    Tracing = apps.get_model("cases", "Tracing")
    AccessLog = apps.get_model("cases", "AccessLog")
    site = Site.objects.create(name="Sentra Uji", code="UJI")
    facility = Facility.objects.create(name="RS", kind="hospital")

    def client(code, status):
        return Client.objects.create(
            site=site, code=code, full_name=code, sex="F", date_of_birth=datetime.date(1990, 1, 1),
            consent_date=datetime.date(2025, 1, 1), status=status,
        )  # fmt: skip

    traced = client("UJI-1", "deceased")
    refill = Refill.objects.create(
        client=traced, facility=facility, pickup_date=datetime.date(2026, 1, 1), days_supplied=30,
        next_due=datetime.date(2026, 1, 31),
    )  # fmt: skip
    Tracing.objects.create(
        client=traced, refill=refill, opened_on=datetime.date(2026, 2, 7), status="closed",
        closed_on=datetime.date(2026, 2, 20), close_reason="deceased",
    )  # fmt: skip
    logged = client("UJI-2", "stopped")
    # The log is append-only (a trigger on PostgreSQL): the entry is written with its time.
    entry = AccessLog(
        action="update", object_type="cases.client", object_id=str(logged.pk), client_id=logged.pk, fields=["status"]
    )
    entry._meta.get_field("at").pre_save = lambda instance, add: datetime.datetime(2026, 3, 3, 2, tzinfo=datetime.UTC)
    entry.save()
    bare = client("UJI-3", "transferred_out")
    client("UJI-4", "ltfu")
    client("UJI-5", "active")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    after = [("cases", "0012_status_events_from_stored")]
    executor.migrate(after)
    Event = executor.loader.project_state(after).apps.get_model("cases", "ClientStatusEvent")
    events = {e.client_id: e for e in Event.objects.all()}
    assert set(events) == {traced.pk, logged.pk, bare.pk}  # none for ltfu (derived) or active
    assert (events[traced.pk].status, events[traced.pk].effective_date) == ("deceased", datetime.date(2026, 2, 20))
    # 02:00 UTC is 11:00 in Ternate (Asia/Jayapura) on the same day.
    assert (events[logged.pk].status, events[logged.pk].effective_date) == ("stopped", datetime.date(2026, 3, 3))
    assert events[bare.pk].status == "transferred_out" and "last change" in events[bare.pk].reason
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
