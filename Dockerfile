# BASODARA production image: one image for web (gunicorn), worker and beat (celery).
# docker-compose.yml runs it; all runtime configuration comes from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BASODARA_VAR_DIR=/var/lib/basodara

WORKDIR /app

# pg_dump/pg_restore for `manage.py backup` and `restore`: Debian 12's client is
# PostgreSQL 15, the version of the compose database (a dump needs a client >= server).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# Requirements first, so a code change does not reinstall them. psycopg[binary] ships
# its own libpq, so the slim image needs no compiler.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The project, named piece by piece rather than `COPY . .`: a developer's .env (secrets),
# .venv, .git and var/ (SQLite file with case data) must never end up in an image layer.
COPY manage.py ./
COPY basodara/ basodara/
COPY cases/ cases/
COPY referrals/ referrals/
COPY outreach/ outreach/
COPY empowerment/ empowerment/
COPY transfers/ transfers/
COPY casework/ casework/
COPY reports/ reports/
COPY interop/ interop/
COPY fieldsync/ fieldsync/
COPY offline/ offline/
COPY web/ web/
COPY templates/ templates/
COPY static/ static/
COPY locale/ locale/
# locale/ is added here once it holds catalogues: an empty directory is not in git, and
# COPY of a missing source fails the build (tests/test_deploy_config.py says when).

# Static files are collected once, at build time, with the production storage (hashed
# names and a manifest). Settings refuse to load with DEBUG off unless SECRET_KEY and
# ALLOWED_HOSTS are set, so this one step gets throwaway values; they are not kept in
# the image's environment.
RUN DEBUG=false \
    SECRET_KEY=build-only-collectstatic-key-never-used-at-runtime-0123456789 \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

# Run as an unprivileged user. /var/lib/basodara (BASODARA_VAR_DIR) holds beat's schedule
# file; a fresh named volume mounted there inherits this ownership.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home basodara \
    && mkdir -p /var/lib/basodara \
    && chown basodara:basodara /var/lib/basodara
USER basodara

EXPOSE 8000

CMD ["gunicorn", "basodara.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]
