"""Real processes for the outbox tests (tests/processes.py): a Redis of the test's own, an
HTTP SMS gateway on loopback, and Celery workers started with `celery -A basodara worker`.

Every subprocess is stopped in fixture teardown, and every log is printed there: pytest
shows teardown output only for a failing test, which is when CI needs it.
"""

import os
import shutil

import pytest

from tests.processes import DEADLINE_SECONDS, RedisServer, SmsGateway, Worker, database_url, wait_for

__all__ = ["DEADLINE_SECONDS", "LEASE_SECONDS", "wait_for"]

# Short enough to keep the tests quick, long enough that a live worker keeps its claim.
LEASE_SECONDS = 2


@pytest.fixture
def needs_real_processes():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "outbox integration tests need PostgreSQL (set DATABASE_URL): the Celery worker runs in "
            "another process and cannot share the SQLite in-memory test database"
        )
    if shutil.which("redis-server") is None:
        pytest.skip("outbox integration tests need redis-server on PATH to run a Redis of their own")


@pytest.fixture
def logs(tmp_path):
    """Paths of the subprocess logs; all are printed at teardown (shown when a test fails)."""
    paths = []

    def new(name):
        path = tmp_path / f"{name}.log"
        paths.append(path)
        return path

    yield new
    for path in paths:
        if path.exists():
            print(f"\n===== {path.name} =====\n{path.read_text(errors='replace')}")


@pytest.fixture
def redis_server(needs_real_processes, logs):
    server = RedisServer(logs("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sms_gateway(needs_real_processes):
    gateway = SmsGateway()
    yield gateway
    gateway.close()


@pytest.fixture
def celery_app(redis_server, monkeypatch):
    """The test process publishes to the test's Redis, for real (not eagerly)."""
    from basodara.celery import app

    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", redis_server.url)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    saved = {k: app.conf[k] for k in ("broker_url", "broker_transport_options", "task_always_eager")}
    app.conf.update(
        broker_url=redis_server.url,
        broker_transport_options={"visibility_timeout": 3600},
        task_always_eager=False,
    )
    _forget_connections(app)
    yield app
    _forget_connections(app)
    app.conf.update(saved)


def _forget_connections(app):
    # The pools were made for whatever broker was configured before; start afresh.
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def outbox_settings(settings, sms_gateway):
    """The test process agrees with the workers on the lease, so it re-enqueues when they would."""
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = LEASE_SECONDS
    settings.NOTIFICATION_REQUEUE_SECONDS = LEASE_SECONDS
    settings.SMS_GATEWAY = "cases.outbox.sms.HttpGateway"
    settings.SMS_GATEWAY_URL = sms_gateway.url
    return settings


@pytest.fixture
def workers(transactional_db, redis_server, sms_gateway, celery_app, outbox_settings, logs):
    """`workers()` starts a worker on the test database and the test's Redis; all are stopped
    at teardown, before the test database is flushed."""
    from django.db import connection

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="basodara.settings",
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL=redis_server.url,
        CELERY_TASK_ALWAYS_EAGER="false",
        SMS_GATEWAY="cases.outbox.sms.HttpGateway",
        SMS_GATEWAY_URL=sms_gateway.url,
        NOTIFICATION_CLAIM_LEASE_SECONDS=str(LEASE_SECONDS),
        NOTIFICATION_REQUEUE_SECONDS=str(LEASE_SECONDS),
        # E-mail copies go to the worker's log, where a test can count them.
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_BROKER_WRITE_URL", None)
    started = []

    def start():
        worker = Worker(env, logs(f"worker-{len(started) + 1}"), f"it{len(started) + 1}")
        started.append(worker)
        worker.start()
        return worker

    start.all = started
    yield start
    for worker in started:
        worker.stop()
