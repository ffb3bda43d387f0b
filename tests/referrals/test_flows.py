"""The referral state machine through the API (SPEC §5): flows, illegal steps, consent, races."""

import threading

import pytest
from django.db import connections

from referrals import services
from referrals.models import Referral, ReferralEvent, ReferralStatus

from .conftest import advance

URL = "/api/v1/referrals/"
S = ReferralStatus


def act(api, referral, action, **body):
    return api.post(f"{URL}{referral.pk}/{action}/", body, format="json")


def create(api, client, facility, body=None, **extra):
    body = {
        "client": client.pk,
        "to_facility": facility.pk,
        "service": "vct",
        "reason": "Needs a VCT test",
        **(body or {}),
    }
    body.update(extra)
    return api.post(URL, body, format="json")


def test_send_accept_complete(as_user, worker, facility_staff, sharing_client_a, facility_a):
    sender, clinic = as_user(worker), as_user(facility_staff)
    response = create(sender, sharing_client_a, facility_a, urgency="high")
    assert response.status_code == 201, response.data
    referral = Referral.objects.get(pk=response.data["id"])
    assert response.data["status"] == "draft"
    assert response.data["from_user"] == worker.pk
    assert response.data["facility_link"] is None

    response = act(sender, referral, "send", note="Please see her this week")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "sent"
    assert "/r/" in response.data["facility_link"]

    assert act(clinic, referral, "accept", note="Thursday 9:00").status_code == 200
    response = act(clinic, referral, "complete", outcome="Tested, started ART")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "completed"
    assert response.data["outcome"] == "Tested, started ART"
    assert [(e["status"], e["actor"], e["via_link"]) for e in response.data["events"]] == [
        ("draft", worker.pk, False),
        ("sent", worker.pk, False),
        ("accepted", facility_staff.pk, False),
        ("completed", facility_staff.pk, False),
    ]
    assert response.data["events"][1]["note"] == "Please see her this week"
    referral.refresh_from_db()
    assert referral.sent_at <= referral.accepted_at <= referral.closed_at


def test_complete_as_not_completed(as_user, facility_staff, sent_referral):
    clinic = as_user(facility_staff)
    assert act(clinic, sent_referral, "accept").status_code == 200
    response = act(clinic, sent_referral, "complete", outcome="Did not come", result="not_completed")
    assert response.status_code == 200
    assert response.data["status"] == "not_completed"


def test_decline_needs_a_reason(as_user, facility_staff, sent_referral):
    clinic = as_user(facility_staff)
    response = act(clinic, sent_referral, "decline")
    assert response.status_code == 400
    assert "reason" in response.data
    response = act(clinic, sent_referral, "decline", reason="No VCT counsellor this month")
    assert response.status_code == 200
    assert response.data["status"] == "declined"
    assert response.data["events"][-1]["note"] == "No VCT counsellor this month"


def test_complete_needs_an_outcome(as_user, facility_staff, sent_referral):
    clinic = as_user(facility_staff)
    act(clinic, sent_referral, "accept")
    response = act(clinic, sent_referral, "complete", note="done")
    assert response.status_code == 400
    assert "outcome" in response.data
    assert act(clinic, sent_referral, "complete", outcome="x", result="maybe").status_code == 400


@pytest.mark.parametrize("status", [S.DRAFT, S.SENT, S.ACCEPTED])
def test_cancel_with_reason(as_user, worker, make_referral, sharing_client_a, facility_a, status):
    referral = make_referral(client=sharing_client_a, facility=facility_a, status=status)
    sender = as_user(worker)
    assert act(sender, referral, "cancel").status_code == 400
    response = act(sender, referral, "cancel", reason="Client moved to Tidore")
    assert response.status_code == 200
    assert response.data["status"] == "cancelled"
    assert response.data["facility_link"] is None  # the link is revoked
    referral.refresh_from_db()
    assert referral.closed_at is not None and referral.link_nonce == ""


LEGAL = {
    S.DRAFT: {"send", "cancel"},
    S.SENT: {"accept", "decline", "cancel"},
    S.ACCEPTED: {"complete", "cancel"},
    S.DECLINED: set(),
    S.COMPLETED: set(),
    S.NOT_COMPLETED: set(),
    S.CANCELLED: set(),
}
ILLEGAL = [(status, action) for status, legal in LEGAL.items() for action in services.ACTIONS if action not in legal]


@pytest.mark.parametrize("status, action", ILLEGAL)
def test_illegal_transitions_conflict_and_change_nothing(
    as_user, admin_user, make_referral, sharing_client_a, facility_a, status, action
):
    referral = make_referral(client=sharing_client_a, facility=facility_a, status=status)
    before = Referral.objects.filter(pk=referral.pk).values().get()
    events = ReferralEvent.objects.filter(referral=referral).count()
    # The admin may take every action, so only the state can refuse it; bodies are valid.
    response = act(as_user(admin_user), referral, action, reason="r", outcome="o", note="n")
    assert response.status_code == 409, response.data
    assert response.data["detail"]
    assert Referral.objects.filter(pk=referral.pk).values().get() == before
    assert ReferralEvent.objects.filter(referral=referral).count() == events


def test_draft_only_is_updated(as_user, worker, make_referral, sharing_client_a, facility_a, future):
    referral = make_referral(client=sharing_client_a, facility=facility_a)
    sender = as_user(worker)
    response = sender.patch(
        f"{URL}{referral.pk}/", {"reason": "Viral load due", "due_date": str(future)}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["reason"] == "Viral load due"
    assert response.data["version"] == 2
    stale = sender.patch(f"{URL}{referral.pk}/", {"reason": "x", "version": 1}, format="json")
    assert stale.status_code == 409
    advance(referral, S.SENT, actor=worker)
    assert sender.patch(f"{URL}{referral.pk}/", {"reason": "Too late"}, format="json").status_code == 409


# --- consent ------------------------------------------------------------------------------------


def test_outside_facility_needs_consent_to_share(as_user, worker, client_a, facility_a):
    sender = as_user(worker)
    referral = Referral.objects.get(pk=create(sender, client_a, facility_a).data["id"])
    response = act(sender, referral, "send")
    assert response.status_code == 400
    assert "setuju" in str(response.data["client"][0])
    referral.refresh_from_db()
    assert referral.status == S.DRAFT and referral.sent_at is None
    assert ReferralEvent.objects.filter(referral=referral).count() == 1


def test_withdrawn_consent_stops_outside_referrals(as_user, supervisor, sharing_client_a, facility_a):
    sharing_client_a.__class__.objects.filter(pk=sharing_client_a.pk).update(consent_withdrawn_on="2026-02-01")
    sender = as_user(supervisor)
    referral = Referral.objects.get(pk=create(sender, sharing_client_a, facility_a).data["id"])
    assert act(sender, referral, "send").status_code == 400


def test_centre_service_needs_no_consent(as_user, worker, client_a, centre):
    sender = as_user(worker)
    response = create(sender, client_a, centre, service="counselling")
    assert response.status_code == 201, response.data
    response = act(sender, Referral.objects.get(pk=response.data["id"]), "send")
    assert response.status_code == 200
    assert response.data["status"] == "sent"


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"service": "surgery"}, "service"),
        ({"service": "legal_aid"}, "service"),  # not offered by the clinic
        ({"urgency": "whenever"}, "urgency"),
        ({"due_date": "2001-01-01"}, "due_date"),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"reason": ""}, "reason"),
        ({"client": 99999999999999999}, "client"),
        ({"client": "abc"}, "client"),
        ({"to_facility": 10**30}, "to_facility"),
    ],
)
def test_bad_input_is_400(as_user, worker, client_a, facility_a, change, field):
    response = create(as_user(worker), client_a, facility_a, body=change)
    assert response.status_code == 400
    assert field in response.data


@pytest.mark.parametrize("query", ["status=nope", "client=-1", "client=x", "overdue=maybe", "box=all", "service=x"])
def test_bad_filters_are_400(as_user, worker, query):
    assert as_user(worker).get(f"{URL}?{query}").status_code == 400


def test_huge_ids_are_404(as_user, worker):
    assert as_user(worker).get(f"{URL}{'9' * 30}/").status_code == 404
    assert as_user(worker).post(f"{URL}{'9' * 18}/send/", {}, format="json").status_code == 404


# --- concurrency ----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_steps_one_wins(site_a, facility_a):
    """Two clinic staff accept while a third declines: exactly one step is taken.

    (A cancel is left out: after an accept it is legal, so it would not race.)"""
    from cases.models import Client, Role
    from tests.factories import SupportGroupFactory, UserFactory, make_client

    supervisor = UserFactory(role=Role.SUPERVISOR, site=site_a)
    group = SupportGroupFactory(site=site_a)
    client = make_client(actor=supervisor, support_groups=[group])
    Client.objects.filter(pk=client.pk).update(consent_share=True)
    staff = [UserFactory(role=Role.FACILITY_STAFF, site=site_a, facility=facility_a) for _ in range(3)]
    referral = services.referral_create(
        actor=supervisor, client=client, to_facility=facility_a, service="vct", reason="VCT"
    )
    services.referral_send(actor=supervisor, referral=referral)
    steps = [
        lambda: services.referral_accept(actor=staff[0], referral=referral),
        lambda: services.referral_accept(actor=staff[1], referral=referral),
        lambda: services.referral_decline(actor=staff[2], referral=referral, reason="full"),
    ]
    barrier = threading.Barrier(len(steps))
    outcomes, errors = [], []

    def run(step):
        try:
            barrier.wait()
            step()
            outcomes.append("ok")
        except services.Conflict:
            outcomes.append("conflict")
        except Exception as e:  # collected and asserted below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == ["conflict", "conflict", "ok"]
    referral.refresh_from_db()
    assert referral.status in (S.ACCEPTED, S.DECLINED)
    assert ReferralEvent.objects.filter(referral=referral).count() == 3  # draft, sent, the winner
