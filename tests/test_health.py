"""`/health/` without external services: the embedded default, and what a failing check
looks like (503, the kind of error only)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends


def test_embedded_default_is_healthy(client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CACHE_URL = None
    settings.CELERY_TASK_ALWAYS_EAGER = False
    r = client.get("/health/")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["celery"]["ok"] is None  # cannot be pinged on the filesystem broker
    assert "no-store" in r["Cache-Control"]


def test_unreachable_redis_is_503_without_leaking_the_address(client, settings):
    url = f"redis://:s3cret@127.0.0.1:{_closed_port()}/0"
    settings.CELERY_BROKER_URL = url
    settings.CACHE_URL = None
    settings.CELERY_TASK_ALWAYS_EAGER = False
    r = client.get("/health/")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "fail"
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True
    assert "s3cret" not in r.content.decode() and "127.0.0.1" not in r.content.decode()


def test_database_down_is_503():
    """A real unreachable PostgreSQL (a closed port), in a process of its own."""
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/basodara"}
    env.update(CELERY_BROKER_URL="filesystem://", DEBUG="true", BASODARA_VAR_DIR=env.get("BASODARA_VAR_DIR", "var"))
    env.pop("CACHE_URL", None)
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/health/'); print(json.dumps([r.status_code, r.json()]))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    status, body = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 503
    assert body["checks"]["database"]["ok"] is False and body["checks"]["database"]["error"] == "OperationalError"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get(client, method):
    assert getattr(client, method)("/health/").status_code == 405
