"""Shares leave a lasting trace, can be revoked, and last 90 days at most (SPEC §12.5)."""

import datetime

from django.utils import timezone

from cases import services
from cases.models import AccessLog, ClientUserObjectPermission


def share_entries(client):
    return list(
        AccessLog.objects.filter(client_id=client.pk, object_type="cases.client.share")
        .order_by("id")
        .values_list("action", "object_id", "reason", "user__username")
    )


def _share(as_user, supervisor, client, user, days=7, **extra):
    until = timezone.localdate() + datetime.timedelta(days=days)
    return as_user(supervisor).post(
        f"/api/v1/clients/{client.pk}/share/", {"user": user.pk, "until": str(until), **extra}, format="json"
    )


def test_a_share_is_logged_when_made_and_revoked(as_user, supervisor, colleague, client_a):
    assert _share(as_user, supervisor, client_a, colleague).status_code == 201
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/").status_code == 200
    r = as_user(supervisor).delete(f"/api/v1/clients/{client_a.pk}/share/{colleague.pk}/")
    assert r.status_code == 204
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/").status_code == 404
    log = share_entries(client_a)
    assert log[0][:2] == ("create", str(colleague.pk)) and log[0][2].startswith("until ")
    assert log[1] == ("delete", str(colleague.pk), "revoked", "supervisor_a")


def test_revoking_what_was_not_shared_is_404(as_user, supervisor, worker, colleague, client_a):
    # The assigned worker's grant is no share: revoking it through here is "not found".
    assert as_user(supervisor).delete(f"/api/v1/clients/{client_a.pk}/share/{worker.pk}/").status_code == 404
    assert as_user(supervisor).delete(f"/api/v1/clients/{client_a.pk}/share/{colleague.pk}/").status_code == 404
    assert as_user(worker).get(f"/api/v1/clients/{client_a.pk}/").status_code == 200


def test_only_supervisors_of_the_site_revoke(as_user, supervisor, worker, colleague, outsider_supervisor, client_a):
    _share(as_user, supervisor, client_a, colleague)
    assert as_user(worker).delete(f"/api/v1/clients/{client_a.pk}/share/{colleague.pk}/").status_code == 403
    assert (
        as_user(outsider_supervisor).delete(f"/api/v1/clients/{client_a.pk}/share/{colleague.pk}/").status_code == 404
    )
    assert ClientUserObjectPermission.objects.filter(user=colleague, kind="share").exists()


def test_an_expired_share_is_logged_when_it_goes(as_user, supervisor, colleague, client_a):
    _share(as_user, supervisor, client_a, colleague, can_edit=True)
    ClientUserObjectPermission.objects.filter(kind="share").update(expires_at=timezone.now() - datetime.timedelta(1))
    services.client_shares_expire()
    assert share_entries(client_a)[-1] == ("delete", str(colleague.pk), "expired", None)
    assert len(share_entries(client_a)) == 2  # one entry per share, not per permission


def test_a_share_lasts_90_days_at_most(as_user, supervisor, colleague, client_a):
    assert _share(as_user, supervisor, client_a, colleague, days=90).status_code == 201
    r = _share(as_user, supervisor, client_a, colleague, days=91)
    assert r.status_code == 400 and "until" in r.json()
