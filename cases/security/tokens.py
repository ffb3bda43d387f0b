"""API tokens (django-rest-knox) and when they die (SPEC §12.5).

A token is issued by `POST auth/token/` (password, plus the second factor for supervisors
and admins), lives TOKEN_IDLE_SECONDS past its last use and TOKEN_MAX_SECONDS at most
(settings.REST_KNOX), and is revoked by `POST auth/logout/` (this one) or
`POST auth/logoutall/` (all of the user's). Besides, every token of a user dies when the
account changes in a way that may no longer match what was proved to get it: a new
password, deactivation, another role (or admin rank, or site), or a reset second factor.
These are caught from the model signals, so every way of making the change (API, web
pages, admin, shell) ends the tokens, inside the same transaction.
"""

from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken

# A change of any of these ends the user's tokens.
CREDENTIAL_FIELDS = ("password", "is_active", "role", "is_superuser", "is_staff", "site_id", "facility_id")


def revoke_all(user) -> int:
    """Delete every API token of `user`; how many there were."""

    deleted, _ = AuthToken.objects.filter(user_id=user.pk).delete()
    return deleted


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's authentication, without its sweep of all the user's other tokens on every
    request (a query per request, on every hot list): an expired token is refused and
    deleted when it is used, and the others are swept by `expire_tokens` (beat)."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


def expire_tokens(*, now=None) -> int:
    """Delete expired tokens (they are refused anyway); how many."""

    deleted, _ = AuthToken.objects.filter(expiry__lt=now or timezone.now()).delete()
    return deleted


def issue(user):
    """A new token for `user`: (token string, expiry)."""

    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry


def _touches_credentials(update_fields):
    if update_fields is None:
        return True
    names = {name.removesuffix("_id") for name in CREDENTIAL_FIELDS}
    return bool(names & {name.removesuffix("_id") for name in update_fields})


def _remember_credentials(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._token_credentials = None
    if raw or instance.pk is None or not _touches_credentials(update_fields):
        return  # e.g. last_login stamped at sign-in
    instance._token_credentials = sender._base_manager.filter(pk=instance.pk).values(*CREDENTIAL_FIELDS).first()


def _revoke_on_change(sender, instance, created, raw=False, **kwargs):
    if raw or created:
        return
    before = getattr(instance, "_token_credentials", None)
    if before is None:
        return
    if any(before[name] != getattr(instance, name) for name in CREDENTIAL_FIELDS):
        revoke_all(instance)
    instance._token_credentials = {name: getattr(instance, name) for name in CREDENTIAL_FIELDS}


def _revoke_on_second_factor_reset(sender, instance, **kwargs):
    user_id = getattr(instance, "user_id", None)
    if user_id is not None:
        AuthToken.objects.filter(user_id=user_id).delete()


def connect():
    pre_save.connect(_remember_credentials, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens-pre-save")
    post_save.connect(_revoke_on_change, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens-post-save")
    post_delete.connect(_revoke_on_second_factor_reset, sender=TOTPDevice, dispatch_uid="tokens-2fa-reset")


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The schema's description of `Authorization: Token …`."""

    target_class = "cases.security.tokens.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token from POST /api/v1/auth/token/, sent as "Token <token>".',
        }
