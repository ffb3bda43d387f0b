"""A dependency that goes away costs speed or a retryable 503, never a 500 or half a write
(issue 19): the Redis cache falls back to memory, lockout stays in the database, database
errors answer 503, reads survive a broken connection, web statements time out, and the
SMS gateway call is bounded. tests/faults does the same against real restarts."""

import http.server
import logging
import pickle
import socket
import threading
import time

import psycopg
import pytest
from django.db import OperationalError, connection, connections
from django.test import Client as WebClient
from django.utils import timezone
from rest_framework.test import APIClient

import basodara.postgresql
from cases.outbox.sms import GatewayError, HttpGateway
from outreach.models import HomeVisit
from tests.processes import RedisServer, free_port

PASSWORD = "Sandi-Kuat-2026!"


def _dead_redis_url():
    """A Redis URL nothing listens on: connections are refused at once."""
    return f"redis://127.0.0.1:{free_port()}/0"


def _fallback_cache(settings, url, retry_seconds=5):
    settings.CACHES = {
        "default": {
            "BACKEND": "basodara.cache.FallbackRedisCache",
            "LOCATION": url,
            "FALLBACK_RETRY_SECONDS": retry_seconds,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    from django.core.cache import caches

    return caches["default"]


# --- the cache ----------------------------------------------------------------------------


def test_cache_without_redis_uses_memory_and_warns_once(settings, caplog):
    fallback = _fallback_cache(settings, _dead_redis_url())
    with caplog.at_level(logging.WARNING, logger="basodara.cache"):
        assert fallback.get("zones") is None
        fallback.set("zones", ["Asia/Jayapura"], 60)
        assert fallback.get("zones") == ["Asia/Jayapura"]
        assert fallback.get_or_set("other", lambda: 7) == 7
        fallback.delete("zones")
        assert fallback.get("zones") is None
    warnings = [r for r in caplog.records if r.name == "basodara.cache"]
    assert len(warnings) == 1 and "ConnectionError" in warnings[0].getMessage()
    assert not fallback.redis_available


def test_cache_returns_to_redis_and_forgets_values_changed_meanwhile(settings, tmp_path, caplog):
    if not _has_redis_server():
        pytest.skip("needs redis-server on PATH")
    redis_server = RedisServer(tmp_path / "redis.log")
    redis_server.start()
    try:
        shared = _fallback_cache(settings, redis_server.url, retry_seconds=0.2)
        shared.set("zones", ["Asia/Jayapura"], 300)
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="basodara.cache"):
            shared.delete("zones")  # a site changed its time zone while Redis was away
            assert shared.get("zones") is None
            redis_server.start()  # no persistence here: start it with the old value again
            redis_server_client(redis_server).set(shared.make_key("zones"), pickle.dumps(["Asia/Jayapura"]))
            time.sleep(0.3)
            assert shared.get("zones") is None  # the stale copy was deleted on return
            shared.set("zones", ["Asia/Makassar"], 300)
            assert redis_server_client(redis_server).exists(shared.make_key("zones"))
        assert shared.redis_available
        messages = [r.getMessage() for r in caplog.records if r.name == "basodara.cache"]
        assert len(messages) == 2 and "unavailable" in messages[0] and "reachable again" in messages[1]
    finally:
        redis_server.stop()


def redis_server_client(server):
    import redis

    return redis.Redis.from_url(server.url)


def _has_redis_server():
    import shutil

    return shutil.which("redis-server") is not None


def test_client_list_answers_without_redis(settings, api, worker, client_a):
    """The issue's report: every GET /api/v1/clients/ answered 500 while Redis was stopped."""
    _fallback_cache(settings, _dead_redis_url())
    r = api(worker).get("/api/v1/clients/")
    assert r.status_code == 200
    assert [row["code"] for row in r.json()["results"]] == [client_a.code]
    assert WebClient_for(worker).get("/clients/").status_code == 200


def WebClient_for(user):
    web = WebClient()
    web.force_login(user)
    return web


def test_lockout_keeps_counting_without_redis(settings, worker):
    """Lockout counts failures in the database, so a missing cache cannot open it."""
    _fallback_cache(settings, _dead_redis_url())
    worker.set_password(PASSWORD)
    worker.save()
    api = APIClient()
    for _ in range(5):
        assert api.post("/api/v1/auth/token/", {"username": worker.username, "password": "wrong"}).status_code == 400
    r = api.post("/api/v1/auth/token/", {"username": worker.username, "password": PASSWORD})
    assert r.status_code in (403, 429) and "token" not in r.json()


# --- database errors answer 503 -----------------------------------------------------------


def _failing(monkeypatch, target, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(target, fail)


def test_database_error_in_an_api_view_answers_503_with_retry_after(monkeypatch, api, worker, client_a):
    _failing(monkeypatch, "cases.selectors.site_timezones", OperationalError("could not receive data from server"))
    client = api(worker)
    client.raise_request_exception = False
    r = client.get("/api/v1/clients/")
    assert r.status_code == 503
    assert r["Retry-After"] == "5" and "no-store" in r["Cache-Control"]
    assert "try again" in r.json()["detail"] or "coba lagi" in r.json()["detail"]


def test_database_error_in_a_middleware_answers_503_page(monkeypatch, worker, client_a):
    web = WebClient_for(worker)
    web.raise_request_exception = False
    _failing(monkeypatch, "django.contrib.sessions.backends.db.SessionStore.load", OperationalError("server closed"))
    r = web.get("/clients/")
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert b"<h1" in r.content and b"style=" not in r.content


def test_other_errors_stay_500(monkeypatch, api, worker, client_a):
    _failing(monkeypatch, "cases.selectors.site_timezones", ValueError("a bug"))
    client = api(worker)
    client.raise_request_exception = False
    assert client.get("/api/v1/clients/").status_code == 500


@pytest.mark.django_db(transaction=True)
def test_failed_write_leaves_nothing_and_is_not_repeated(monkeypatch, api, worker, client_a):
    """The visit and its access-log row are one transaction: a failure after the INSERT
    rolls both back, and the 503 asks the client to send it again."""
    from cases.models import AccessLog

    calls = []

    def fail_after_insert(*args, **kwargs):
        calls.append(1)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("outreach.services.Tracing.objects.select_for_update", fail_after_insert)
    logged = AccessLog.objects.count()
    client = api(worker)
    client.raise_request_exception = False
    r = client.post(
        "/api/v1/visits/",
        {"client": client_a.pk, "visited_at": timezone.now().isoformat(), "kind": "home_visit", "plan": "Kunjungan"},
        format="json",
    )
    assert r.status_code == 503 and r["Retry-After"] == "5", r.content
    assert calls == [1]  # a write is never run twice by the server
    assert not HomeVisit.objects.exists()
    assert AccessLog.objects.count() == logged


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_read_on_a_connection_the_server_dropped_is_served_on_a_new_one(api, worker, client_a):
    """PostgreSQL restarted under a kept connection: the read runs again on a fresh one."""
    client = api(worker)
    assert client.get("/api/v1/clients/").status_code == 200
    _terminate(connection)
    r = client.get("/api/v1/clients/")
    assert r.status_code == 200 and r.json()["count"] == 1


def _terminate(django_connection):
    django_connection.ensure_connection()
    pid = django_connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


# --- the PostgreSQL backend ---------------------------------------------------------------


def _new_connection():
    fresh = connections.create_connection("default")
    fresh.ensure_connection()
    return fresh


@pytest.mark.postgres
@pytest.mark.django_db
def test_web_processes_get_the_statement_timeout(settings, monkeypatch):
    settings.DATABASE_STATEMENT_TIMEOUT = 0.2
    monkeypatch.setattr(basodara.postgresql, "web_requests", False)
    other = _new_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"  # workers and commands: none
    finally:
        other.close()
    monkeypatch.setattr(basodara.postgresql, "web_requests", True)
    web = _new_connection()
    try:
        with web.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "200ms"
            with pytest.raises(OperationalError) as stopped:
                cursor.execute("SELECT pg_sleep(2)")
        assert isinstance(stopped.value.__cause__, psycopg.errors.QueryCanceled)
    finally:
        web.close()


@pytest.mark.postgres
@pytest.mark.django_db
def test_connect_is_retried_while_the_server_is_away(settings, caplog):
    settings.DATABASE_CONNECT_RETRY_SECONDS = 1
    port = free_port()
    unreachable = connections.create_connection("default")
    unreachable.settings_dict = {**unreachable.settings_dict, "HOST": "127.0.0.1", "PORT": port}
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="basodara.postgresql.base"):
        with pytest.raises(OperationalError):
            unreachable.ensure_connection()
    assert 0.5 < time.monotonic() - started < 5
    assert any("retrying" in r.getMessage() for r in caplog.records)


@pytest.mark.postgres
@pytest.mark.django_db
def test_connect_comes_through_when_the_server_returns(settings):
    """A listener that appears half a second late (PostgreSQL coming back) is reached."""
    settings.DATABASE_CONNECT_RETRY_SECONDS = 5
    real = connection.settings_dict
    port = free_port()
    proxy = _LateProxy(port, (real["HOST"] or "127.0.0.1", int(real["PORT"] or 5432)), delay=0.5)
    late = connections.create_connection("default")
    late.settings_dict = {**late.settings_dict, "HOST": "127.0.0.1", "PORT": port}
    try:
        late.ensure_connection()
        with late.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        late.close()
        proxy.close()


@pytest.mark.postgres
@pytest.mark.django_db
def test_wrong_database_fails_at_once(settings):
    settings.DATABASE_CONNECT_RETRY_SECONDS = 10
    missing = connections.create_connection("default")
    missing.settings_dict = {**missing.settings_dict, "NAME": "basodara_no_such_database"}
    started = time.monotonic()
    with pytest.raises(OperationalError):
        missing.ensure_connection()
    assert time.monotonic() - started < 2


class _LateProxy:
    """A TCP relay to PostgreSQL that starts listening only after `delay` seconds."""

    def __init__(self, port, target, delay):
        self.port, self.target = port, target
        self._closed = threading.Event()
        self._server = None
        self._thread = threading.Thread(target=self._run, args=(delay,), daemon=True)
        self._thread.start()

    def _run(self, delay):
        time.sleep(delay)
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        while not self._closed.is_set():
            try:
                downstream, _ = self._server.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(self.target)
            for a, b in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self._closed.set()
        self._thread.join(2)
        if self._server is not None:
            self._server.close()


# --- outside calls are bounded ------------------------------------------------------------


def test_sms_gateway_that_does_not_answer_fails_after_its_timeout(settings):
    settings.SMS_GATEWAY_TIMEOUT = 0.3
    release = threading.Event()

    class Silent(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            release.wait(5)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Silent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        with pytest.raises(GatewayError):
            HttpGateway(url=f"http://127.0.0.1:{server.server_port}/sms").send(to="+62", text="x", idempotency_key=1)
        assert time.monotonic() - started < 2
    finally:
        release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.mark.postgres
@pytest.mark.django_db
def test_health_does_not_wait_out_the_connect_retries(settings):
    """A monitor asking /health/ learns at once that the database is away."""
    from basodara.postgresql import without_connect_retry

    settings.DATABASE_CONNECT_RETRY_SECONDS = 10
    unreachable = connections.create_connection("default")
    unreachable.settings_dict = {**unreachable.settings_dict, "HOST": "127.0.0.1", "PORT": free_port()}
    started = time.monotonic()
    with without_connect_retry(), pytest.raises(OperationalError):
        unreachable.ensure_connection()
    assert time.monotonic() - started < 2
