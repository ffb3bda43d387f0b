"""BASODARA settings: one file, every value from the environment.

Development defaults are safe and need no server (SQLite, a filesystem broker).
With DEBUG off, the values that must not have a default (SECRET_KEY, ALLOWED_HOSTS)
are required and the security settings are strict.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BASODARA_VAR_DIR", BASE_DIR / "var"))


def env(name, default=None, *, required=False):
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"Environment variable {name} is required")
        return default
    return value


def env_bool(name, default):
    value = env(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name, default):
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_seconds(name, default):
    """A duration in seconds, decimals allowed; 0 where the setting says it means "no limit"."""
    value = env(name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {value!r}") from None
    if seconds < 0:
        raise ImproperlyConfigured(f"{name} must not be negative, got {value!r}")
    return seconds


def env_list(name, default=()):
    value = env(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


# Off unless set: an image started without settings must not run with the development keys,
# no second factor and debug pages. bin/run and bin/test set it on for the embedded default.
DEBUG = env_bool("DEBUG", False)

if DEBUG:
    # A fixed key is fine for a development machine; production must set its own.
    SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    SECRET_KEY = env("SECRET_KEY", required=True)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Encryption at rest of NIK, phone and address (cases/security/crypto.py explains rotation). Keys are
# Fernet keys: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
if DEBUG:
    # Fixed development keys: never use them for real data.
    FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLW9rIT0=")
    FIELD_HASH_KEY = env("FIELD_HASH_KEY", "dev-only-field-hash-key")
else:
    FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", required=True)
    FIELD_HASH_KEY = env("FIELD_HASH_KEY", required=True)

# Backups are encrypted with this Fernet key (cases/security/backup.py); a backup needs it, and so
# does `restore`. Keep it apart from the backups themselves.
BACKUP_ENCRYPTION_KEY = env("BACKUP_ENCRYPTION_KEY", "") or (
    "ZGV2LW9ubHktYmFja3VwLWtleS0zMi1ieXRlcy1vayE=" if DEBUG else ""
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "cases",
    "referrals",
    "outreach",
    "empowerment",
    "casework",
    "transfers",
    "reports",
    "interop",
    "fieldsync",
    "offline",
    "web",
]

MIDDLEWARE = [
    # First: a database or Redis that is away answers a retryable 503, never a 500.
    "basodara.middleware.ServiceUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cases.audit.AuditContextMiddleware",
    "cases.security.middleware.SecurityMiddleware",
    "cases.security.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the lockout flag the sign-in set on the request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "basodara.urls"
WSGI_APPLICATION = "basodara.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.unread_notifications",
            ],
        },
    },
]

# The embedded default is an SQLite file; production sets DATABASE_URL (PostgreSQL).
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'basodara.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for the writer instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus a retried connect and the web statement timeout (basodara/postgresql/).
    DATABASES["default"]["ENGINE"] = "basodara.postgresql"
    # A kept connection that died (PostgreSQL restarted, a failover) is found and replaced
    # at the start of the next request instead of failing it.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: the app's statements are short, and the reports' aggregates over a
    # site's clients cross jit_above_cost only to spend 0.2–1.5 s compiling (bench/README.md).
    # Added to any `options` DATABASE_URL gives. Behind a PgBouncer, which refuses startup
    # options, set DATABASE_STARTUP_OPTIONS empty and `ALTER ROLE … SET jit = off` instead.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # (os.environ directly: set and empty means "none", which env() reads as unset.)
    _startup = [_options.get("options", ""), os.environ.get("DATABASE_STARTUP_OPTIONS", "-c jit=off")]
    _options["options"] = " ".join(filter(None, _startup))
    if not _options["options"]:
        del _options["options"]
    # A connection attempt to an unreachable server gives up after this (libpq's minimum is 2).
    _options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
# New connections are tried again this long while PostgreSQL restarts (basodara/postgresql/).
DATABASE_CONNECT_RETRY_SECONDS = env_seconds("DATABASE_CONNECT_RETRY_SECONDS", 10)
# Web requests only: a statement running longer is cancelled and the request answers 503,
# before gunicorn's 30 s timeout kills the worker. 0 turns it off (behind a PgBouncer, which
# refuses startup options, set it 0 and `ALTER ROLE … SET statement_timeout` instead).
DATABASE_STATEMENT_TIMEOUT = env_seconds("DATABASE_STATEMENT_TIMEOUT", 20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Uploaded client lists are held in memory only (web/uploads.py), up to a little over the
# import's own 5 MB limit (cases.importing), so the form can answer "too large" by itself.
FILE_UPLOAD_HANDLERS = ["web.uploads.MemoryOnlyUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 2**20


AUTH_USER_MODEL = "cases.User"
AUTHENTICATION_BACKENDS = [
    # django-axes refuses a locked-out account or address before any password is checked.
    "cases.security.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# Guardian: no anonymous user row; case data never falls back to global permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_404 = True

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Stored times are UTC; a site's own time zone decides "today" at that site.
TIME_ZONE = env("TIME_ZONE", "Asia/Jayapura")

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Collected static files: hashed names, gzip copies, served by WhiteNoise with a year's
# caching. Production and the embedded default (bin/run collects them) use this; only a
# development server without collectstatic (and the tests) serve the source files as they are.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "basodara.staticstorage.HashedStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if STATIC_MANIFEST:
    # Serve what collectstatic wrote (with its .gz files), never the sources through finders.
    WHITENOISE_USE_FINDERS = False
    WHITENOISE_AUTOREFRESH = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cases.security.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "cases.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "cases.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "cases.api.errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "cases.api.errors.ContentNegotiation",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BASODARA API",
    "DESCRIPTION": "Case management for community support of people living with HIV.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files: no CDN, and no inline script for the CSP to refuse.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several models have a `status`: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "ClientStatusEnum": "cases.models.registry.ClientStatus",
        "OutcomeStatusEnum": "cases.models.outcomes.OutcomeStatus",
        "TracingStatusEnum": "cases.models.arv.TracingStatus",
        "NotificationStatusEnum": "cases.models.notifications.NotificationStatus",
        "IncidentStatusEnum": "outreach.models.IncidentStatus",
        "ProgrammeKindEnum": "empowerment.models.ProgrammeKind",
        "IncomeBandEnum": "empowerment.models.IncomeBand",
        "EnrolmentOutcomeEnum": "empowerment.models.Outcome",
        "GoalStatusEnum": "casework.models.GoalStatus",
        "ActionStatusEnum": "casework.models.ActionStatus",
        "ClosureReasonEnum": "cases.models.registry.ClosureReason",
        # Used by a resource and its update body (cases.api.schema.AutoSchema): named after the model.
        "IncidentKindEnum": "outreach.models.IncidentKind",
        "VisitKindEnum": "outreach.models.VisitKind",
        # A referral's `service` and a facility's `services`.
        "ReferralServiceEnum": "cases.models.registry.ReferralService",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "referrals.schema.facility_fields_optional",
        "cases.api.schema.duplicate_fields_optional",
        "cases.api.schema.error_responses",
    ],
}

# A shared cache in production (Redis), so every web and worker process sees the same
# values (e.g. the sites' time zones behind client rows); per-process memory otherwise.
# Redis answers on loopback in milliseconds: a connection or a reply slower than these is a
# Redis in trouble, and the request goes on without it rather than wait (cache and broker).
REDIS_CONNECT_TIMEOUT = env_seconds("REDIS_CONNECT_TIMEOUT", 1)
REDIS_SOCKET_TIMEOUT = env_seconds("REDIS_SOCKET_TIMEOUT", 2)
CACHE_URL = env("CACHE_URL")
if CACHE_URL:
    CACHES = {
        "default": {
            # Django's Redis cache that carries on in per-process memory while Redis is away
            # (basodara/cache.py): Redis speeds things up, it is never needed to read case data.
            "BACKEND": "basodara.cache.FallbackRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT},
        }
    }

# Celery. The embedded default uses kombu's filesystem transport so worker and beat run
# with no server; production sets CELERY_BROKER_URL (or REDIS_URL) to Redis.
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "control_folder": str(_queue_dir / "control"),
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than the longest task time limit, so a running task is never handed out twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        # Above the worker's 1 s BRPOP wait, so an idle queue is not mistaken for a dead Redis.
        "socket_timeout": max(REDIS_SOCKET_TIMEOUT, 5),
    }
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT or 4
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On a lost broker connection, stop running tasks: the outbox claim makes redelivery safe.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # The reminder scan of every app, then delivery of what is still pending (SPEC §6).
    "run-reminders": {"task": "cases.tasks.run_reminders", "schedule": 15 * 60},
    "expire-client-shares": {"task": "cases.tasks.expire_client_shares", "schedule": 15 * 60},
    "expire-client-imports": {"task": "cases.tasks.expire_client_imports", "schedule": 60 * 60},
    "expire-api-tokens": {"task": "cases.tasks.expire_api_tokens", "schedule": 60 * 60},
    "purge-idempotency-keys": {"task": "fieldsync.tasks.purge_idempotency_keys", "schedule": 24 * 60 * 60},
}
# Publishing a task must not hang a web request or a scan while the broker is down: the
# outbox row is already saved, and the next scan enqueues it again.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "basodara@localhost")
# A mail server that stops answering must not hold a worker until the task time limit.
EMAIL_TIMEOUT = env_seconds("EMAIL_TIMEOUT", 10)

# SMS: the console gateway logs messages; set SMS_GATEWAY_URL to send through an HTTP gateway.
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL")
# A gateway that stops answering must not hold a worker: the task retries later.
SMS_GATEWAY_TIMEOUT = env_seconds("SMS_GATEWAY_TIMEOUT", 10)
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY = env(
    "SMS_GATEWAY", "cases.outbox.sms.HttpGateway" if SMS_GATEWAY_URL else "cases.outbox.sms.ConsoleGateway"
)

# Notification delivery: a claimed row whose worker died is taken again after the lease
# (longer than the task time limit); a pending row is re-enqueued after REQUEUE seconds.
NOTIFICATION_CLAIM_LEASE_SECONDS = env_int("NOTIFICATION_CLAIM_LEASE_SECONDS", 10 * 60)
NOTIFICATION_REQUEUE_SECONDS = env_int("NOTIFICATION_REQUEUE_SECONDS", 10 * 60)

# Field sync (SPEC §12.6): how long the API remembers an Idempotency-Key and its answer.
# Longer than a phone may stay offline (7 days) plus the 48 hours an entry may still be sent.
IDEMPOTENCY_KEY_DAYS = env_int("IDEMPOTENCY_KEY_DAYS", 30)

# TOTP second factor for supervisors and admins: on by default in production.
REQUIRE_2FA = env_bool("REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = "BASODARA"

# Sessions end after 30 idle minutes and after 12 hours in any case
# (cases.security.middleware.SecurityMiddleware); the cookie itself lives no longer than that.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_MAX_SECONDS = env_int("SESSION_MAX_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_MAX_SECONDS

# API tokens (django-rest-knox): stored as digests, each use pushes the expiry
# TOKEN_IDLE_SECONDS ahead, never past TOKEN_MAX_SECONDS from its creation. They die on a
# password change, deactivation, role change and 2FA reset (cases/security/tokens.py).
TOKEN_IDLE_SECONDS = env_int("TOKEN_IDLE_SECONDS", 12 * 60 * 60)
TOKEN_MAX_SECONDS = env_int("TOKEN_MAX_SECONDS", 30 * 24 * 60 * 60)
REST_KNOX = {
    "TOKEN_TTL": timedelta(seconds=TOKEN_IDLE_SECONDS),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(seconds=TOKEN_MAX_SECONDS),
    "MIN_REFRESH_INTERVAL": 60,
    # Clients send "Authorization: Token …" as they always have.
    "AUTH_HEADER_PREFIX": "Token",
}

# Sign-in lockout (django-axes, SPEC §10/§12.5): after LOGIN_FAILURE_LIMIT failures an
# account is locked whatever the address, and an address is locked whatever the account,
# for LOGIN_LOCKOUT_MINUTES after the last failure (failures older than that are forgotten).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "cases.security.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "cases.security.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "otp"]
AXES_VERBOSE = False
# Behind the shipped proxy the client's address is the one the proxy appends to
# X-Forwarded-For; that header is read only when this many proxies are declared in front.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Our own files only; the API docs page is the one place that needs its inline script.
# The field app's service worker (/sw.js) and manifest are our own files too, said explicitly.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Trust X-Forwarded-Proto only behind a TLS proxy that sets it; if the app port were
    # reachable directly, anyone could claim HTTPS with that header.
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
