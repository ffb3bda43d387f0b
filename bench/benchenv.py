"""The environment the bench scripts run in (imported before `django.setup()`).

NIK, phone and address are stored encrypted (cases/security/crypto.py), so the generator and every
reader of its data (endpoints.py, the gunicorn it starts) must use the same field keys.
Unless FIELD_ENCRYPTION_KEY and FIELD_HASH_KEY are set, they get the bench's own keys
below. These keys protect nothing: they encrypt generated, fictitious people only, and must
never be used for real data (production requires its own keys, see basodara/settings.py).
"""

import os

# base64 of the 32 bytes "bench-only-field-key-32-bytes-ok": a valid Fernet key.
BENCH_FIELD_ENCRYPTION_KEY = "YmVuY2gtb25seS1maWVsZC1rZXktMzItYnl0ZXMtb2s="
BENCH_FIELD_HASH_KEY = "bench-only-field-hash-key"


def use_bench_keys():
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", BENCH_FIELD_ENCRYPTION_KEY)
    os.environ.setdefault("FIELD_HASH_KEY", BENCH_FIELD_HASH_KEY)


def production_environ(*, hosts="testserver,127.0.0.1,localhost"):
    """Settings as production runs them (DEBUG off), for timing: the values production
    requires without a default, plain HTTP on loopback, and no second factor (the bench
    signs in with tokens and `force_login`, never through the 2FA page)."""
    use_bench_keys()
    environ = {
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key-not-for-production-" + "x" * 24,
        "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS") or hosts,
        "SECURE_SSL_REDIRECT": "false",
        "REQUIRE_2FA": "false",
        "FIELD_ENCRYPTION_KEY": os.environ["FIELD_ENCRYPTION_KEY"],
        "FIELD_HASH_KEY": os.environ["FIELD_HASH_KEY"],
        # Manifest static files (production's storage) need collectstatic: into a scratch directory.
        "STATIC_ROOT": os.environ.get("STATIC_ROOT") or "/tmp/basodara-bench-static",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL") or "WARNING",
    }
    os.environ.update(environ)
    return environ
