"""Sessions and responses (SPEC §10, §12.5): session lifetimes, the headers every response
carries, and the second factor of supervisors and admins."""

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from cases import access

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
