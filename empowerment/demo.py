"""The demo site's empowerment (seed_demo's hook, through the services): a productive-economy
group of the KDS smoking fish, a barista training with its sessions and outcomes, and an
anti-stigma session in a neighbourhood."""

import random
from datetime import timedelta

from cases.models import Client, ClientStatus, Role, SupportGroup, User

from . import services
from .models import Outcome, Programme

INCOME_UP = {"none": "<500k", "<500k": "500k-1M", "500k-1M": "1-2M", "1-2M": ">2M", ">2M": ">2M"}


def _participants(site, start, *, group=None):
    """Active clients with consent from before `start` (and of `group`), in code order."""
    clients = Client.objects.filter(
        site=site, status=ClientStatus.ACTIVE, consent_withdrawn_on__isnull=True, consent_date__lte=start
    )
    if group is not None:
        clients = clients.filter(support_groups=group)
    return list(clients.order_by("code"))


def _run(programme, *, actor, recorder, clients, days, rng, others=None, outcomes=()):
    """Enrol `clients`, hold a session on each of `days` (each enrolled client comes with a
    chance of 4 in 5), then record `outcomes` (outcome, day) for the first ones."""
    enrolments = [
        services.enrolment_create(
            actor=actor,
            programme=programme,
            client=client,
            enrolled_on=programme.start_date,
            **(
                {"income_before": rng.choice(["none", "<500k", "<500k", "500k-1M"])}
                if programme.kind in ("economic", "skills")
                else {}
            ),
        )  # fmt: skip
        for client in clients
    ]
    for n, (day, topic) in enumerate(days):
        came = [c for c in clients if rng.random() < 0.8]
        services.session_record(
            actor=recorder, programme=programme, date=day, topic=topic, attendees=came,
            others=others(n) if others else None,
        )  # fmt: skip
    for enrolment, (outcome, day) in zip(enrolments, outcomes, strict=False):
        fields = {"outcome": outcome, "outcome_on": day}
        if programme.kind in ("economic", "skills") and outcome == Outcome.COMPLETED:
            up = rng.random() < 0.7
            fields.update(
                business_started=rng.random() < 0.5,
                income_after=INCOME_UP[enrolment.income_before] if up else enrolment.income_before,
                employed=programme.kind == "skills" and rng.random() < 0.6,
            )
        services.enrolment_update(actor=actor, enrolment=enrolment, **fields)


def seed_programmes(*, site, today):
    rng = random.Random(2612)
    supervisor = User.objects.get(site=site, role=Role.SUPERVISOR, username="supervisor")
    workers = list(User.objects.filter(site=site, role=Role.SOCIAL_WORKER).order_by("username"))
    kds = SupportGroup.objects.filter(site=site, kind="KDS").order_by("pk").first()
    volunteer = kds.auth_group.user_set.order_by("username").first()

    # A productive-economy group of the KDS: smoked fish, with a fishers' cooperative.
    start = today - timedelta(days=120)
    kube = services.programme_create(
        actor=supervisor, site=site, kind="economic", name="KUBE Ikan Asap Kie Raha", start_date=start,
        facilitator=volunteer, partner="Koperasi Nelayan Kalumpang", support_group=kds,
    )  # fmt: skip
    members = _participants(site, start, group=kds)[:6]
    topics = ["Memilih ikan", "Pengasapan", "Kemasan", "Pembukuan sederhana", "Pemasaran di pasar Gamalama"]
    days = [(start + timedelta(days=14 * n), topics[n % len(topics)]) for n in range(8)]
    _run(kube, actor=supervisor, recorder=volunteer, clients=members, days=days, rng=rng,
         outcomes=[(Outcome.COMPLETED, today - timedelta(days=10))] * 3
         + [(Outcome.DROPPED, start + timedelta(days=40))])  # fmt: skip

    # A barista training with a café, over; most finished, one dropped out.
    start, end = today - timedelta(days=90), today - timedelta(days=30)
    barista = services.programme_create(
        actor=supervisor, site=site, kind="skills", name="Pelatihan Barista", start_date=start, end_date=end,
        facilitator=workers[1], partner="Kopi Gamalama",
    )  # fmt: skip
    trainees = [c for c in _participants(site, start) if c not in members][:5]
    days = [(start + timedelta(days=10 * n), f"Sesi {n + 1}: {t}") for n, t in enumerate(
        ["Mengenal kopi", "Espresso", "Susu dan latte", "Kebersihan", "Melayani tamu", "Ujian praktik"])]  # fmt: skip
    _run(barista, actor=workers[1], recorder=workers[1], clients=trainees, days=days, rng=rng,
         outcomes=[(Outcome.COMPLETED, end)] * 4 + [(Outcome.DROPPED, start + timedelta(days=25))])  # fmt: skip

    # An anti-stigma session in a neighbourhood: two clients speak, the rest are counted.
    day = today - timedelta(days=20)
    stigma = services.programme_create(
        actor=supervisor, site=site, kind="anti_stigma", name="Sosialisasi Stop Stigma Kelurahan Gamalama",
        start_date=day, end_date=day, facilitator=supervisor, partner="Puskesmas Kalumpang",
    )  # fmt: skip
    speakers = [c for c in _participants(site, day) if c not in members and c not in trainees][:2]
    for client in speakers:
        services.enrolment_create(actor=supervisor, programme=stigma, client=client, enrolled_on=day)
    services.session_record(
        actor=supervisor, programme=stigma, date=day, topic="HIV bukan kutukan: hidup bersama ODHA",
        attendees=speakers, others={"family": 6, "community": 34, "health_workers": 3},
    )  # fmt: skip
    for enrolment in stigma.enrolments.all():
        services.enrolment_update(actor=supervisor, enrolment=enrolment, outcome=Outcome.COMPLETED, outcome_on=day)
    return list(Programme.objects.filter(site=site))
