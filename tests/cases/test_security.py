"""Sign-in hardening and headers (SPEC §10)."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.test import Client as WebClient
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from cases.security.lockout import client_ip, locked_until
from cases.security.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY
from tests.factories import PASSWORD


def fail_times(client, username, n):
    for _ in range(n):
        client.post("/login/", {"username": username, "password": "salah-sekali"})


def _locked(username, ip):
    return locked_until(RequestFactory().get("/", REMOTE_ADDR=ip), username)


def test_five_failures_lock_the_web_sign_in_with_a_clear_message(db, worker):
    web = WebClient()
    fail_times(web, worker.username, 4)
    assert _locked(worker.username, "127.0.0.1") is None
    fail_times(web, worker.username, 1)
    r = web.post("/login/", {"username": worker.username, "password": PASSWORD})
    assert r.status_code == 200
    assert "_auth_user_id" not in web.session  # the right password does not get in
    assert r.context["lockout_message"] and "dikunci" in r.context["lockout_message"]


def test_an_account_is_locked_whatever_the_address(db, worker, colleague):
    for n in range(5):  # five addresses, one failure each
        fail_times(WebClient(REMOTE_ADDR=f"10.0.0.{n + 1}"), worker.username, 1)
    assert _locked(worker.username, "10.0.0.99")
    r = WebClient(REMOTE_ADDR="10.0.0.99").post("/login/", {"username": worker.username, "password": PASSWORD})
    assert r.status_code == 200 and "dikunci" in r.context["lockout_message"]
    # Another account from those addresses still signs in.
    r = WebClient(REMOTE_ADDR="10.0.0.1").post("/login/", {"username": colleague.username, "password": PASSWORD})
    assert r.status_code == 302


def test_an_address_is_locked_whatever_the_account(db, worker, colleague):
    attacker = WebClient(REMOTE_ADDR="10.0.0.7")
    for n in range(5):
        attacker.post("/login/", {"username": f"tebakan{n}", "password": "salah"})
    r = attacker.post("/login/", {"username": colleague.username, "password": PASSWORD})
    assert r.status_code == 200 and "_auth_user_id" not in attacker.session
    # The account itself is not locked: from its own address it signs in.
    r = WebClient(REMOTE_ADDR="10.0.0.8").post("/login/", {"username": colleague.username, "password": PASSWORD})
    assert r.status_code == 302


def test_token_endpoint_is_locked_too(db, worker):
    api = APIClient()
    for _ in range(5):
        assert api.post("/api/v1/auth/token/", {"username": worker.username, "password": "x"}).status_code == 400
    r = api.post("/api/v1/auth/token/", {"username": worker.username, "password": PASSWORD})
    assert r.status_code == 403 and "dikunci" in r.json()["detail"]
    assert "token" not in r.json()


def test_a_username_with_a_nul_is_refused_not_a_server_error(db, worker):
    """PostgreSQL stores no NUL: such a name names no account, and the lockout asks only
    after the address (it asked the database after the name: a 500 on the token endpoint
    and the sign-in page)."""
    r = APIClient().post("/api/v1/auth/token/", {"username": "a\x00b", "password": "x"}, format="json")
    assert r.status_code == 400 and set(r.json()) == {"username"}
    web = WebClient()
    r = web.post("/login/", {"username": "a\x00b", "password": "x"})
    assert r.status_code == 200 and "_auth_user_id" not in web.session
    assert _locked("a\x00b", "127.0.0.1") is None


def test_lock_ends_30_minutes_after_the_last_failure(db, worker):
    fail_times(WebClient(), worker.username, 5)
    until = _locked(worker.username, "127.0.0.1")
    assert until is not None and abs((until - timezone.now()).total_seconds() - 30 * 60) < 60
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=31))
    assert _locked(worker.username, "127.0.0.1") is None
    assert WebClient().post("/login/", {"username": worker.username, "password": PASSWORD}).status_code == 302


def test_forwarded_header_is_ignored_without_a_trusted_proxy(db, settings, worker):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "172.18.0.1"


def test_behind_a_trusted_proxy_each_client_is_its_own_address(db, settings, worker, colleague):
    """Behind the shipped proxy every request comes from its gateway address: the lockout
    counts the address the proxy saw, so one attacker does not lock out everyone."""
    settings.TRUSTED_PROXY_COUNT = 1
    gateway = "172.18.0.1"
    # A client's own X-Forwarded-For entries are left of the one the proxy appended.
    request = RequestFactory().get("/", REMOTE_ADDR=gateway, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"
    attacker = WebClient(REMOTE_ADDR=gateway, HTTP_X_FORWARDED_FOR="203.0.113.9")
    for n in range(5):
        attacker.post("/login/", {"username": f"tebakan{n}", "password": "salah"})
    other = WebClient(REMOTE_ADDR=gateway, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert other.post("/login/", {"username": colleague.username, "password": PASSWORD}).status_code == 302


def test_idle_session_ends_after_30_minutes(client, worker):
    client.force_login(worker)
    assert client.get("/clients/").status_code == 200
    session = client.session
    session[SESSION_SEEN_KEY] = timezone.now().timestamp() - 31 * 60
    session.save()
    assert client.get("/clients/").status_code == 302
    assert client.get("/api/v1/users/me/").status_code in (401, 403)


def test_session_ends_after_12_hours_even_when_active(client, worker):
    client.force_login(worker)
    session = client.session
    session[SESSION_STARTED_KEY] = timezone.now().timestamp() - 12 * 3600 - 1
    session.save()
    assert client.get("/clients/").status_code == 302


def test_activity_keeps_the_session(client, worker):
    client.force_login(worker)
    session = client.session
    session[SESSION_SEEN_KEY] = timezone.now().timestamp() - 29 * 60
    session.save()
    assert client.get("/clients/").status_code == 200
    assert timezone.now().timestamp() - client.session[SESSION_SEEN_KEY] < 5


def test_security_headers_on_client_data(as_user, worker, client_a):
    r = as_user(worker).get(f"/api/v1/clients/{client_a.pk}/")
    assert "no-store" in r["Cache-Control"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in r["Content-Security-Policy"]


def test_web_pages_carry_the_headers_too(client, worker, client_a):
    client.force_login(worker)
    r = client.get(f"/clients/{client_a.pk}/")
    assert "no-store" in r["Cache-Control"] and "default-src 'self'" in r["Content-Security-Policy"]


def test_api_docs_load_only_local_assets(client, db):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "cdn" not in html.lower() and "https://" not in html.replace("https://swagger", "")
    assert "<script>" not in html.replace(" ", "")  # no inline script for the CSP to refuse


@pytest.mark.parametrize(
    "password, ok",
    [("pendek", False), ("1234567890123", False), ("password1234", False), ("Pendamping-baru-2026", True)],
)
def test_password_validators(as_user, supervisor, site_a, password, ok):
    r = as_user(supervisor).post(
        "/api/v1/users/",
        {"username": "baru", "password": password, "role": "social_worker", "site": site_a.pk},
        format="json",
    )
    assert (r.status_code == 201) == ok, r.content
    if not ok:
        assert "password" in r.json()
