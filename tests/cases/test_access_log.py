"""The access log: every read of a client and every write, append-only."""

import datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import timezone

from cases import audit
from cases.models import AccessLog, Client


def entries(client):
    return list(
        AccessLog.objects.filter(client_id=client.pk)
        .order_by("id")
        .values_list("action", "object_type", "fields", "user__username")
    )


def test_detail_and_timeline_reads_are_logged_with_address(as_user, worker, client_a):
    AccessLog.objects.all()  # registration by the fixture already logged the create
    before = AccessLog.objects.count()
    api = as_user(worker)
    api.get(f"/api/v1/clients/{client_a.pk}/", REMOTE_ADDR="10.1.2.3")
    api.get(f"/api/v1/clients/{client_a.pk}/timeline/")
    new = AccessLog.objects.order_by("id")[before:]
    assert [(e.action, e.object_type, e.user, e.ip) for e in new] == [
        ("read", "cases.client.detail", worker, "10.1.2.3"),
        ("read", "cases.client.timeline", worker, "127.0.0.1"),
    ]


def test_a_refused_read_is_not_a_read(as_user, colleague, client_a):
    before = AccessLog.objects.count()
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/").status_code == 404
    assert AccessLog.objects.count() == before


def test_writes_name_the_fields_not_the_values(as_user, worker, client_a, facility_a):
    api = as_user(worker)
    api.patch(f"/api/v1/clients/{client_a.pk}/", {"phone": "+6281277778888", "nickname": "Ti"}, format="json")
    api.post(
        "/api/v1/refills/",
        {
            "client": client_a.pk,
            "facility": facility_a.pk,
            "pickup_date": str(timezone.localdate()),
            "days_supplied": 30,
        },
        format="json",
    )
    log = entries(client_a)
    assert ("update", "cases.client", ["nickname", "phone"], "worker_a") in log
    assert ("create", "cases.refill", [], "worker_a") in log
    # The refill moved the client's due date: that write is logged as well.
    assert ("update", "cases.client", ["last_refill", "next_refill_due"], "worker_a") in log
    assert "+6281277778888" not in str(list(AccessLog.objects.values()))


def test_every_kind_of_write_in_every_app_is_logged(as_user, worker, volunteer, group_a1, client_a, site_a):
    api = as_user(worker)
    api.post(
        "/api/v1/visits/",
        {
            "client": client_a.pk,
            "kind": "home_visit",
            "visited_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    api.post(
        "/api/v1/services/",
        {"client": client_a.pk, "service": "counselling", "date": str(timezone.localdate())},
        format="json",
    )
    api.post(
        "/api/v1/incidents/",
        {"kind": "other", "urgency": "normal", "description": "x", "client": client_a.pk},
        format="json",
    )
    types = {t for _a, t, _f, _u in entries(client_a)}
    assert {"cases.client", "outreach.homevisit", "outreach.servicerecord", "outreach.incident"} <= types


def test_m2m_changes_are_logged(as_user, worker, client_a, group_a2):
    as_user(worker).patch(f"/api/v1/clients/{client_a.pk}/", {"support_groups": [group_a2.pk]}, format="json")
    assert ("update", "cases.client", ["support_groups"], "worker_a") in entries(client_a)


ACCESS_LOG = {
    "admin_user": 200,
    "supervisor": 200,
    "worker": 403,
    "volunteer": 403,
    "colleague": 404,
    "other_volunteer": 404,
    "facility_staff": 404,
    "outsider_supervisor": 404,
}


@pytest.mark.parametrize("who", list(ACCESS_LOG))
def test_access_log_endpoint(
    request, as_user, client_a, colleague, other_volunteer, facility_staff, outsider_supervisor, admin_user, who
):
    r = as_user(request.getfixturevalue(who)).get(f"/api/v1/clients/{client_a.pk}/access-log/")
    assert r.status_code == ACCESS_LOG[who]
    if r.status_code == 200:
        row = r.json()["results"][-1]
        assert set(row) == {
            "at",
            "user",
            "username",
            "action",
            "object_type",
            "object_id",
            "client",
            "fields",
            "ip",
            "reason",
        }
        assert row["action"] == "create" and row["object_type"] == "cases.client"


def test_entries_cannot_be_changed_or_deleted(client_a):
    entry = AccessLog.objects.filter(client_id=client_a.pk).first()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=entry.pk).delete()


@pytest.mark.postgres
def test_database_refuses_changes_to_entries(client_a):
    entry = AccessLog.objects.filter(client_id=client_a.pk).first()
    for sql in ("UPDATE cases_accesslog SET reason = 'x' WHERE id = %s", "DELETE FROM cases_accesslog WHERE id = %s"):
        with pytest.raises((InternalError, IntegrityError, Exception)) as raised:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])
        assert "append-only" in str(raised.value)


def test_admin_offers_no_change_or_delete(client, admin_user, client_a):
    from tests.factories import PASSWORD

    assert client.login(username=admin_user.username, password=PASSWORD)
    r = client.get("/admin/cases/accesslog/")
    assert r.status_code == 200 and b'value="delete_selected"' not in r.content
    entry = AccessLog.objects.first()
    assert client.post(f"/admin/cases/accesslog/{entry.pk}/delete/", {"post": "yes"}).status_code == 403


def test_every_app_whose_records_name_a_client_is_logged():
    """Apps say themselves that their records are logged (AppConfig.access_logged, so that
    cases/audit.py names no app above it): none whose models point at a client may forget."""
    forgot = sorted(
        model._meta.label
        for model in apps.get_models()
        if any(getattr(f, "related_model", None) is Client for f in model._meta.get_fields() if f.concrete)
        and model._meta.label_lower not in audit.UNLOGGED_MODELS
        and not getattr(apps.get_app_config(model._meta.app_label), "access_logged", False)
    )
    assert not forgot, f"models naming a client whose app is not access_logged: {forgot}"
    assert apps.get_app_config("outreach").access_logged  # the rule reads what apps declare
