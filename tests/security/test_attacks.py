"""Issue 15 replayed as an attacker would, against the app's real endpoints. Each test is one
scenario of the issue and fails if the attack still works."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from cases import outbox, services
from cases.arv import services as arv_services
from cases.models import AccessLog, Client, Role
from referrals import links
from referrals import services as referral_services
from referrals.models import ReferralStatus
from tests.factories import PASSWORD, UserFactory, make_client

ROOT = Path(__file__).resolve().parent.parent.parent


def token_for(user):
    r = APIClient().post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {r.json()['token']}")
    return api


# 1. A supervisor pages through the whole site: every row is logged, as are writes in bulk.
def test_copying_the_site_through_the_list_leaves_a_trace(as_user, supervisor, group_a1, client_a):
    for i in range(4):
        make_client(actor=supervisor, full_name=f"Klien {i}", support_groups=[group_a1])
    seen = set()
    url = "/api/v1/clients/?page_size=2"
    while url:
        body = as_user(supervisor).get(url).json()
        seen |= {row["id"] for row in body["results"]}
        url = body["next"]
    logged = set(
        AccessLog.objects.filter(user=supervisor, action="read", kind="list").values_list("client_id", flat=True)
    )
    assert seen and logged == seen == set(Client.objects.values_list("pk", flat=True))


def test_bulk_ltfu_marking_is_in_the_log(client_a, worker, facility_a):
    arv_services.refill_record(
        actor=worker, client=client_a, facility=facility_a, pickup_date=datetime.date(2026, 9, 1), days_supplied=30
    )
    outbox.run_all(today=datetime.date(2026, 10, 29))
    assert Client.objects.get(pk=client_a.pk).status == "ltfu"
    assert AccessLog.objects.filter(action="update", client_id=client_a.pk, fields=["status"]).exists()


# 2. Tokens that live for ever.
def test_old_token_dies_when_the_admin_changes_the_password(as_user, admin_user, worker):
    stolen = token_for(worker)
    assert (
        as_user(admin_user)
        .patch(f"/api/v1/users/{worker.pk}/", {"password": "Kata-sandi-baru-2026"}, format="json")
        .status_code
        == 200
    )
    assert stolen.get("/api/v1/clients/").status_code == 401


def test_token_dies_on_deactivation(as_user, admin_user, worker):
    stolen = token_for(worker)
    as_user(admin_user).patch(f"/api/v1/users/{worker.pk}/", {"is_active": False}, format="json")
    assert stolen.get("/api/v1/clients/").status_code == 401


def test_promoted_worker_token_without_second_factor_cannot_reach_the_site(as_user, admin_user, worker, client_a):
    stolen = token_for(worker)
    r = as_user(admin_user).patch(f"/api/v1/users/{worker.pk}/", {"role": Role.SUPERVISOR}, format="json")
    assert r.status_code == 200, r.content
    assert stolen.get("/api/v1/clients/").status_code == 401


def test_token_dies_on_second_factor_reset(as_user, admin_user, supervisor):
    from knox.models import AuthToken

    TOTPDevice.objects.create(user=supervisor, name="app", confirmed=True)
    _instance, token = AuthToken.objects.create(user=supervisor)
    as_user(admin_user).post(f"/api/v1/users/{supervisor.pk}/reset-2fa/")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/users/me/").status_code == 401


# 3. The duplicate oracle.
def test_social_worker_cannot_probe_nik_through_the_duplicate_flag(as_user, supervisor, worker, client_a):
    other = make_client(actor=supervisor, full_name="Orang Lain", nik="7371010101900002")
    r = as_user(worker).patch(f"/api/v1/clients/{client_a.pk}/", {"nik": "7371010101900002"}, format="json")
    assert r.status_code == 200
    assert "possible_duplicate" not in r.json()
    assert "possible_duplicate" not in as_user(worker).get(f"/api/v1/clients/{client_a.pk}/").json()
    assert other.pk  # the person exists, and nothing above said so


def test_volunteer_cannot_probe_name_and_birth_date(as_user, supervisor, volunteer, group_a1, client_a):
    make_client(actor=supervisor, full_name="Budi Santoso", date_of_birth=datetime.date(1980, 1, 1))
    r = as_user(volunteer).post(
        "/api/v1/clients/",
        {
            "full_name": "Budi Santoso",
            "sex": "M",
            "date_of_birth": "1980-01-01",
            "consent_date": "2026-11-01",
            "support_groups": [group_a1.pk],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert "possible_duplicate" not in r.json()


# 4. Silent edits.
def test_admin_cannot_move_a_client_to_another_site_by_patch(as_user, admin_user, client_a, site_b):
    r = as_user(admin_user).patch(f"/api/v1/clients/{client_a.pk}/", {"site": site_b.pk}, format="json")
    assert r.status_code == 400 and "site" in r.json()
    assert Client.objects.get(pk=client_a.pk).site_id == client_a.site_id


def test_social_worker_reassignment_is_refused_not_ignored(as_user, worker, colleague, client_a):
    r = as_user(worker).patch(
        f"/api/v1/clients/{client_a.pk}/", {"assigned_social_worker": colleague.pk}, format="json"
    )
    assert r.status_code == 400 and "assigned_social_worker" in r.json()


# 5. The facility link in the wrong hands.
@pytest.fixture
def sent(client_a, worker, facility_a):
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    client_a.refresh_from_db()
    referral = referral_services.referral_create(
        actor=worker, client=client_a, to_facility=facility_a, service="vct", reason="VCT"
    )
    return referral_services.referral_transition(action="send", referral=referral, actor=worker)


def test_emergency_reader_gets_no_facility_link(as_user, colleague, sent):
    services.client_break_glass(actor=colleague, client=sent.client, reason="Darurat medis di rumah")
    assert as_user(colleague).get(f"/api/v1/referrals/{sent.pk}/").json()["facility_link"] is None


# 6. Withdrawn consent.
def test_clinic_loses_the_referral_and_the_link_after_consent_is_withdrawn(as_user, worker, facility_staff, sent):
    link = links.path_for(sent)
    services.client_update(actor=worker, client=sent.client, consent_withdrawn_on=timezone.localdate())
    assert as_user(facility_staff).get(f"/api/v1/referrals/{sent.pk}/").status_code == 404
    assert BrowserClient().get(link).status_code == 404
    sent.refresh_from_db()
    assert sent.status == ReferralStatus.CANCELLED


# 7. The lockout behind the proxy.
def test_attacker_behind_the_proxy_does_not_lock_the_supervisor_out(settings, supervisor):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = BrowserClient(REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for n in range(6):
        attacker.post("/login/", {"username": f"tebak{n}", "password": "salah"})
    supervisor_browser = BrowserClient(REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert (
        supervisor_browser.post("/login/", {"username": supervisor.username, "password": PASSWORD}).status_code == 302
    )


def test_password_guessing_from_many_addresses_locks_the_account(worker):
    for n in range(5):
        BrowserClient(REMOTE_ADDR=f"10.1.0.{n + 1}").post("/login/", {"username": worker.username, "password": "x"})
    r = APIClient(REMOTE_ADDR="10.1.0.99").post(
        "/api/v1/auth/token/", {"username": worker.username, "password": PASSWORD}, format="json"
    )
    assert r.status_code == 403 and "token" not in r.json()


# 8. Defaults, backups, shares, choices.
def test_settings_without_debug_are_production(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    env["BASODARA_VAR_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "basodara.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # With DEBUG unset the image refuses to start with the development keys.
    assert done.returncode != 0 and "SECRET_KEY" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_backup_is_not_readable_by_others_nor_in_clear(tmp_path, client_a):
    from django.core.management import call_command

    os.umask(0o022)
    dump = tmp_path / "b.dump"
    call_command("backup", output=str(dump))
    assert dump.stat().st_mode & 0o077 == 0
    assert client_a.code.encode() not in dump.read_bytes()


def test_share_is_traced_and_revocable(as_user, supervisor, colleague, client_a):
    until = timezone.localdate() + datetime.timedelta(days=5)
    as_user(supervisor).post(
        f"/api/v1/clients/{client_a.pk}/share/", {"user": colleague.pk, "until": str(until)}, format="json"
    )
    assert as_user(supervisor).delete(f"/api/v1/clients/{client_a.pk}/share/{colleague.pk}/").status_code == 204
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/").status_code == 404
    assert AccessLog.objects.filter(client_id=client_a.pk, object_type="cases.client.share").count() == 2


def test_facilitator_and_responder_from_another_site_are_refused(as_user, supervisor, group_a1, site_a, site_b):
    stranger = UserFactory(username="relawan_b", role=Role.VOLUNTEER, site=site_b)
    r = as_user(supervisor).post(
        "/api/v1/meetings/",
        {"support_group": group_a1.pk, "date": str(timezone.localdate()), "topic": "T", "facilitator": stranger.pk},
        format="json",
    )
    assert r.status_code == 400 and "facilitator" in r.json()
    r = as_user(supervisor).post(
        "/api/v1/incidents/",
        {
            "site": site_a.pk,
            "reporter_name": "Ibu Ani",
            "kind": "eviction",
            "urgency": "high",
            "description": "d",
            "responders": [stranger.pk],
        },
        format="json",
    )
    assert r.status_code == 400 and "responders" in r.json()
