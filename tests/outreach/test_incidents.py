"""Incidents: intake, every legal and illegal transition, targets and breach notifications."""

import datetime
import itertools

import pytest
from django.utils import timezone

from cases import outbox
from cases.models import Notification
from outreach import services
from outreach.models import Incident, IncidentTarget
from outreach.services import INCIDENT_TRANSITIONS

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
STATES = ["reported", "acknowledged", "responding", "resolved", "closed", "cancelled"]
LEGAL = {
    ("reported", "acknowledge"): "acknowledged",
    ("reported", "respond"): "responding",
    ("acknowledged", "respond"): "responding",
    ("responding", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("reported", "cancel"): "cancelled",
    ("acknowledged", "cancel"): "cancelled",
    ("responding", "cancel"): "cancelled",
}


@pytest.fixture
def incident(site_a, worker, volunteer):
    return services.incident_report(
        actor=worker,
        site=site_a,
        kind="eviction",
        urgency="high",
        reporter_name="Ibu Ani",
        reporter_phone="+6281233334444",
        description="Diusir dari kos",
        location="Kalumpang",
        responders=[volunteer],
    )


def put_in_state(incident, state):
    stamps = {
        "acknowledged": "acknowledged_at",
        "responding": "responding_at",
        "resolved": "resolved_at",
        "closed": "closed_at",
        "cancelled": "cancelled_at",
    }
    fields = {"status": state}
    if state in stamps:
        fields[stamps[state]] = timezone.now()
    Incident.objects.filter(pk=incident.pk).update(**fields)


@pytest.mark.parametrize("state, action", list(itertools.product(STATES, INCIDENT_TRANSITIONS)))
def test_every_transition(as_user, supervisor, incident, state, action):
    put_in_state(incident, state)
    before = Incident.objects.values().get(pk=incident.pk)
    r = as_user(supervisor).post(
        f"/api/v1/incidents/{incident.pk}/{action}/", {"reason": "Salah lapor", "note": "ok"}, format="json"
    )
    if (state, action) in LEGAL:
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["status"] == LEGAL[(state, action)]
        assert body["events"][-1]["status"] == LEGAL[(state, action)]
    else:
        assert r.status_code == 409, (state, action, r.content)
        assert Incident.objects.values().get(pk=incident.pk) == before


def test_full_flow_keeps_a_timestamp_per_state(as_user, volunteer, incident):
    api = as_user(volunteer)  # a responder moves their incident
    for action in ("acknowledge", "respond", "resolve"):
        assert api.post(f"/api/v1/incidents/{incident.pk}/{action}/", {}, format="json").status_code == 200
    r = api.post(f"/api/v1/incidents/{incident.pk}/close/", {"outcome": "Tinggal di rumah singgah"}, format="json")
    body = r.json()
    assert body["status"] == "closed" and body["outcome"] == "Tinggal di rumah singgah"
    for stamp in ("reported_at", "acknowledged_at", "responding_at", "resolved_at", "closed_at"):
        assert body[stamp], stamp
    assert [e["status"] for e in body["events"]] == ["reported", "acknowledged", "responding", "resolved", "closed"]
    assert body["breached"] is False


def test_cancel_needs_a_reason(as_user, supervisor, incident):
    r = as_user(supervisor).post(f"/api/v1/incidents/{incident.pk}/cancel/", {}, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    incident.refresh_from_db()
    assert incident.status == "reported"


MOVE = {
    "admin_user": 200,
    "supervisor": 200,
    "volunteer": 200,
    "worker": 403,
    "colleague": 403,
    "other_volunteer": 404,
    "facility_staff": 404,
    "outsider_supervisor": 404,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_who_moves_an_incident(
    request,
    as_user,
    incident,
    client_b,
    colleague,
    other_volunteer,
    facility_staff,
    admin_user,
    outsider_supervisor,
    who,
):
    """The reporter (worker) is not a responder: they see the board but do not move it."""
    r = as_user(request.getfixturevalue(who)).post(f"/api/v1/incidents/{incident.pk}/acknowledge/", {}, format="json")
    assert r.status_code == MOVE[who], (who, r.content)


REPORT = {
    "admin_user": 201,
    "supervisor": 201,
    "worker": 201,
    "colleague": 201,
    "volunteer": 201,
    "other_volunteer": 201,
    "facility_staff": 403,
    "outsider_supervisor": 201,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_who_reports(
    request, as_user, site_a, client_a, colleague, other_volunteer, facility_staff, admin_user, outsider_supervisor, who
):
    user = request.getfixturevalue(who)
    payload = {
        "kind": "violence",
        "urgency": "critical",
        "description": "Kekerasan",
        "reporter_name": "Tetangga",
        "reporter_phone": "+6281200001111",
    }
    if who == "admin_user":
        payload["site"] = site_a.pk
    r = as_user(user).post("/api/v1/incidents/", payload, format="json")
    assert r.status_code == REPORT[who], (who, r.content)
    if r.status_code == 201:
        body = r.json()
        reported = datetime.datetime.fromisoformat(body["reported_at"])
        assert datetime.datetime.fromisoformat(body["ack_due_at"]) - reported == datetime.timedelta(hours=1)
        assert datetime.datetime.fromisoformat(body["resolve_due_at"]) - reported == datetime.timedelta(hours=24)


def test_intake_validation(as_user, worker, client_b):
    api = as_user(worker)
    r = api.post("/api/v1/incidents/", {"kind": "fire", "urgency": "soon", "description": ""}, format="json")
    assert r.status_code == 400 and {"kind", "urgency", "description"} <= set(r.json())
    r = api.post("/api/v1/incidents/", {"kind": "other", "urgency": "normal", "description": "x"}, format="json")
    assert r.status_code == 400 and "reporter_name" in r.json()
    r = api.post(
        "/api/v1/incidents/",
        {"kind": "other", "urgency": "normal", "description": "x", "client": client_b.pk},
        format="json",
    )
    assert r.status_code == 400 and "client" in r.json()


def test_incident_board_visibility(
    as_user, incident, worker, colleague, volunteer, other_volunteer, facility_staff, outsider_supervisor
):
    def ids(user):
        return [i["id"] for i in as_user(user).get("/api/v1/incidents/?open=true").json()["results"]]

    assert ids(worker) == ids(colleague) == ids(volunteer) == [incident.pk]
    assert ids(other_volunteer) == ids(facility_staff) == ids(outsider_supervisor) == []


def test_site_targets_override_the_defaults(site_a, worker):
    IncidentTarget.objects.create(site=site_a, urgency="high", acknowledge_minutes=30, resolve_minutes=600)
    incident = services.incident_report(
        actor=worker, site=site_a, kind="other", urgency="high", reporter_name="X", description="y"
    )
    assert incident.ack_due_at - incident.reported_at == datetime.timedelta(minutes=30)
    assert incident.resolve_due_at - incident.reported_at == datetime.timedelta(minutes=600)


def test_breach_notifies_the_sites_supervisors_once(incident, supervisor, site_a, outsider_supervisor):
    from tests.factories import UserFactory

    second = UserFactory(role="supervisor", site=site_a)
    Incident.objects.filter(pk=incident.pk).update(ack_due_at=timezone.now() - datetime.timedelta(minutes=1))
    for _ in range(3):
        outbox.run_all()
    rows = Notification.objects.filter(kind="incident_breach")
    assert sorted(rows.values_list("recipient_user_id", "subject_type")) == sorted(
        [
            (supervisor.pk, "outreach.incident.acknowledge"),
            (second.pk, "outreach.incident.acknowledge"),
        ]
    )
    # Past the resolve target too: one more notice per supervisor, still once however often.
    Incident.objects.filter(pk=incident.pk).update(resolve_due_at=timezone.now() - datetime.timedelta(minutes=1))
    outbox.run_all()
    outbox.run_all()
    assert rows.count() == 4
    incident.refresh_from_db()
    assert incident.breached
    from cases.outbox import delivery

    row = rows.first()
    assert delivery.notification_deliver(notification_id=row.pk) == "sent"
    row.refresh_from_db()
    assert f"#{incident.pk}" in row.text


def test_acknowledged_in_time_is_not_a_breach(incident, as_user, supervisor):
    as_user(supervisor).post(f"/api/v1/incidents/{incident.pk}/acknowledge/", {}, format="json")
    Incident.objects.filter(pk=incident.pk).update(ack_due_at=timezone.now() - datetime.timedelta(minutes=1))
    outbox.run_all()
    assert not Notification.objects.filter(kind="incident_breach").exists()


def test_volunteer_who_leaves_the_responders_gets_200_then_404(as_user, incident, volunteer, worker):
    """Found by the schema fuzz: the answer re-read the incident through the caller's reach,
    which the update itself had just ended (500)."""
    api = as_user(volunteer)
    r = api.patch(f"/api/v1/incidents/{incident.pk}/", {"responders": [worker.pk]}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["responders"] == [worker.pk]
    assert api.get(f"/api/v1/incidents/{incident.pk}/").status_code == 404


def test_responders_are_chosen_from_the_site_only(as_user, incident, supervisor, outsider_worker):
    r = as_user(supervisor).patch(
        f"/api/v1/incidents/{incident.pk}/", {"responders": [outsider_worker.pk]}, format="json"
    )
    assert r.status_code == 400 and "responders" in r.json()
    # Not found, like an unknown id: the answer does not tell that the user exists elsewhere.
    unknown = as_user(supervisor).patch(f"/api/v1/incidents/{incident.pk}/", {"responders": [99999999]}, format="json")
    assert unknown.json()["responders"] == [
        m.replace(str(outsider_worker.pk), "99999999") for m in r.json()["responders"]
    ]
    assert list(incident.responders.all()) != [outsider_worker]
