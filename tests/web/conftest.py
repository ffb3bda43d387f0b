"""Web pages: signed-in Django test clients per persona, and a client late on ARV."""

import datetime

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone

from cases.arv import services as arv_services


@pytest.fixture
def allow_sync_orm_under_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in the test thread; the ORM calls the fixtures
    make from that thread are still synchronous. Only for the browser tests, and undone after
    them, so no other test (or subprocess) inherits it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def end_connections_left_by_the_browser_tests(django_db_setup, django_db_blocker):
    """ORM calls made while Playwright's event loop runs in the test thread open a connection
    in that loop's context, which Django's own teardown never sees; on PostgreSQL it would
    keep the test database from being dropped. End any such session before the drop."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()


@pytest.fixture
def page_as():
    """A Django test client signed in as `user` (the session, as a browser would have it)."""

    def _as(user):
        c = BrowserClient()
        c.force_login(user)
        return c

    return _as


def site_today(site):
    return timezone.localdate(timezone=site.tzinfo)


@pytest.fixture
def late_client(client_a, worker, facility_a):
    """client_a with a refill 10 days late (late, not yet lost to follow-up)."""
    arv_services.refill_record(
        actor=worker,
        client=client_a,
        facility=facility_a,
        pickup_date=site_today(client_a.site) - datetime.timedelta(days=40),
        days_supplied=30,
    )
    return client_a
