"""`/health/`: can this installation do its work? The database, Redis (broker and cache,
where configured) and at least one Celery worker answering (SPEC §11).

200 when every check passes, 503 otherwise, so a load balancer or an orchestrator can act
on it. Public (no sign-in) and free of data: each check says ok or not, and on failure
only the kind of error, never a host, password or message that could carry one."""

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app
from .postgresql import without_connect_retry

TIMEOUT_SECONDS = 2


def _timed(check):
    started = time.monotonic()
    try:
        result = check()
    except Exception as exc:  # every failure is a failed check, never a 500
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _database():
    # Report a database that is away at once, without the retries requests wait through.
    with without_connect_retry(), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _redis_urls():
    urls = {}
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        urls["broker"] = settings.CELERY_BROKER_URL
    if getattr(settings, "CACHE_URL", None):
        urls["cache"] = settings.CACHE_URL
    return urls


def _redis():
    urls = _redis_urls()
    if not urls:
        return {"ok": True, "detail": "not used: the embedded default has no Redis"}
    for url in urls.values():
        client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
        try:
            client.ping()
            # A full Redis still answers PING but refuses every write: no task can be queued.
            memory = client.info("memory")
            if memory.get("maxmemory") and memory["used_memory"] >= memory["maxmemory"]:
                return {"ok": False, "error": "OutOfMemory", "used_for": sorted(urls)}
        finally:
            client.close()
    return {"ok": True, "used_for": sorted(urls)}


def _celery():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "detail": "tasks run in the web process (CELERY_TASK_ALWAYS_EAGER)"}
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        # kombu's filesystem transport has no broadcast, so workers cannot be pinged.
        return {"ok": None, "detail": "not checked: the embedded filesystem broker cannot ping workers"}
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
        replies = celery_app.control.ping(timeout=1.0, connection=conn)
    return {"ok": bool(replies), "workers": len(replies)}


@never_cache
@require_GET
def health(request):
    checks = {"database": _timed(_database), "redis": _timed(_redis), "celery": _timed(_celery)}
    healthy = all(check["ok"] is not False for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
