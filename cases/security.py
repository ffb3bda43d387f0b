"""Sign-in hardening (SPEC §10, §12.5): lockout after repeated failures, session lifetimes,
and the headers every response carries.

Lockout is django-axes' (settings AXES_*): its backend, first in AUTHENTICATION_BACKENDS,
refuses a locked account or address before any password is checked, on every way in (web,
admin, API token), and it counts failures from Django's `user_login_failed` signal in its
own tables. An account is locked after 5 failures whatever the address they came from, and
an address after 5 failures whatever the accounts tried, for 30 minutes after the last one.
Behind a proxy the address is the one the trusted proxy saw (`client_ip`), never a header
anyone can send.
"""

import ipaddress
from urllib.parse import quote

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db.models import Max, Q
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from . import access


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


SESSION_STARTED_KEY = "basodara_started_at"
SESSION_SEEN_KEY = "basodara_seen_at"
# Activity is written to the session at most this often, not on every request.
SEEN_RESOLUTION = 60


def _stamp_session(sender, request, user, **kwargs):
    now = timezone.now().timestamp()
    request.session[SESSION_STARTED_KEY] = now
    request.session[SESSION_SEEN_KEY] = now


user_logged_in.connect(_stamp_session, dispatch_uid="basodara-session-stamp")


class SecurityMiddleware:
    """Sessions end after SESSION_IDLE_SECONDS without a request and after
    SESSION_MAX_SECONDS in any case; responses to a signed-in user, which may carry client
    data, are never cached; the Content-Security-Policy allows only our own files."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            self._expire_or_touch(request)
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            add_never_cache_headers(response)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response

    @staticmethod
    def _expire_or_touch(request):
        now = timezone.now().timestamp()
        started = request.session.get(SESSION_STARTED_KEY, now)
        seen = request.session.get(SESSION_SEEN_KEY, now)
        if now - seen > settings.SESSION_IDLE_SECONDS or now - started > settings.SESSION_MAX_SECONDS:
            logout(request)
        elif now - seen > SEEN_RESOLUTION or SESSION_SEEN_KEY not in request.session:
            request.session[SESSION_SEEN_KEY] = now


SECOND_FACTOR_ROLES = ("supervisor", "admin")
# Paths an unverified supervisor may still reach: the second-factor page and the way out
# (and the app's manifest, which every page links and which carries no data).
SECOND_FACTOR_OPEN_PATHS = ("/2fa/", "/logout/", "/login/", "/i18n/", "/static/", "/manifest.webmanifest")


def needs_second_factor(user) -> bool:
    return settings.REQUIRE_2FA and access.role_of(user) in SECOND_FACTOR_ROLES


class TwoFactorMiddleware:
    """A supervisor or admin signed in by password alone reaches nothing but the
    second-factor page: pages redirect there, the API (session) answers 403. API tokens are
    issued only against a valid code, so token requests are already verified."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and needs_second_factor(user)
            and not user.is_verified()
            and not request.path.startswith(SECOND_FACTOR_OPEN_PATHS)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("A second factor is required: open /2fa/ to confirm.")}, status=403)
            return redirect(f"{reverse('two-factor')}?next={quote(request.get_full_path())}")
        return self.get_response(request)
