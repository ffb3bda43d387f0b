"""Answers for a dependency that is away: a clean, retryable 503 instead of a 500.

A database that restarts, fails over or cancels a statement past its timeout, or a Redis
that does not answer, is not a bug: the request may simply be sent again in a few seconds.
`ServiceUnavailableMiddleware` (basodara.middleware) turns such an error raised by a view
into this answer; `handler500` does the same for one raised elsewhere (a middleware loading
the session or the user) and keeps Django's plain 500 for every other error.

Writes are services in one transaction each (the audit row included), so a write that
answers 503 was rolled back whole and can be sent again; only a database lost in the instant
between its commit and the answer leaves it saved (whole, never half). The page is rendered
without the request's context processors, which would read the database that just failed.
"""

import logging
import sys

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("basodara.unavailable")

RETRY_AFTER_SECONDS = 5
RETRYABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, BrokerError)


def is_retryable(error) -> bool:
    return isinstance(error, RETRYABLE)


def is_lost_connection(error) -> bool:
    """The database connection broke (not a statement cancelled by its timeout): a fresh
    connection may well succeed at once."""
    cause = error.__cause__
    return isinstance(error, (OperationalError, InterfaceError)) and not isinstance(cause, psycopg.errors.QueryCanceled)


def unavailable(request, error):
    logger.warning(
        "503 for %s %s: %s (%s)",
        request.method,
        request.path,
        type(error).__name__,
        type(error.__cause__).__name__ if error.__cause__ else "-",
    )
    message = _("The service is briefly unavailable. Please try again in a few seconds.")
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def handler500(request):
    error = sys.exc_info()[1]
    if error is not None and is_retryable(error):
        request.basodara_unavailable = error
        return unavailable(request, error)
    return defaults.server_error(request)


def handler404(request, exception):
    """An API path that names nothing (a malformed id included) answers JSON like every API
    error (`ErrorDetail`); pages keep Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)
