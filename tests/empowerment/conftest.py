"""Programmes around client_a (site A, group A1) and client_b (site B), made through the
services as the app makes them."""

import datetime

import pytest
from django.utils import timezone

from empowerment import services


def site_today(site):
    return timezone.localdate(timezone=site.tzinfo)


@pytest.fixture
def programme_a(supervisor, worker, group_a1):
    """A productive-economy group of KDS Sahabat, run by the assigned social worker."""
    today = site_today(supervisor.site)
    return services.programme_create(
        actor=supervisor,
        site=supervisor.site,
        kind="economic",
        name="Kelompok Usaha Bersama Sahabat",
        start_date=today - datetime.timedelta(days=60),
        facilitator=worker,
        partner="Koperasi Maju Bersama",
        support_group=group_a1,
    )


@pytest.fixture
def enrolment_a(programme_a, supervisor, client_a):
    return services.enrolment_create(
        actor=supervisor,
        programme=programme_a,
        client=client_a,
        enrolled_on=programme_a.start_date,
        income_before="<500k",
    )


@pytest.fixture
def session_a(programme_a, enrolment_a, supervisor, client_a):
    return services.session_record(
        actor=supervisor,
        programme=programme_a,
        date=site_today(programme_a.site) - datetime.timedelta(days=7),
        topic="Pembukuan sederhana",
        attendees=[client_a],
        others={"family": 2, "community": 0, "health_workers": 1},
    )


@pytest.fixture
def programme_b(outsider_supervisor):
    today = site_today(outsider_supervisor.site)
    return services.programme_create(
        actor=outsider_supervisor,
        site=outsider_supervisor.site,
        kind="anti_stigma",
        name="Sosialisasi Kelurahan",
        start_date=today - datetime.timedelta(days=30),
    )


@pytest.fixture
def enrolment_b(programme_b, outsider_supervisor, client_b):
    return services.enrolment_create(
        actor=outsider_supervisor, programme=programme_b, client=client_b, enrolled_on=client_b.consent_date
    )
