"""TOTP second factor for supervisors and admins when REQUIRE_2FA is on (SPEC §10)."""

import pytest
from django.test import Client as WebClient
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def require_2fa(settings):
    settings.REQUIRE_2FA = True
    # django-otp delays the next try after a wrong code (1 s, doubling); the tests send a
    # right code right after a wrong one, so the delay is switched off here only.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code_for(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(user):
    web = WebClient()
    assert web.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return web


def test_supervisor_must_enrol_and_confirm_before_anything(supervisor, client_a):
    web = sign_in(supervisor)
    r = web.get(f"/clients/{client_a.pk}/")
    assert r.status_code == 302 and r["Location"].startswith("/2fa/")
    assert web.get("/api/v1/clients/").status_code == 403
    page = web.get("/2fa/")
    assert page.status_code == 200 and page.context["enrolling"] and page.context["qr_svg"].startswith("<svg")
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    assert web.post("/2fa/", {"code": "000000"}).status_code == 400
    r = web.post("/2fa/", {"code": code_for(device), "next": f"/clients/{client_a.pk}/"})
    assert r.status_code == 302 and r["Location"] == f"/clients/{client_a.pk}/"
    device.refresh_from_db()
    assert device.confirmed
    assert web.get(f"/clients/{client_a.pk}/").status_code == 200
    assert web.get("/api/v1/clients/").status_code == 200


def test_next_sign_in_asks_the_code_of_the_enrolled_device(supervisor):
    device = TOTPDevice.objects.create(user=supervisor, name="app", confirmed=True)
    web = sign_in(supervisor)
    page = web.get("/2fa/")
    assert not page.context["enrolling"] and "secret" not in page.context  # no secret shown once enrolled
    assert web.post("/2fa/", {"code": code_for(device)}).status_code == 302
    assert web.get("/clients/").status_code == 200


def test_an_open_redirect_is_refused(supervisor):
    device = TOTPDevice.objects.create(user=supervisor, name="app", confirmed=True)
    web = sign_in(supervisor)
    r = web.post("/2fa/", {"code": code_for(device), "next": "https://evil.example/"})
    assert r["Location"] == "/"


def test_social_workers_sign_in_with_password_only(worker):
    web = sign_in(worker)
    assert web.get("/clients/").status_code == 200


def test_admin_site_needs_the_second_factor(admin_user):
    web = sign_in(admin_user)
    assert web.get("/admin/").status_code == 302


def test_api_token_needs_the_code_for_supervisors(supervisor, worker):
    api = APIClient()
    r = api.post("/api/v1/auth/token/", {"username": supervisor.username, "password": PASSWORD}, format="json")
    assert r.status_code == 400 and "otp" in r.json()
    device = TOTPDevice.objects.create(user=supervisor, name="app", confirmed=True)
    r = api.post(
        "/api/v1/auth/token/", {"username": supervisor.username, "password": PASSWORD, "otp": "123"}, format="json"
    )
    assert r.status_code == 400 and "otp" in r.json()
    r = api.post(
        "/api/v1/auth/token/",
        {"username": supervisor.username, "password": PASSWORD, "otp": code_for(device)},
        format="json",
    )
    assert r.status_code == 200 and r.json()["token"]
    r = api.post("/api/v1/auth/token/", {"username": worker.username, "password": PASSWORD}, format="json")
    assert r.status_code == 200


def test_off_in_development(settings, supervisor):
    settings.REQUIRE_2FA = False
    web = sign_in(supervisor)
    assert web.get("/clients/").status_code == 200
