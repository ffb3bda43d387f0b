"""The production deployment files agree with the code they deploy.

There is no Docker engine on the machines that run this suite, so docker-compose.yml and
the Dockerfile are checked here instead: every variable they pass is one settings.py reads,
every variable settings.py reads is documented in .env.example, the commands they run name
modules that exist, and the settings load (and pass `check --deploy`) the way the
containers start them.
"""

import importlib
import os
import re
import runpy
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "basodara" / "settings.py"
APP_SERVICES = ("web", "worker", "beat")

# A key that passes Django's deploy check (50+ characters, varied, no "django-insecure-").
TEST_SECRET_KEY = "test-only-3f9a7c1e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d1f"


def _settings_variables():
    """Names settings.py reads from the environment, found in its source."""
    source = SETTINGS_FILE.read_text()
    readers = (
        r'\benv(?:_bool|_int|_list|_seconds)?\(\s*"([A-Z][A-Z0-9_]*)"',
        r'\bos\.environ\.get\(\s*"([A-Z][A-Z0-9_]*)"',
        r'\bos\.environ\[\s*"([A-Z][A-Z0-9_]*)"\s*\]',
        r'\bos\.getenv\(\s*"([A-Z][A-Z0-9_]*)"',
    )
    return {name for pattern in readers for name in re.findall(pattern, source)}


SETTINGS_VARIABLES = _settings_variables()


@pytest.fixture(scope="module")
def compose_text():
    return (ROOT / "docker-compose.yml").read_text()


@pytest.fixture(scope="module")
def compose(compose_text):
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def env_example():
    """Variables in .env.example: `NAME=value`, or `# NAME=value` for a documented default."""
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match.group(2)] = {"value": match.group(3), "active": not match.group(1)}
    return found


@pytest.fixture(scope="module")
def dockerfile():
    return (ROOT / "Dockerfile").read_text()


def _interpolations(text):
    """(name, modifier) of each ${NAME...} / $NAME compose substitutes; $$ is an escape."""
    text = text.replace("$$", "")
    braced = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])[^}]*)?\}", text)
    bare = [(name, "") for name in re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text)]
    return braced + bare


def _interpolate(value, env):
    """Substitute compose-style ${NAME}, ${NAME:-default} and ${NAME:?error} from `env`."""

    def replace(match):
        name, modifier, rest = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if modifier in (":-", "-"):
            return rest
        raise AssertionError(f"{name} is required by docker-compose.yml but has no value")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}", replace, value)


def _example_values(env_example):
    return {name: entry["value"] for name, entry in env_example.items() if entry["active"]}


def _command(service):
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def _clean_env(tmp_path, **values):
    """The current environment minus everything settings.py reads, plus `values`."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # a test convenience, never a deployment's
    env.update(
        DJANGO_SETTINGS_MODULE="basodara.settings",
        BASODARA_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "staticfiles"),
    )
    env.update(values)
    return env


def _production_env(tmp_path, **values):
    return _clean_env(
        tmp_path,
        DEBUG="false",
        SECRET_KEY=TEST_SECRET_KEY,
        ALLOWED_HOSTS="basodara.example.org",
        FIELD_ENCRYPTION_KEY="dGVzdC1vbmx5LWZpZWxkLWtleS0zMi1ieXRlcy1vayE=",
        FIELD_HASH_KEY="test-only-hash-key",
        **values,
    )


def test_settings_variables_are_found():
    # Guards the regex above: if it stopped matching, every check below would pass vacuously.
    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"} <= SETTINGS_VARIABLES


def test_compose_has_the_five_services(services):
    assert set(services) >= {"db", "redis", "web", "worker", "beat"}


def test_app_services_run_one_image(services):
    builds = {repr(services[name].get("build")) for name in APP_SERVICES}
    images = {services[name].get("image") for name in APP_SERVICES}
    assert len(builds) == 1 and builds != {"None"}
    assert len(images) == 1


def test_compose_variables_are_read_by_settings(compose_text, services):
    db_variables = set(services["db"].get("environment", {}))
    referenced = {name for name, _ in _interpolations(compose_text)}
    for _name, service in services.items():
        referenced |= set(service.get("environment") or {})
    unknown = {
        name
        for name in referenced
        if name not in SETTINGS_VARIABLES and not (name.startswith("POSTGRES_") and name in db_variables)
    }
    assert not unknown, f"docker-compose.yml passes variables settings.py never reads: {sorted(unknown)}"


def test_env_example_documents_every_settings_variable(env_example):
    missing = SETTINGS_VARIABLES - set(env_example)
    assert not missing, f".env.example does not document: {sorted(missing)}"


def test_env_example_lists_only_what_is_read(env_example, services):
    db_variables = set(services["db"].get("environment", {}))
    extra = set(env_example) - SETTINGS_VARIABLES - db_variables
    assert not extra, f".env.example documents variables nothing reads: {sorted(extra)}"


def test_env_example_fills_every_required_compose_variable(compose_text, env_example):
    # `cp .env.example .env` must give a file compose accepts, placeholders and all.
    required = {name for name, modifier in _interpolations(compose_text) if modifier in (":?", "?")}
    values = _example_values(env_example)
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD", "FIELD_ENCRYPTION_KEY", "FIELD_HASH_KEY"} <= required
    assert not [name for name in required if not values.get(name)]


def test_secrets_are_required_interpolations(services):
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert environment["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")
        assert str(environment["DEBUG"]).lower() == "false"


def test_app_services_read_env_file(services):
    for name in APP_SERVICES:
        assert services[name]["env_file"] in (".env", [".env"])


def test_database_url_points_at_db(services, env_example):
    values = _example_values(env_example)
    for name in APP_SERVICES:
        url = _interpolate(services[name]["environment"]["DATABASE_URL"], values)
        database = dj_database_url.parse(url)
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert database["HOST"] == "db"
        assert database["PASSWORD"] == values["POSTGRES_PASSWORD"]
        db_env = services["db"]["environment"]
        assert database["USER"] == _interpolate(db_env["POSTGRES_USER"], values)
        assert database["NAME"] == _interpolate(db_env["POSTGRES_DB"], values)


def test_celery_broker_points_at_redis(services):
    for name in APP_SERVICES:
        broker = urlsplit(services[name]["environment"]["CELERY_BROKER_URL"])
        assert broker.scheme == "redis"
        assert broker.hostname == "redis"


def test_worker_runs_the_basodara_celery_app(services):
    command = _command(services["worker"])
    assert command[:4] == ["celery", "-A", "basodara", "worker"]
    module = importlib.import_module(f"{command[2]}.celery")
    assert module.app.main == "basodara"


def test_beat_runs_once_with_a_persistent_schedule(services):
    beat = services["beat"]
    command = _command(beat)
    assert command[:4] == ["celery", "-A", "basodara", "beat"]
    assert int(beat.get("deploy", {}).get("replicas", 1)) <= 1
    assert int(beat.get("scale", 1)) <= 1
    schedule = command[command.index("--schedule") + 1]
    mounts = [volume.split(":")[1] for volume in beat.get("volumes", [])]
    assert str(Path(schedule).parent) in mounts


def test_web_runs_migrations_then_gunicorn_on_the_wsgi_app(services):
    command = " ".join(_command(services["web"]))
    assert "python manage.py migrate --noinput" in command
    assert command.index("migrate") < command.index("gunicorn")
    target = re.search(r"gunicorn\s+(\S+)", command).group(1)
    assert target == "basodara.wsgi:application"
    module, attribute = target.split(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    # Published on loopback only: the TLS proxy in front is the way in.
    assert "127.0.0.1:8000:8000" in [str(port) for port in services["web"]["ports"]]


def test_healthchecks_and_restart_policies(services):
    for name in ("db", "redis", "web"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name, service in services.items():
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), f"{name} never restarts"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_app_services_wait_for_healthy_dependencies(services):
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert {"db", "redis"} <= set(depends_on)
        assert {dependency["condition"] for dependency in depends_on.values()} == {"service_healthy"}


def test_dockerfile_builds_the_image_compose_expects(dockerfile):
    instructions = [line.strip() for line in re.sub(r"\\\n", " ", dockerfile).splitlines()]
    instructions = [line for line in instructions if line and not line.startswith("#")]
    assert instructions[0].startswith("FROM python:3.11-slim")
    assert any(re.match(r"RUN .*pip install .*-r requirements\.txt", line) for line in instructions)
    assert any(re.match(r"RUN .*DEBUG=false .*manage\.py collectstatic --noinput", line) for line in instructions)
    assert any(re.match(r"EXPOSE 8000\b", line) for line in instructions)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    final = [line for line in instructions if line.startswith(("CMD", "ENTRYPOINT"))]
    assert "gunicorn" in final[-1] and "basodara.wsgi:application" in final[-1]


def _has_files(path):
    return path.is_file() or any(child.is_file() for child in path.rglob("*"))


def test_dockerfile_copies_every_local_app(dockerfile):
    # The Dockerfile names what it copies (so .env and .venv stay out of the image); a new
    # app or asset directory must be added there too.
    from django.conf import settings

    copied = set(re.findall(r"^COPY\s+(\S+?)/?\s", dockerfile, flags=re.MULTILINE))
    local_apps = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    assets = {str(Path(path).relative_to(ROOT)) for path in [*settings.STATICFILES_DIRS, *settings.LOCALE_PATHS]}
    assets |= {str(Path(path).relative_to(ROOT)) for template in settings.TEMPLATES for path in template["DIRS"]}
    # An asset directory with no file yet is not in a git checkout, so it cannot be copied.
    assets = {name for name in assets if _has_files(ROOT / name)}
    needed = local_apps | assets | {"basodara", "manage.py", "requirements.txt"}
    assert needed <= copied, f"Dockerfile does not copy: {sorted(needed - copied)}"
    # COPY of a source missing from a fresh checkout (an empty directory) fails the build.
    unbuildable = sorted(name for name in copied if not _has_files(ROOT / name))
    assert not unbuildable, f"Dockerfile copies what a git checkout does not have: {unbuildable}"


def test_production_settings_load_and_pass_deploy_check(tmp_path):
    env = _production_env(tmp_path)
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "False"

    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues" in check.stdout, check.stdout + check.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_settings_refuse_to_load_without(missing, monkeypatch, tmp_path):
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("ALLOWED_HOSTS", "basodara.example.org")
    monkeypatch.setenv("BASODARA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv(missing)
    # run_path executes a fresh copy of the file; the settings this test run uses stay put.
    with pytest.raises(ImproperlyConfigured, match=missing):
        runpy.run_path(str(SETTINGS_FILE))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_web_healthcheck_passes_against_production_gunicorn(services, tmp_path):
    """Build-time collectstatic, then gunicorn as the image runs it, then the healthcheck.

    With DEBUG off a plain request to http://localhost/ gets a 301 to HTTPS or a 400 for a
    host not in ALLOWED_HOSTS; the compose healthcheck must get past both.
    """
    env = _production_env(tmp_path)
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collect.returncode == 0, collect.stderr

    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as log_file:
        gunicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "basodara.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    healthcheck = services["web"]["healthcheck"]["test"]
    assert healthcheck[:3] == ["CMD", "python", "-c"]
    script = healthcheck[3].replace("localhost:8000", f"localhost:{port}")
    try:
        for _ in range(60):
            probe = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=10)
            if probe.returncode == 0 or "Connection refused" not in probe.stderr or gunicorn.poll() is not None:
                break
            time.sleep(0.25)
        assert probe.returncode == 0, probe.stderr + log.read_text()
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=10)


def test_image_has_the_backup_tools_of_the_database_version(services):
    """`manage.py backup` runs pg_dump inside the image: it must be there, and Debian 12's
    client (PostgreSQL 15) must not be older than the compose database."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "python:3.11-slim" in dockerfile  # Debian 12 (bookworm): postgresql-client is 15
    assert "apt-get install -y --no-install-recommends postgresql-client" in dockerfile
    major = int(services["db"]["image"].split(":")[1].split(".")[0])
    assert major <= 15, "the image's pg_dump (15) would be older than the database"
