"""Sign-in hardening (SPEC §10): lockout after repeated failures, session lifetimes, and the
headers every response carries.

Lockout: 5 failed sign-ins for one account from one address within 15 minutes lock that
account from that address for 30 minutes after the last failure. It sits in front of every
way in (web, admin, API token) as the first authentication backend, and the failures are
recorded from Django's `user_login_failed` signal, so no door can skip it.
"""

from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from .models import LoginFailure

FAILURE_LIMIT = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=30)


def client_ip(request):
    return request.META.get("REMOTE_ADDR") if request is not None else None


def locked_until(username, ip):
    """When the lock on (username, address) ends, or None if it is not locked."""
    if not username:
        return None
    now = timezone.now()
    recent = LoginFailure.objects.filter(username=username, ip=ip, at__gt=now - LOCKOUT - FAILURE_WINDOW).order_by(
        "-at"
    )
    times = list(recent.values_list("at", flat=True)[: FAILURE_LIMIT * 4])
    # Locked when some 5 consecutive failures fit in 15 minutes and the last of them is
    # less than 30 minutes old.
    for i in range(len(times) - FAILURE_LIMIT + 1):
        newest, oldest = times[i], times[i + FAILURE_LIMIT - 1]
        if newest - oldest <= FAILURE_WINDOW and now - newest < LOCKOUT:
            return newest + LOCKOUT
    return None


def lockout_message(until):
    local = timezone.localtime(until)
    return _(
        "Too many failed sign-ins. This account is locked from this device until %(time)s; "
        "ask your supervisor if you have forgotten your password."
    ) % {"time": local.strftime("%H:%M")}


class LockoutBackend(ModelBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a locked (account, address) before any
    password is checked (PermissionDenied stops Django trying the other backends); else it
    lets ModelBackend, next in the list, check the password. It loads users like
    ModelBackend, since a session may name it as the backend that signed the user in."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if locked_until(username, client_ip(request)):
            raise PermissionDenied
        return None


def record_failure(sender, credentials, request=None, **kwargs):
    LoginFailure.objects.create(username=credentials.get("username", "")[:150], ip=client_ip(request))


user_login_failed.connect(record_failure, dispatch_uid="basodara-login-failure")


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
# Paths an unverified supervisor may still reach: the second-factor page and the way out.
SECOND_FACTOR_OPEN_PATHS = ("/2fa/", "/logout/", "/login/", "/i18n/", "/static/")


def needs_second_factor(user) -> bool:
    from . import access

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
