"""Referral fixtures around the personas of tests/conftest.py.

`facility_a` (a hospital clinic of site A, staffed by `facility_staff`) receives; `centre`
is one of the centre's own services; `facility_c` is another clinic with its own staff.
"""

import datetime

import pytest

from cases.models import Client, FacilityKind, Role
from referrals import services
from referrals.models import ReferralStatus
from tests.factories import FacilityFactory, UserFactory


@pytest.fixture
def centre(site_a):
    return FacilityFactory(site=site_a, name="Layanan Konseling Sentra", kind=FacilityKind.CENTRE_SERVICE, services=[])


@pytest.fixture
def facility_c(site_a):
    return FacilityFactory(site=site_a, name="Puskesmas Kota", kind=FacilityKind.PUSKESMAS)


@pytest.fixture
def facility_c_staff(facility_c):
    return UserFactory(username="clinic_c", role=Role.FACILITY_STAFF, site=facility_c.site, facility=facility_c)


@pytest.fixture
def sharing_client_a(client_a):
    """client_a, consenting to sharing with outside facilities."""
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    client_a.refresh_from_db()
    return client_a


def advance(referral, status, *, actor):
    """Take `referral` (a draft) through the state machine to `status`."""
    path = {
        ReferralStatus.DRAFT: [],
        ReferralStatus.SENT: ["send"],
        ReferralStatus.ACCEPTED: ["send", "accept"],
        ReferralStatus.DECLINED: ["send", "decline"],
        ReferralStatus.COMPLETED: ["send", "accept", "complete"],
        ReferralStatus.NOT_COMPLETED: ["send", "accept", "complete"],
        ReferralStatus.CANCELLED: ["cancel"],
    }[status]
    for action in path:
        referral = services.referral_transition(
            action=action,
            referral=referral,
            actor=actor,
            reason="r",
            outcome="o",
            result=ReferralStatus.NOT_COMPLETED if status == ReferralStatus.NOT_COMPLETED else ReferralStatus.COMPLETED,
        )
    return referral


@pytest.fixture
def make_referral(worker):
    def _make(*, client, facility, status=ReferralStatus.DRAFT, actor=None, service="vct", due_date=None, **extra):
        referral = services.referral_create(
            actor=actor or worker,
            client=client,
            to_facility=facility,
            service=service,
            reason=extra.pop("reason", "Needs a VCT test"),
            urgency=extra.pop("urgency", "normal"),
            due_date=due_date,
        )
        return advance(referral, status, actor=actor or worker)

    return _make


@pytest.fixture
def sent_referral(make_referral, sharing_client_a, facility_a):
    return make_referral(client=sharing_client_a, facility=facility_a, status=ReferralStatus.SENT)


@pytest.fixture
def future():
    return datetime.date.today() + datetime.timedelta(days=30)
