"""Django's PostgreSQL backend plus two things a small server's database needs.

- A new connection that fails because PostgreSQL is restarting ("connection refused", "the
  database system is starting up") is tried again for DATABASE_CONNECT_RETRY_SECONDS: a
  restart for an update then makes requests wait a second or two instead of failing. Bad
  credentials or a missing database fail at once. (Dead connections kept between requests
  are found by CONN_HEALTH_CHECKS, in settings.)
- Connections opened by web processes (basodara.wsgi calls `serve_web_requests()`) get
  PostgreSQL's statement_timeout, DATABASE_STATEMENT_TIMEOUT, so one stuck query cannot
  hold a gunicorn worker for good; the worker, beat and management commands have none
  (an import or a migration may rightly take longer).
- `prepared_cursor()`: a cursor whose statements PostgreSQL prepares, parsing and planning
  each once per connection (Django's own cursors bind client-side and prepare nothing). For
  a long statement of fixed shape run on every request, the client's timeline: planning its
  UNION of sixteen sources costs more than running it. Behind a PgBouncer in transaction
  mode, prepared statements need its `max_prepared_statements` (PgBouncer 1.21 or newer).
"""

import logging
import sys
import time

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base, operations

import basodara.postgresql

logger = logging.getLogger(__name__)

# Refusals no retry will fix (libpq reports them as text, without an SQLSTATE): a wrong
# role, database or password. Everything else (refused, "the database system is starting
# up", "too many clients", a timeout) may pass within seconds.
PERMANENT = ("does not exist", "authentication failed", "pg_hba.conf", "no password supplied")
FIRST_DELAY = 0.1
MAX_DELAY = 1.0


def statement_timeout_ms():
    """The statement timeout new connections of this process get, in ms (0: none)."""
    seconds = settings.DATABASE_STATEMENT_TIMEOUT
    return round(seconds * 1000) if basodara.postgresql.web_requests and seconds else 0


def _retryable(error):
    message = str(error)
    return not any(marker in message for marker in PERMANENT)


class PreparedCursor(base.ServerBindingCursor):
    """Django's server-side-binding cursor, preparing every statement it executes."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        # psycopg keeps no text of a prepared statement's execution: the logs and the query
        # counts show the statement with its parameters as Django's own cursors do.
        if isinstance(cursor, PreparedCursor):
            return self.compose_sql(sql, params)
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def prepared_cursor(self):
        """A cursor (wrapped as `cursor()` wraps one: counted, logged, errors translated)
        whose statements are prepared on this connection; psycopg keeps the last 100."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(PreparedCursor(self.connection))

    def get_connection_params(self):
        params = super().get_connection_params()
        if "prepare_threshold" not in self.settings_dict["OPTIONS"]:
            # Django opens psycopg with prepare_threshold=None, which disables preparing even
            # when asked. Prepare only when asked (prepared_cursor): Django's client-side
            # binding cursors never prepare, whatever the threshold.
            params["prepare_threshold"] = sys.maxsize
        timeout = statement_timeout_ms()
        if timeout:
            params["options"] = " ".join(filter(None, [params.get("options"), f"-c statement_timeout={timeout}"]))
        return params

    def get_new_connection(self, conn_params):
        retry_seconds = settings.DATABASE_CONNECT_RETRY_SECONDS if basodara.postgresql.connect_retry.get() else 0
        deadline = time.monotonic() + retry_seconds
        delay = FIRST_DELAY
        attempts = 0
        while True:
            attempts += 1
            try:
                connection = super().get_new_connection(conn_params)
            except psycopg.OperationalError as error:
                if not _retryable(error) or time.monotonic() + delay > deadline:
                    if attempts > 1:
                        logger.error("database unreachable after %d attempts: %s", attempts, type(error).__name__)
                    raise
                if attempts == 1:
                    logger.warning(
                        "database unreachable (%s); retrying for up to %s s",
                        type(error).__name__,
                        retry_seconds,
                    )
                time.sleep(delay)
                delay = min(delay * 2, MAX_DELAY)
                continue
            if attempts > 1:
                logger.warning("database reachable again after %d attempts", attempts)
            return connection
