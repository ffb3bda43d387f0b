"""A client of site A who consents to sharing, a social worker of site B, and signed-in pages."""

import pytest
from django.test import Client as BrowserClient

from cases.models import Client, Role
from tests.factories import UserFactory
from transfers import services


@pytest.fixture
def sharing_client(client_a):
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    client_a.refresh_from_db()
    return client_a


@pytest.fixture
def worker_b(site_b):
    return UserFactory(username="worker_b2", role=Role.SOCIAL_WORKER, site=site_b)


@pytest.fixture
def requested(supervisor, sharing_client, site_b):
    """client_a asked to move to site B, waiting for site B's answer."""
    return services.transfer_request(
        actor=supervisor, client=sharing_client, to_site=site_b, reason="Pindah ke Makassar"
    )


@pytest.fixture
def page_as():
    """A Django test client signed in as `user` (the session, as a browser would have it)."""

    def _as(user):
        c = BrowserClient()
        c.force_login(user)
        return c

    return _as
