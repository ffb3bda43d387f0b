"""The world the schema fuzz runs in: real records at two sites, an API token per persona,
and the WSGI app called in-process inside the test's transaction.

Every persona of tests/conftest.py is signed in by token. Site A's records surround
`client_a`; site B mirrors them around `client_b`, so `outsider_supervisor` (site B) also
reaches real objects of its own instead of only 404s.
"""

import datetime
import traceback

import pytest
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone

from cases import outbox
from cases import services as case_services
from cases.arv import services as arv_services
from cases.models import (
    Client,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    Refill,
    Role,
    Tracing,
)
from cases.security import tokens
from casework import services as casework_services
from casework.models import DOMAINS
from empowerment import services as empowerment_services
from outreach import services as outreach_services
from referrals import services as referral_services
from tests.factories import FacilityFactory, UserFactory
from transfers import services as transfer_services

# Who signs in, in the order the requests go out; None is the anonymous caller.
PERSONAS = (
    None,
    "admin_user",
    "supervisor",
    "worker",
    "colleague",
    "volunteer",
    "other_volunteer",
    "facility_staff",
    "outsider_supervisor",
)
# outsider_supervisor works at site B; everyone else at site A (the admin at none: A's ids).
HOME_SITE = {"outsider_supervisor": "b"}


def _site_records(*, site, client, group, facility, worker, volunteer, supervisor):
    """A record of every kind around `client`, as its site's staff would make them; ids by
    the API resource (the path segment) they are read at."""
    today = timezone.localdate(timezone=site.tzinfo)
    # Outside facilities receive only clients who consent to sharing.
    Client.objects.filter(pk=client.pk).update(consent_share=True)
    client.refresh_from_db()
    # 40 days ago with 30 days' supply: the reminder scan opens a tracing task.
    refill = arv_services.refill_record(
        actor=worker,
        client=client,
        facility=facility,
        pickup_date=today - datetime.timedelta(days=40),
        days_supplied=30,
    )
    viral_load = arv_services.viral_load_record(
        actor=worker, client=client, sample_date=today - datetime.timedelta(days=10), copies_per_ml=40
    )
    visit = outreach_services.visit_record(
        actor=worker,
        client=client,
        visited_at=timezone.now() - datetime.timedelta(hours=2),
        kind="home_visit",
        plan="Kunjungan ulang",
    )
    meeting = outreach_services.meeting_record(
        actor=supervisor, support_group=group, date=today, topic="Kepatuhan minum obat", attendees=[client]
    )
    service = outreach_services.service_record(actor=worker, client=client, service="counselling", date=today)
    incident = outreach_services.incident_report(
        actor=worker,
        site=site,
        client=client,
        kind="eviction",
        urgency="high",
        reporter_name="Ibu Ani",
        description="Diusir dari kos",
        responders=[volunteer],
    )
    referral = referral_services.referral_create(
        actor=worker, client=client, to_facility=facility, service="vct", reason="Tes VCT"
    )
    referral = referral_services.referral_transition(action="send", referral=referral, actor=worker)
    programme = empowerment_services.programme_create(
        actor=supervisor,
        site=site,
        kind="economic",
        name="Kelompok Usaha Bersama",
        start_date=client.consent_date,
        facilitator=worker,
        support_group=group,
    )
    enrolment = empowerment_services.enrolment_create(
        actor=supervisor, programme=programme, client=client, enrolled_on=client.consent_date, income_before="none"
    )
    session = empowerment_services.session_record(
        actor=volunteer,
        programme=programme,
        date=today,
        topic="Pembukuan",
        attendees=[client],
        others={"family": 1, "community": 2, "health_workers": 0},
    )
    cycle = _cycle(site=site, client=client, worker=worker, volunteer=volunteer, referral=referral, today=today)
    return {
        "ids": {
            **cycle["ids"],
            "sites": site.pk,
            "support-groups": group.pk,
            "facilities": facility.pk,
            "clients": client.pk,
            "users": worker.pk,
            "refills": refill.pk,
            "viral-loads": viral_load.pk,
            "visits": visit.pk,
            "meetings": meeting.pk,
            "services": service.pk,
            "incidents": incident.pk,
            "referrals": referral.pk,
            "programmes": programme.pk,
            "sessions": session.pk,
            "enrolments": enrolment.pk,
            # Persons a body or a filter may name.
            "worker": worker.pk,
            "volunteer": volunteer.pk,
        },
        "versions": {
            "clients": client.version,
            "visits": visit.version,
            "incidents": incident.version,
            "referrals": referral.version,
            "enrolments": enrolment.version,
            "actions": cycle["action"].version,
        },
    }


def _cycle(*, site, client, worker, volunteer, referral, today):
    """The case-management cycle of `client`: two assessments, a plan with a goal and an
    action given to the volunteer, a review awaiting sign-off, a closure reopened."""
    scores = dict.fromkeys(DOMAINS, 2)
    first = casework_services.assessment_record(
        actor=worker, client=client, assessed_on=client.consent_date, scores=scores
    )
    second = casework_services.assessment_record(actor=worker, client=client, assessed_on=today, scores=scores)
    plan = casework_services.plan_create(actor=worker, client=client, started_on=client.consent_date)
    goal = casework_services.goal_create(actor=worker, plan=plan, domain="economic", description="Usaha kecil")
    action = casework_services.action_create(
        actor=worker, goal=goal, description="Ikut KUBE", owner=volunteer, due_date=today, referral=referral
    )
    review = casework_services.review_record(actor=worker, client=client, assessment=second, note="Membaik")
    closure = casework_services.client_close(actor=worker, client=client, reason="other", closed_on=today)
    casework_services.client_reopen(actor=worker, client=client, note="Salah catat")
    client.refresh_from_db()
    casework_services.social_protection_set(actor=worker, client=client, bpjs_membership="pbi")
    return {
        "ids": {
            "assessments": first.pk,
            "plans": plan.pk,
            "goals": goal.pk,
            "actions": action.pk,
            "reviews": review.pk,
            "closures": closure.pk,
        },
        "action": action,
    }


@pytest.fixture
def fuzz_world(
    request,
    site_a,
    site_b,
    group_a1,
    group_b1,
    facility_a,
    client_a,
    client_b,
    supervisor,
    worker,
    volunteer,
    outsider_supervisor,
    outsider_worker,
):
    """Ids of real records per site, tokens per persona, and a notification in each inbox."""
    users = {name: request.getfixturevalue(name) for name in PERSONAS if name}
    facility_b = FacilityFactory(site=site_b, name="Klinik VCT RS Wahidin")
    volunteer_b = UserFactory(username="volunteer_b1", role=Role.VOLUNTEER, site=site_b, support_groups=[group_b1])
    sides = {
        "a": _site_records(
            site=site_a,
            client=client_a,
            group=group_a1,
            facility=facility_a,
            worker=worker,
            volunteer=volunteer,
            supervisor=supervisor,
        ),
        "b": _site_records(
            site=site_b,
            client=client_b,
            group=group_b1,
            facility=facility_b,
            worker=outsider_worker,
            volunteer=volunteer_b,
            supervisor=outsider_supervisor,
        ),
    }
    outbox.run_all()  # opens the tracing tasks of the late refills
    for side, client in (("a", client_a), ("b", client_b)):
        sides[side]["ids"]["tracing"] = Tracing.objects.get(client=client).pk
    # A social worker outside client_a's reach opens it in an emergency: break-glass rows
    # for the supervisors' review list (not a persona, so no persona's reach changes).
    breaker = UserFactory(username="breaker_a", role=Role.SOCIAL_WORKER, site=site_a)
    case_services.client_break_glass(actor=breaker, client=client_a, reason="Klien dirawat di IGD")
    # A transfer of client_a to site B waits for an answer: both sides' supervisors see it.
    transfer = transfer_services.transfer_request(
        actor=supervisor, client=client_a, to_site=site_b, reason="Pindah ke Makassar"
    )
    for side in sides.values():
        side["ids"]["transfers"] = transfer.pk

    now = timezone.now()
    notifications = {}
    for name, user in users.items():
        notifications[name] = Notification.objects.create(
            kind=NotificationKind.REFILL_MISSED,
            subject_type="client",
            subject_id=client_a.pk,
            recipient_key=f"user:{user.pk}",
            recipient_user=user,
            site=user.site,
            channel=NotificationChannel.IN_APP,
            status=NotificationStatus.SENT,
            text="Pengambilan obat terlewat",
            sent_at=now,
            created_at=now,
            deliver_after=now,
        ).pk
    assert Refill.objects.count() == 2
    return {
        "tokens": {name: tokens.issue(user)[0] for name, user in users.items()},
        "sides": sides,
        "notifications": notifications,
    }


@pytest.fixture
def in_process_requests():
    """Requests through the WSGI app share the test's connection and transaction, as
    Django's test client arranges: without this, the end of each request would close the
    connection the test's transaction lives on. Yields the exceptions the app raised."""
    raised = []

    def record(sender, request=None, **kwargs):
        raised.append(traceback.format_exc())

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    signals.got_request_exception.connect(record)
    try:
        yield raised
    finally:
        signals.got_request_exception.disconnect(record)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
