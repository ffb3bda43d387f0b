"""Backups of the whole database, and proof that a restore gives back the same data.

PostgreSQL: `pg_dump --format=custom` / `pg_restore`, with the connection of
settings.DATABASES["default"]. SQLite (the embedded default): SQLite's online backup.
Next to every backup goes a manifest: for each table its row count and an order-free
checksum of its rows (md5 of the sorted md5s of each row's text). `restore` recomputes
both after restoring and fails unless every table matches.

NIK, phone and address stay encrypted inside the backup: a restore needs the same
FIELD_ENCRYPTION_KEY (and FIELD_HASH_KEY) to read them.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

MANIFEST_SUFFIX = ".manifest.json"


class BackupError(Exception):
    pass


def _tables():
    return sorted(connection.introspection.table_names(include_views=False))


def table_fingerprints() -> dict:
    """{table: {"rows": n, "checksum": hex}} for every table of the default database."""
    result = {}
    with connection.cursor() as cursor:
        for table in _tables():
            name = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
                    f"FROM (SELECT md5(t::text) AS h FROM {name} t) rows"
                )
                rows, checksum = cursor.fetchone()
            else:
                cursor.execute(f"SELECT * FROM {name}")
                hashes = sorted(hashlib.md5(repr(row).encode()).hexdigest() for row in cursor.fetchall())
                rows, checksum = len(hashes), hashlib.md5("".join(hashes).encode()).hexdigest()
            result[table] = {"rows": rows, "checksum": checksum}
    return result


def _pg_env_and_args():
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if s.get(key):
            args += [flag, str(s[key])]
    return env, args, s["NAME"]


def _run(command, env=None):
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def backup(path: Path) -> dict:
    """Write the database to `path` and its manifest beside it; the manifest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fingerprints and dump must see the same data: on PostgreSQL the dump is one snapshot,
    # taken right after; writes in between would show up as a mismatch at restore.
    manifest = {"vendor": connection.vendor, "tables": table_fingerprints()}
    if connection.vendor == "postgresql":
        if shutil.which("pg_dump") is None:
            raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
        env, args, name = _pg_env_and_args()
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(path), *args, name], env)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        raise BackupError(f"no backup for the {connection.vendor} database")
    Path(f"{path}{MANIFEST_SUFFIX}").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def _is_empty() -> bool:
    tables = [t for t in _tables() if t != "django_migrations"]
    if not tables:
        return True
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
            if cursor.fetchone():
                return False
    return True


def restore(path: Path, *, force=False) -> dict:
    """Restore `path` into the default database and check it against the manifest; the
    tables that differ (empty when all match). Refuses a database holding data unless
    `force`."""
    path = Path(path)
    manifest_path = Path(f"{path}{MANIFEST_SUFFIX}")
    if not path.exists() or not manifest_path.exists():
        raise BackupError(f"{path} or its manifest {manifest_path.name} is missing")
    manifest = json.loads(manifest_path.read_text())
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"a {manifest['vendor']} backup cannot be restored into {connection.vendor}")
    if connection.in_atomic_block:
        raise BackupError("a restore replaces the whole database: run it outside any transaction")
    if not force and not _is_empty():
        raise BackupError("the database already holds data; restore into an empty one, or pass --force")
    if connection.vendor == "postgresql":
        env, args, name = _pg_env_and_args()
        connection.close()
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error"]
            + [*args, "--dbname", name, str(path)],
            env,
        )
    else:
        connection.ensure_connection()
        source = sqlite3.connect(path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    found = table_fingerprints()
    expected = manifest["tables"]
    return {
        table: {"expected": expected.get(table), "found": found.get(table)}
        for table in sorted(set(expected) | set(found))
        if expected.get(table) != found.get(table)
    }
