"""`manage.py backup` / `restore`: a round trip gives back every table with the same row
count and checksum (PostgreSQL: into a fresh database, through pg_dump/pg_restore)."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from cases.models import Notification
from cases.security.backup import MANIFEST_SUFFIX, table_fingerprints

ROOT = Path(__file__).resolve().parent.parent


def _run_manage(database_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _fingerprints_of(database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    script = (
        "import django, json; django.setup(); from cases.security.backup import table_fingerprints; "
        "print(json.dumps(table_fingerprints()))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_round_trip_into_a_fresh_database(tmp_path, client_a, client_b, worker, facility_a):
    from cases.arv import services

    services.refill_record(actor=worker, client=client_a, facility=facility_a, pickup_date=client_a.consent_date,
                           days_supplied=30)  # fmt: skip
    dump = tmp_path / "basodara.dump"
    call_command("backup", output=str(dump))
    manifest = json.loads(Path(f"{dump}{MANIFEST_SUFFIX}").read_text())
    assert manifest["tables"]["cases_client"]["rows"] == 2
    assert manifest["tables"]["cases_refill"]["rows"] == 1

    s = connection.settings_dict
    fresh = f"basodara_restore_{uuid.uuid4().hex[:8]}"
    base = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {fresh}")
    try:
        done = _run_manage(f"{base}/{fresh}", "restore", str(dump))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "every table matches" in done.stdout
        restored = _fingerprints_of(f"{base}/{fresh}")
        assert restored == table_fingerprints() == manifest["tables"]
        # A second restore into the now full database is refused.
        again = _run_manage(f"{base}/{fresh}", "restore", str(dump))
        assert again.returncode != 0 and "already holds data" in again.stderr
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {fresh} WITH (FORCE)")


@pytest.mark.django_db(transaction=True)
def test_sqlite_round_trip_and_a_tampered_manifest(tmp_path, client_a, worker):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path; PostgreSQL has its own round trip above")
    now = timezone.now()
    Notification.objects.create(
        kind="refill_missed", subject_type="client", subject_id=client_a.pk, recipient_key=f"user:{worker.pk}",
        recipient_user=worker,
        channel="in_app", text="t", created_at=now, deliver_after=now,
    )  # fmt: skip
    before = table_fingerprints()
    dump = tmp_path / "basodara.sqlite3"
    call_command("backup", output=str(dump))
    Notification.objects.all().delete()  # a change after the backup …
    assert table_fingerprints() != before
    with pytest.raises(CommandError, match="already holds data"):
        call_command("restore", str(dump))
    call_command("restore", str(dump), force=True)  # … is undone by the restore
    assert table_fingerprints() == before

    manifest_path = Path(f"{dump}{MANIFEST_SUFFIX}")
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["cases_client"]["checksum"] = "0" * 32
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="1 tables differ"):
        call_command("restore", str(dump), force=True)


def test_restore_without_a_manifest_is_refused(tmp_path, db):
    (tmp_path / "x.dump").write_bytes(b"not a backup")
    with pytest.raises(CommandError, match="manifest"):
        call_command("restore", str(tmp_path / "x.dump"))


@pytest.mark.django_db(transaction=True)
def test_backup_is_encrypted_and_private(tmp_path, client_a, settings):
    os.umask(0o022)  # the usual umask would make a plain file world-readable
    dump = tmp_path / "basodara.dump"
    call_command("backup", output=str(dump))
    manifest = Path(f"{dump}{MANIFEST_SUFFIX}")
    assert dump.stat().st_mode & 0o777 == 0o600
    assert manifest.stat().st_mode & 0o777 == 0o600
    content = dump.read_bytes()
    assert content.startswith(b"BASODARA-BACKUP-1\n")
    # Neither a PostgreSQL custom dump nor an SQLite file shows through, nor any name.
    assert b"PGDMP" not in content and b"SQLite format" not in content
    assert client_a.code.encode() not in content and b"cases_client" not in content
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".basodara-plain-")]


@pytest.mark.django_db(transaction=True)
def test_restore_needs_the_backup_key(tmp_path, client_a, settings):
    from cryptography.fernet import Fernet

    dump = tmp_path / "basodara.dump"
    call_command("backup", output=str(dump))
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("restore", str(dump), force=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".basodara-plain-")]


def test_no_backup_without_a_key(tmp_path, db, settings):
    settings.BACKUP_ENCRYPTION_KEY = ""
    with pytest.raises(CommandError, match="BACKUP_ENCRYPTION_KEY"):
        call_command("backup", output=str(tmp_path / "x.dump"))
    assert not list(tmp_path.iterdir())
