"""The demo site's case-management cycle (seed_demo's hook, through the services): each
social worker's clients assessed, plans with goals and actions (some done, some due this
week, one late), reviews (one awaiting the supervisor's sign-off) and a closed case, so a
new user sees the whole cycle at once. Some clients stay unassessed: their assessment is due."""

import random
from datetime import timedelta

from cases.models import Client, ClientStatus, Role, User
from empowerment.models import Enrolment

from . import services
from .models import DOMAINS

GOALS = {
    "arv_adherence": ("Minum ARV teratur setiap hari", ["Pasang alarm minum obat di HP", "Kotak obat mingguan"]),
    "economic": ("Punya penghasilan tetap", ["Ikut kelompok usaha bersama", "Buka rekening tabungan"]),
    "documents": ("KTP, KK dan BPJS lengkap", ["Urus KTP di Disdukcapil", "Daftar BPJS PBI lewat dinas sosial"]),
    "family_support": ("Keluarga mendukung pengobatan", ["Konseling keluarga di rumah"]),
    "mental_health": ("Tidur dan suasana hati membaik", ["Konseling dengan psikolog puskesmas"]),
    "housing": ("Tempat tinggal aman", ["Cari kos dekat puskesmas"]),
}


def _scores(rng, *, low=1, high=3):
    return {domain: rng.randint(low, high) for domain in DOMAINS}


def _better(rng, scores):
    return {domain: min(4, score + rng.choice((0, 0, 1, 1, 2))) for domain, score in scores.items()}


def seed_casework(*, site, today):
    rng = random.Random(f"{site.code}-casework")
    supervisor = User.objects.get(site=site, role=Role.SUPERVISOR, username="supervisor")
    workers = list(User.objects.filter(site=site, role=Role.SOCIAL_WORKER, is_active=True).order_by("username"))
    reviews = []
    for n, worker in enumerate(workers):
        caseload = list(
            Client.objects.filter(
                assigned_social_worker=worker,
                status=ClientStatus.ACTIVE,
                consent_withdrawn_on__isnull=True,
                consent_date__lte=today - timedelta(days=130),
            )
            .select_related("companion")
            .order_by("code")[:5]
        )
        for k, client in enumerate(caseload):
            first_day = max(client.consent_date + timedelta(days=14), today - timedelta(days=125 + 7 * k))
            first_scores = _scores(rng)
            first = services.assessment_record(
                actor=worker,
                client=client,
                assessed_on=first_day,
                scores=first_scores,
                notes={"arv_adherence": "Lupa minum obat saat bekerja di kebun."} if k == 0 else {},
            )
            if k >= 3:
                continue  # assessed; the plan is still to be written
            plan = services.plan_create(actor=worker, client=client, started_on=first.assessed_on)
            needs = sorted(first_scores, key=lambda d: (first_scores[d], d))
            for domain in [d for d in needs if d in GOALS][:2]:
                description, steps = GOALS[domain]
                goal = services.goal_create(actor=worker, plan=plan, domain=domain, description=description)
                for m, step in enumerate(steps):
                    owner = client.companion if (m == 1 and client.companion) else worker
                    due = today + timedelta(days=rng.choice((-20, -3, 2, 5, 12, 30)))
                    link = {}
                    if domain == "economic" and m == 0:
                        enrolment = Enrolment.objects.filter(client=client).first()
                        link = {"enrolment": enrolment} if enrolment else {}
                    action = services.action_create(
                        actor=worker, goal=goal, description=step, owner=owner, due_date=due, **link
                    )
                    if due < today - timedelta(days=5):
                        services.action_update(actor=worker, action=action, status="done")
            if k <= 1:
                # Reviewed: reassessed, noted; the first worker's latest review awaits sign-off.
                again = services.assessment_record(
                    actor=worker,
                    client=client,
                    assessed_on=today - timedelta(days=10 + 3 * n + k),
                    scores=_better(rng, first_scores),
                )
                reviews.append(
                    services.review_record(
                        actor=worker,
                        client=client,
                        assessment=again,
                        note="Kepatuhan minum obat membaik; lanjutkan rencana, fokus pada dokumen.",
                    )
                )
        if n == 0 and len(caseload) >= 5:
            # A case closed: the goals were met.
            closed = caseload[4]
            services.client_close(
                actor=worker,
                client=closed,
                reason="goals_met",
                closed_on=today - timedelta(days=7),
                note="Mandiri: patuh ARV, bekerja, keluarga mendukung.",
            )
        if caseload:
            services.social_protection_set(
                actor=worker,
                client=caseload[0],
                bpjs_membership="pbi",
                bpjs_number=f"000{rng.randint(10**9, 10**10 - 1)}",
                has_ktp=True,
                has_kk=True,
                pkh_since=today - timedelta(days=400),
            )
    # Signed off, all but one: the supervisor's queue shows it.
    for review in reviews[1:]:
        services.review_sign_off(actor=supervisor, review=review)
    return reviews
