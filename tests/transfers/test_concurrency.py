"""Two answers to one transfer at once, and two requests for one client at once: one wins."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from cases.exceptions import Conflict
from cases.models import Client, Role
from tests.factories import SiteFactory, UserFactory, make_client
from transfers import services
from transfers.models import Transfer, TransferStatus


def _race(steps):
    barrier = threading.Barrier(len(steps))
    outcomes, errors = [], []

    def run(step):
        try:
            barrier.wait()
            step()
            outcomes.append("ok")
        except (Conflict, ValidationError):
            outcomes.append("refused")
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
    return sorted(outcomes)


@pytest.fixture
def two_sites(transactional_db):
    site_a, site_b = SiteFactory(code="TTE"), SiteFactory(code="TDR")
    supervisor_a = UserFactory(role=Role.SUPERVISOR, site=site_a)
    receivers = [UserFactory(role=Role.SUPERVISOR, site=site_b) for _ in range(3)]
    client = make_client(actor=supervisor_a)
    Client.objects.filter(pk=client.pk).update(consent_share=True)
    return site_b, supervisor_a, receivers, client


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_accept_while_one_declines_one_wins(two_sites):
    site_b, supervisor_a, receivers, client = two_sites
    transfer = services.transfer_request(actor=supervisor_a, client=client, to_site=site_b, reason="Pindah")
    outcomes = _race(
        [
            lambda: services.transfer_accept(actor=receivers[0], transfer=transfer),
            lambda: services.transfer_accept(actor=receivers[1], transfer=transfer),
            lambda: services.transfer_decline(actor=receivers[2], transfer=transfer, reason="Penuh"),
        ]
    )
    assert outcomes == ["ok", "refused", "refused"]
    transfer.refresh_from_db()
    client.refresh_from_db()
    assert transfer.status in (TransferStatus.ACCEPTED, TransferStatus.DECLINED)
    assert (client.site_id == site_b.pk) == (transfer.status == TransferStatus.ACCEPTED)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_for_one_client_one_is_made(two_sites):
    site_b, supervisor_a, _receivers, client = two_sites
    ask = lambda: services.transfer_request(actor=supervisor_a, client=client, to_site=site_b, reason="Pindah")  # noqa: E731
    assert _race([ask, ask]) == ["ok", "refused"]
    assert Transfer.objects.filter(client=client, status=TransferStatus.REQUESTED).count() == 1
