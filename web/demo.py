"""Demo data of the field's last weeks (seed_demo's hook, SPEC §11): home visits, outreach
contacts, meetings, incidents, referrals and services, made through the services of outreach
and referrals (this app sits above both), so every demo account finds something in each of
its boxes."""

import random
from datetime import timedelta

from django.utils import timezone

from cases import outbox, services
from cases.arv import services as arv_services
from cases.management.commands.seed_demo import KELURAHAN
from cases.models import (
    Client,
    ClientStatus,
    DaysSupplied,
    Facility,
    Notification,
    Role,
    SupportGroup,
    Tracing,
    TracingStatus,
    User,
)
from outreach import services as outreach
from outreach.models import IncidentKind, ServiceKind, VisitKind
from referrals import access as referral_access
from referrals import services as referrals
from referrals.models import Urgency


def seed_field_activity(*, site, today):
    """The site's field work of the last weeks, by its own accounts."""
    rng = random.Random(f"{site.code}-field")
    staff = User.objects.filter(site=site).order_by("pk")
    supervisor = staff.filter(role=Role.SUPERVISOR).first()
    workers = list(staff.filter(role=Role.SOCIAL_WORKER))
    # Each group's volunteers, its coordinator first.
    volunteers = {}
    for group in SupportGroup.objects.filter(site=site).order_by("pk"):
        members = list(staff.filter(role=Role.VOLUNTEER, groups=group.auth_group))
        members.sort(key=lambda user: user.pk != group.coordinator_id)
        volunteers[group] = members
    facilities = list(Facility.objects.filter(site=site).order_by("pk"))
    if supervisor is None or not workers or len(facilities) < 3 or any(len(m) < 2 for m in volunteers.values()):
        return  # not the demo site's organisation
    _field_activity(rng, today, site, supervisor, workers, volunteers, facilities[:3])


def _field_activity(rng, today, site, supervisor, workers, volunteers, facilities):
    """Work of the last weeks, through the services: each social worker's home visits (some
    planning a visit that is now due), each volunteer's outreach contacts and referrals (one
    still a draft, others sent and some accepted by the facility), a meeting of each group,
    services given, and one open incident per group with its volunteers among the responders."""
    hospital, puskesmas, centre = facilities
    now = timezone.now()
    # In care for more than a month: none of this lies before their consent.
    active = Client.objects.filter(
        site=site, status=ClientStatus.ACTIVE, consent_date__lt=today - timedelta(days=31)
    ).order_by("pk")
    traced = set(Tracing.objects.filter(status=TracingStatus.OPEN).values_list("client_id", flat=True))
    visited = set()  # one visit per client keeps each plan the latest one

    def untraced(clients):
        # A visit closes an open tracing task; leave those for the social worker's list.
        return [c for c in clients if c.pk not in traced and c.pk not in visited]

    for worker in workers:
        mine = untraced(active.filter(assigned_social_worker=worker))
        for n, client in enumerate(rng.sample(mine, min(5, len(mine)))):
            at = now - timedelta(days=rng.randint(10, 30), hours=rng.randint(1, 8))
            due = today - timedelta(days=rng.randint(0, 6)) if n < 3 else today + timedelta(days=rng.randint(5, 25))
            outreach.visit_record(
                actor=worker,
                client=client,
                visited_at=at,
                kind=VisitKind.HOME_VISIT,
                missed_doses_7d=rng.choice([0, 0, 0, 1, 2]),
                pills_left=rng.randint(5, 60),
                health_complaints=rng.choice(["", "Batuk ringan", "Pusing sesekali", "Nafsu makan turun"]),
                family_support=rng.choice(["Ibu mendukung", "Pasangan tahu status", "Belum terbuka ke keluarga"]),
                plan=rng.choice(["Kunjungan ulang", "Antar ke klinik", "Pantau kepatuhan minum obat"]),
                next_visit_date=due,
            )
            visited.add(client.pk)

    for group, members in volunteers.items():
        coordinator, other = members
        group_clients = list(active.filter(support_groups=group))
        for volunteer in members:
            reach = untraced(referral_access.clients_referable_by(volunteer).filter(pk__in=active))
            for client in rng.sample(reach, min(2, len(reach))):
                outreach.visit_record(
                    actor=volunteer,
                    client=client,
                    visited_at=now - timedelta(days=rng.randint(1, 12), hours=rng.randint(1, 6)),
                    kind=rng.choice([VisitKind.OUTREACH, VisitKind.PHONE]),
                    health_complaints="",
                    plan="Ingatkan jadwal ambil obat",
                )
                visited.add(client.pk)
        outreach.meeting_record(
            actor=coordinator,
            support_group=group,
            attendees=rng.sample(group_clients, min(6, len(group_clients))),
            date=today - timedelta(days=rng.randint(3, 20)),
            topic=rng.choice(["Kepatuhan minum ARV", "Gizi dan kesehatan", "Hak dan layanan kesehatan"]),
            facilitator=coordinator,
        )
        concerned = rng.choice(group_clients)
        incident = outreach.incident_report(
            actor=coordinator,
            site=site,
            client=concerned,
            kind=rng.choice([IncidentKind.EVICTION, IncidentKind.DISCRIMINATION, IncidentKind.ECONOMIC_CRISIS]),
            urgency=rng.choice([Urgency.HIGH, Urgency.NORMAL]),
            location="Kel. " + rng.choice(KELURAHAN),
            description="Klien meminta bantuan pendamping.",
            responders=[*members, concerned.assigned_social_worker or supervisor],
        )
        if rng.random() < 0.5:
            outreach.incident_transition(actor=other, incident=incident, action="acknowledge")

        # Referrals: to the clinics for those who consented to sharing, else the centre's services.
        for n, volunteer in enumerate(members):
            reach = list(referral_access.clients_referable_by(volunteer).filter(pk__in=active))
            for step in ("accepted", "sent") if n == 0 else ("sent", "draft"):
                client = rng.choice(reach)
                facility = (
                    rng.choice([hospital, puskesmas])
                    if client.consent_share and not client.consent_withdrawn_on
                    else centre
                )
                referral = referrals.referral_create(
                    actor=volunteer,
                    client=client,
                    to_facility=facility,
                    service=rng.choice(facility.services),
                    reason="Perlu layanan lanjutan sesuai hasil kunjungan.",
                    urgency=rng.choice([Urgency.NORMAL, Urgency.HIGH]),
                    due_date=today + timedelta(days=rng.randint(5, 20)),
                )
                if step != "draft":
                    referral = referrals.referral_send(actor=volunteer, referral=referral)
                if step == "accepted":
                    staff = User.objects.filter(facility=facility).first() or supervisor
                    referrals.referral_accept(actor=staff, referral=referral, note="Dijadwalkan minggu ini.")

    # The supervisor refers too (their own outbox), to the centre's services.
    referral = referrals.referral_create(
        actor=supervisor,
        client=rng.choice(list(active)),
        to_facility=centre,
        service="emergency_aid",
        reason="Bantuan darurat setelah kehilangan pekerjaan.",
        urgency=Urgency.HIGH,
    )
    referrals.referral_send(actor=supervisor, referral=referral)

    # A volunteer whose clients the scan had nothing to say about accompanies one whose
    # refill is coming up in two days: the next scan tells them.
    for group, members in volunteers.items():
        for volunteer in members:
            if Notification.objects.filter(recipient_user=volunteer).exists():
                continue
            # (one whose last pick-up is older, so the new one is the latest)
            ready = active.filter(
                consent_withdrawn_on=None, last_refill__pickup_date__lt=today - timedelta(days=28)
            ).exclude(pk__in=traced)
            client = ready.filter(companion=volunteer).first()
            if client is None:  # they take on one of their group's clients
                client = ready.filter(support_groups=group).first()
                client = services.client_update(actor=supervisor, client=client, companion=volunteer)
            arv_services.refill_record(
                actor=supervisor,
                client=client,
                facility=client.art_facility or hospital,
                pickup_date=today - timedelta(days=28),
                days_supplied=DaysSupplied.ONE_MONTH,
            )
    outbox.run_all()

    for worker in workers:
        mine = list(active.filter(assigned_social_worker=worker, consent_share=True, consent_withdrawn_on=None))
        client = rng.choice(mine)
        referral = referrals.referral_create(
            actor=worker,
            client=client,
            to_facility=hospital,
            service="viral_load",
            reason="Jadwal tes viral load.",
            due_date=today + timedelta(days=14),
        )
        referrals.referral_send(actor=worker, referral=referral)
        outreach.service_record(
            actor=worker,
            client=rng.choice(list(active.filter(assigned_social_worker=worker))),
            service=rng.choice([ServiceKind.COUNSELLING, ServiceKind.FAMILY_STRENGTHENING]),
            date=today - timedelta(days=rng.randint(1, 20)),
            note="Sesi dengan keluarga.",
        )
