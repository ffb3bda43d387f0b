"""API tokens expire, can be revoked and die with the credentials they were given for (SPEC §12.5)."""

import datetime

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from cases import services
from cases.models import AccessLog, Role
from tests.factories import PASSWORD


def _token(user):
    r = APIClient().post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    return r.json()


def _api(token):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_token_answers_with_its_expiry_and_is_stored_as_a_digest(db, worker):
    body = _token(worker)
    assert set(body) == {"token", "expiry"}
    expiry = datetime.datetime.fromisoformat(body["expiry"].replace("Z", "+00:00"))
    assert abs((expiry - timezone.now()).total_seconds() - 12 * 3600) < 60
    stored = AuthToken.objects.get(user=worker)
    assert body["token"] not in (stored.digest, stored.token_key)
    assert _api(body["token"]).get("/api/v1/users/me/").status_code == 200


def test_idle_token_expires(db, worker):
    token = _token(worker)["token"]
    AuthToken.objects.filter(user=worker).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert _api(token).get("/api/v1/users/me/").status_code == 401
    assert not AuthToken.objects.filter(user=worker).exists()


def test_use_extends_a_token_but_never_past_its_maximum(db, settings, worker):
    token = _token(worker)["token"]
    # Created 29 days 23 hours ago, nearly idle: use pushes it to the 30-day cap, not 12 h on.
    created = timezone.now() - datetime.timedelta(days=29, hours=23)
    AuthToken.objects.filter(user=worker).update(created=created, expiry=timezone.now() + datetime.timedelta(minutes=5))
    assert _api(token).get("/api/v1/users/me/").status_code == 200
    expiry = AuthToken.objects.get(user=worker).expiry
    assert abs((expiry - (created + datetime.timedelta(days=30))).total_seconds()) < 5


def test_logout_ends_this_token_and_logoutall_every_token(db, worker):
    first, second, third = (_token(worker)["token"] for _ in range(3))
    assert _api(first).post("/api/v1/auth/logout/").status_code == 204
    assert _api(first).get("/api/v1/users/me/").status_code == 401
    assert _api(second).get("/api/v1/users/me/").status_code == 200
    assert _api(second).post("/api/v1/auth/logoutall/").status_code == 204
    assert _api(third).get("/api/v1/users/me/").status_code == 401
    assert not AuthToken.objects.filter(user=worker).exists()


def test_logout_needs_a_token(db, worker):
    assert APIClient().post("/api/v1/auth/logout/").status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda admin, user: services.user_update(actor=admin, user=user, password="Kata-sandi-baru-2026"),
            id="password",
        ),
        pytest.param(
            lambda admin, user: services.user_update(actor=admin, user=user, is_active=False), id="deactivation"
        ),
        pytest.param(lambda admin, user: services.user_update(actor=admin, user=user, role=Role.SUPERVISOR), id="role"),
    ],
)
def test_tokens_die_with_the_credentials(db, admin_user, worker, change):
    token = _token(worker)["token"]
    change(admin_user, worker)
    assert _api(token).get("/api/v1/users/me/").status_code == 401


def test_a_password_set_in_the_admin_or_shell_ends_tokens_too(db, worker):
    token = _token(worker)["token"]
    worker.set_password("Kata-sandi-lain-2026")
    worker.save()
    assert _api(token).get("/api/v1/users/me/").status_code == 401


def test_an_unrelated_change_keeps_the_token(db, admin_user, worker):
    token = _token(worker)["token"]
    services.user_update(actor=admin_user, user=worker, first_name="Budi")
    assert _api(token).get("/api/v1/users/me/").status_code == 200


def test_admin_resets_second_factor_ending_devices_and_tokens(db, as_user, admin_user, supervisor):
    TOTPDevice.objects.create(user=supervisor, name="app", confirmed=True)
    token_instance, token = AuthToken.objects.create(user=supervisor)
    r = as_user(admin_user).post(f"/api/v1/users/{supervisor.pk}/reset-2fa/")
    assert r.status_code == 204
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    assert _api(token).get("/api/v1/users/me/").status_code == 401
    assert AccessLog.objects.filter(
        object_type="cases.user", object_id=str(supervisor.pk), fields=["second_factor"]
    ).exists()


def test_only_admins_reset_a_second_factor(db, as_user, supervisor, worker, outsider_supervisor):
    TOTPDevice.objects.create(user=worker, name="app", confirmed=True)
    assert as_user(supervisor).post(f"/api/v1/users/{worker.pk}/reset-2fa/").status_code == 403
    assert as_user(outsider_supervisor).post(f"/api/v1/users/{worker.pk}/reset-2fa/").status_code == 404
    assert as_user(worker).post(f"/api/v1/users/{worker.pk}/reset-2fa/").status_code == 403
    assert TOTPDevice.objects.filter(user=worker).exists()


def test_a_token_request_costs_one_query_to_authenticate(db, worker, django_assert_max_num_queries):
    token = _token(worker)["token"]
    api = _api(token)
    api.get("/api/v1/users/me/")  # the expiry was just pushed: no write on the next use
    # the token with its user, then the view's own query
    with django_assert_max_num_queries(2):
        assert api.get("/api/v1/users/me/").status_code == 200


def test_expired_tokens_are_swept(db, worker):
    from cases.security.tasks import expire_api_tokens

    _token(worker)
    live = _token(worker)["token"]
    AuthToken.objects.filter(user=worker).order_by("created").filter(
        pk__in=AuthToken.objects.filter(user=worker).order_by("created").values("pk")[:1]
    ).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert expire_api_tokens.apply().get() == 1
    assert _api(live).get("/api/v1/users/me/").status_code == 200


def test_a_body_that_is_not_an_object_is_a_400_not_a_500(api, db):
    for body in ([None, None], ["worker_a", "secret"], "worker_a"):
        r = api.post("/api/v1/auth/token/", body, format="json")
        assert r.status_code == 400, (body, r.content)
