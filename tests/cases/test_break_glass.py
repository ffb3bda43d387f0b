"""Break-glass (SPEC §7): emergency access for 24 hours, logged and shown to supervisors."""

import datetime

import pytest
from django.utils import timezone

from cases import services
from cases.models import AccessLog, ClientUserObjectPermission, Notification
from cases.outbox import delivery

REASON = "Klien dibawa ke IGD, keluarga minta bantuan malam ini"


def open_glass(as_user, user, client, reason=REASON):
    return as_user(user).post(f"/api/v1/clients/{client.pk}/break-glass/", {"reason": reason}, format="json")


def test_colleague_opens_a_client_for_24_hours(as_user, colleague, client_a, supervisor):
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/").status_code == 404
    r = open_glass(as_user, colleague, client_a)
    assert r.status_code == 201, r.content
    expires = datetime.datetime.fromisoformat(r.json()["expires_at"])
    assert datetime.timedelta(hours=23, minutes=59) < expires - timezone.now() <= datetime.timedelta(hours=24)
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/").status_code == 200
    # Read only.
    assert (
        as_user(colleague).patch(f"/api/v1/clients/{client_a.pk}/", {"nickname": "x"}, format="json").status_code == 403
    )
    entry = AccessLog.objects.get(action="break_glass")
    assert (entry.user, entry.client_id, entry.reason) == (colleague, client_a.pk, REASON)
    notice = Notification.objects.get(kind="break_glass")
    assert notice.recipient_user == supervisor and notice.subject_id == entry.pk
    delivery.notification_deliver(notification_id=notice.pk)
    notice.refresh_from_db()
    assert client_a.code in notice.text and REASON in notice.text


def test_access_ends_after_24_hours(as_user, colleague, client_a):
    open_glass(as_user, colleague, client_a)
    ClientUserObjectPermission.objects.filter(kind="break_glass").update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/").status_code == 404
    assert services.client_shares_expire() == 1


def test_each_opening_is_a_separate_notice(as_user, colleague, client_a):
    open_glass(as_user, colleague, client_a)
    ClientUserObjectPermission.objects.filter(kind="break_glass").update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert open_glass(as_user, colleague, client_a).status_code == 201
    assert Notification.objects.filter(kind="break_glass").count() == 2


@pytest.mark.parametrize(
    "who, status",
    [
        ("worker", 400),  # already has access
        ("supervisor", 400),  # the whole site is in reach already
        ("volunteer", 404),
        ("other_volunteer", 404),
        ("facility_staff", 404),
        ("outsider_supervisor", 404),
        ("outsider_worker", 404),
        ("admin_user", 404),
    ],
)
def test_who_may_break_glass(request, as_user, client_a, who, status):
    assert open_glass(as_user, request.getfixturevalue(who), client_a).status_code == status


def test_a_reason_is_required(as_user, colleague, client_a):
    r = open_glass(as_user, colleague, client_a, reason="ok")
    assert r.status_code == 400 and "reason" in r.json()
    assert as_user(colleague).post(f"/api/v1/clients/{client_a.pk}/break-glass/", {}, format="json").status_code == 400
    assert not AccessLog.objects.filter(action="break_glass").exists()


def test_supervisors_review_their_sites_openings(as_user, colleague, client_a, supervisor, outsider_supervisor, worker):
    open_glass(as_user, colleague, client_a)
    rows = as_user(supervisor).get("/api/v1/break-glass/").json()["results"]
    assert [(r["username"], r["client"], r["reason"]) for r in rows] == [(colleague.username, client_a.pk, REASON)]
    assert as_user(outsider_supervisor).get("/api/v1/break-glass/").json()["count"] == 0
    assert as_user(worker).get("/api/v1/break-glass/").json()["count"] == 0
