"""Sign-in hardening (SPEC §10, §12.5): lockout after repeated failures.

Lockout is django-axes' (settings AXES_*): its backend, first in AUTHENTICATION_BACKENDS,
refuses a locked account or address before any password is checked, on every way in (web,
admin, API token), and it counts failures from Django's `user_login_failed` signal in its
own tables. An account is locked after 5 failures whatever the address they came from, and
an address after 5 failures whatever the accounts tried, for 30 minutes after the last one.
Behind a proxy the address is the one the trusted proxy saw (`client_ip`), never a header
anyone can send.
"""

import ipaddress

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _


def _valid_ip(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except (ValueError, AttributeError):
        return None


def client_ip(request):
    """The address a request came from. With TRUSTED_PROXY_COUNT proxies in front, the
    address the outermost trusted proxy saw: the TRUSTED_PROXY_COUNT-th entry of
    X-Forwarded-For from the right (each proxy appends what it saw, so entries to the left
    of it are the client's own claims). Without it the header is ignored."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return _valid_ip(forwarded[-count]) or remote
    return remote


def locked_until(request, username):
    """When the lock on `username` or on the request's address ends, or None if neither
    is locked (asked of django-axes; the time is its last counted failure + the cool-off)."""

    username = str(username or "")[:150]
    if "\x00" in username:
        # A name PostgreSQL cannot store names no account (the form or serializer refuses it):
        # only the address is asked after.
        username = ""
    if AxesProxyHandler.is_allowed(request, {"username": username}):
        return None
    cool_off = settings.AXES_COOLOFF_TIME
    ip = client_ip(request)
    last = (
        AccessAttempt.objects.filter(
            Q(username=username) | Q(ip_address=ip), attempt_time__gte=timezone.now() - cool_off
        )
        .aggregate(last=Max("attempt_time"))
        .get("last")
    )
    return (last or timezone.now()) + cool_off


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout, first in AUTHENTICATION_BACKENDS. Every sign-in over HTTP (web,
    admin, API token) passes its request and is checked; a call without one is not an HTTP
    sign-in (a management command, the test client's `login`) and has no address to lock,
    so it is let through to the password check."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message(until):
    local = timezone.localtime(until)
    return _(
        "Too many failed sign-ins. Signing in to this account, or from this address, is locked "
        "until %(time)s; ask your supervisor if you have forgotten your password."
    ) % {"time": local.strftime("%H:%M")}


def lockout_response(request, original_response=None, credentials=None):
    """What django-axes answers once it has locked a request out: the answer the view already
    made (the sign-in form and the token endpoint say so themselves), else a 403 with the
    message."""
    if original_response is not None:
        return original_response
    until = locked_until(request, (credentials or {}).get("username", ""))
    return JsonResponse({"detail": lockout_message(until or timezone.now())}, status=403)
