"""`/health/` against the real parts: a Redis of the test's own and a real Celery worker."""

import pytest

from tests.integration.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _health(client):
    r = client.get("/health/")
    return r.status_code, r.json()


def test_healthy_with_a_worker_then_failing_without_it(client, settings, redis_server, workers):
    settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    worker = workers()
    status, body = wait_for(lambda: (r := _health(client))[0] == 200 and r, "a healthy /health/")
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"] == {**body["checks"]["redis"], "ok": True, "used_for": ["broker"]}
    assert body["checks"]["celery"]["ok"] is True and body["checks"]["celery"]["workers"] == 1

    worker.kill()
    status, body = _health(client)
    assert status == 503
    assert body["checks"]["celery"] == {**body["checks"]["celery"], "ok": False, "workers": 0}
    assert body["checks"]["redis"]["ok"] is True

    redis_server.stop()
    status, body = _health(client)
    assert status == 503
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["celery"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert redis_server.url.split("@")[-1] not in str(body)  # no address in the answer


def test_full_redis_is_503_though_it_answers_ping(client, settings, redis_server):
    """Out of memory, Redis still answers PING but refuses every write: no task is queued."""
    import redis

    settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the Celery check is not the point here
    direct = redis.Redis.from_url(redis_server.url)
    assert client.get("/health/").json()["checks"]["redis"]["ok"] is True
    direct.config_set("maxmemory-policy", "noeviction")
    direct.config_set("maxmemory", int(direct.info("memory")["used_memory"]) // 2)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        direct.set("one-more", "x")
    r = client.get("/health/")
    assert r.status_code == 503
    assert r.json()["checks"]["redis"] == {**r.json()["checks"]["redis"], "ok": False, "error": "OutOfMemory"}
