"""cases.access read the other way round: `readers_of(client)` and the `reads_client` filter
name exactly the users for whom `clients_visible_to(user)` holds the client, in every state
that changes reach: assignment, a live or expired share, a companion, a group, withdrawn
consent, another site, an inactive account, facility staff."""

import datetime

import pytest
from django.utils import timezone

from cases import access
from cases import services as case_services
from cases.models import Client, ClientUserObjectPermission, GrantKind, User
from tests.factories import make_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(
    supervisor,
    worker,
    colleague,
    volunteer,
    other_volunteer,
    facility_staff,
    outsider_supervisor,
    outsider_worker,
    admin_user,
    client_a,
    client_b,
    group_a2,
):
    today = timezone.localdate()
    shared = make_client(actor=supervisor, full_name="Rina Wulandari", support_groups=[group_a2])
    case_services.client_share(actor=supervisor, client=shared, user=colleague, until=today)
    expired = make_client(actor=supervisor, full_name="Dewi Lestari", assigned_social_worker=colleague)
    case_services.client_share(actor=supervisor, client=expired, user=worker, until=today)
    ClientUserObjectPermission.objects.filter(content_object=expired, user=worker, kind=GrantKind.SHARE).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    withdrawn = make_client(
        actor=supervisor,
        full_name="Maya Sari",
        assigned_social_worker=worker,
        companion=other_volunteer,
        support_groups=[group_a2],
    )
    Client.objects.filter(pk=withdrawn.pk).update(consent_withdrawn_on=today)
    User.objects.filter(pk=outsider_worker.pk).update(is_active=False)
    return list(Client.objects.filter(pk__in=[client_a.pk, client_b.pk, shared.pk, expired.pk, withdrawn.pk]))


def _by_rule(client):
    return {u.pk for u in User.objects.all() if access.clients_visible_to(u).filter(pk=client.pk).exists()}


def test_readers_of_a_client_are_those_it_is_visible_to(world):
    for client in world:
        assert set(access.readers_of(client).values_list("pk", flat=True)) == _by_rule(client), client.full_name


def test_reads_client_on_rows_is_the_same_rule(world):
    """On client rows, through the assigned social worker and the companion (two paths)."""
    for path in ("assigned_social_worker", "companion"):
        expected = {
            c.pk for c in world if getattr(c, f"{path}_id") is not None and getattr(c, f"{path}_id") in _by_rule(c)
        }
        got = set(
            Client.objects.filter(pk__in=[c.pk for c in world])
            .filter(access.reads_client(path))
            .values_list("pk", flat=True)
        )
        assert got == expected, path
    # The states above are all present: someone reads and someone does not, by each path.
    assert expected and expected != {c.pk for c in world if c.companion_id}
