"""The cycle around client_a (site A, group A1, assigned to `worker`, accompanied by
`volunteer`) and client_b (site B), made through the services as the app makes them."""

import datetime

import pytest
from django.utils import timezone

from casework import services
from casework.models import DOMAINS


def site_today(site):
    return timezone.localdate(timezone=site.tzinfo)


def scores(**overrides):
    """Every domain at 2 unless said otherwise."""
    return {**dict.fromkeys(DOMAINS, 2), **overrides}


@pytest.fixture
def assessment_a(worker, client_a):
    return services.assessment_record(
        actor=worker,
        client=client_a,
        assessed_on=site_today(client_a.site) - datetime.timedelta(days=100),
        scores=scores(arv_adherence=1),
        notes={"arv_adherence": "Sering lupa minum obat"},
    )


@pytest.fixture
def plan_a(worker, client_a, assessment_a):
    return services.plan_create(actor=worker, client=client_a, started_on=assessment_a.assessed_on)


@pytest.fixture
def goal_a(worker, plan_a):
    return services.goal_create(actor=worker, plan=plan_a, domain="arv_adherence", description="Minum ARV teratur")


@pytest.fixture
def action_a(worker, volunteer, goal_a):
    """Given to the volunteer of the client's group."""
    return services.action_create(
        actor=worker,
        goal=goal_a,
        description="Pasang alarm minum obat",
        owner=volunteer,
        due_date=site_today(goal_a.client.site) + datetime.timedelta(days=3),
    )


@pytest.fixture
def reassessment_a(worker, client_a, assessment_a):
    return services.assessment_record(
        actor=worker,
        client=client_a,
        assessed_on=site_today(client_a.site) - datetime.timedelta(days=5),
        scores=scores(arv_adherence=3, economic=3),
    )


@pytest.fixture
def review_a(worker, client_a, reassessment_a):
    return services.review_record(
        actor=worker, client=client_a, assessment=reassessment_a, note="Kepatuhan membaik; lanjutkan."
    )


@pytest.fixture
def assessment_b(outsider_worker, client_b):
    return services.assessment_record(
        actor=outsider_worker,
        client=client_b,
        assessed_on=site_today(client_b.site) - datetime.timedelta(days=10),
        scores=scores(),
    )
