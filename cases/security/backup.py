"""Backups of the whole database, and proof that a restore gives back the same data.

PostgreSQL: `pg_dump --format=custom` / `pg_restore`, with the connection of
settings.DATABASES["default"]. SQLite (the embedded default): SQLite's online backup.
Next to every backup goes a manifest: for each table its row count and an order-free
checksum of its rows (md5 of the sorted md5s of each row's text). `restore` recomputes
both after restoring and fails unless every table matches.

The backup file is encrypted as a whole with BACKUP_ENCRYPTION_KEY (Fernet, in chunks so
that a large dump is never held in memory at once) and written, like its manifest, with
mode 0600; the plain dump exists only as a 0600 temporary file beside it while it is made
or restored. `restore` needs the same key. NIK, phone and address are besides encrypted
inside: a restore needs the same FIELD_ENCRYPTION_KEY (and FIELD_HASH_KEY) to read them.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import connection

MANIFEST_SUFFIX = ".manifest.json"
MAGIC = b"BASODARA-BACKUP-1\n"
CHUNK = 8 * 2**20


class BackupError(Exception):
    pass


def _fernet():
    key = settings.BACKUP_ENCRYPTION_KEY
    if not key:
        raise BackupError("BACKUP_ENCRYPTION_KEY is not set: backups are written encrypted only")
    try:
        return Fernet(key)
    except (ValueError, TypeError) as e:
        raise BackupError(f"BACKUP_ENCRYPTION_KEY is not a Fernet key: {e}") from None


def _private_file(path: Path):
    """Open `path` for writing, created with mode 0600 whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)
    return os.fdopen(fd, "wb")


@contextmanager
def _plain_file(directory: Path):
    """A 0600 temporary file in `directory` (removed afterwards) for the unencrypted dump."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".basodara-plain-")
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def encrypt_file(plain: Path, target: Path):
    fernet = _fernet()
    with open(plain, "rb") as source, _private_file(target) as out:
        out.write(MAGIC)
        while chunk := source.read(CHUNK):
            token = fernet.encrypt(chunk)
            out.write(len(token).to_bytes(8, "big"))
            out.write(token)


def decrypt_file(encrypted: Path, plain: Path):
    fernet = _fernet()
    with open(encrypted, "rb") as source, _private_file(plain) as out:
        if source.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{encrypted} is not an encrypted BASODARA backup")
        while header := source.read(8):
            token = source.read(int.from_bytes(header, "big"))
            try:
                out.write(fernet.decrypt(token))
            except InvalidToken:
                raise BackupError("the backup cannot be decrypted with BACKUP_ENCRYPTION_KEY") from None


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
    _fernet()  # no key, no backup: refuse before dumping anything
    with _plain_file(path.parent) as plain:
        manifest = _dump(plain)
        encrypt_file(plain, path)
    with _private_file(Path(f"{path}{MANIFEST_SUFFIX}")) as out:
        out.write(json.dumps(manifest, indent=1, sort_keys=True).encode())
    return manifest


def _dump(path: Path) -> dict:
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
        path.unlink(missing_ok=True)
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        raise BackupError(f"no backup for the {connection.vendor} database")
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
    with _plain_file(path.parent) as plain:
        decrypt_file(path, plain)
        _load(plain)
    found = table_fingerprints()
    expected = manifest["tables"]
    return {
        table: {"expected": expected.get(table), "found": found.get(table)}
        for table in sorted(set(expected) | set(found))
        if expected.get(table) != found.get(table)
    }


def _load(path: Path):
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
