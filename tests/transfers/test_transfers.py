"""Transfers between sites (SPEC §12.3): who asks and answers, what moves, who loses the
client, and the reminder to the receiving site's supervisors."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import outbox
from cases.access import clients_visible_to
from cases.models import (
    AccessLog,
    Client,
    ClientGroupObjectPermission,
    ClientUserObjectPermission,
    Notification,
    NotificationKind,
    Role,
)
from cases.services import client_share
from tests.factories import UserFactory
from transfers import services
from transfers.models import Transfer, TransferStatus


def request_one(as_user, supervisor, client, site, **extra):
    body = {"to_site": site.pk, "reason": "Pindah ke Makassar ikut keluarga", **extra}
    return as_user(supervisor).post(f"/api/v1/clients/{client.pk}/transfer/", body, format="json")


# --- asking ----------------------------------------------------------------------------------------


def test_a_supervisor_asks_and_the_receiving_supervisors_are_told_once(
    as_user, supervisor, sharing_client, site_b, outsider_supervisor
):
    r = request_one(as_user, supervisor, sharing_client, site_b)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "requested"
    assert (body["from_site"], body["to_site"], body["requested_by"]) == (
        sharing_client.site_id,
        site_b.pk,
        supervisor.pk,
    )
    assert body["client_code"] == sharing_client.code
    notes = Notification.objects.filter(kind=NotificationKind.TRANSFER_REQUESTED)
    assert list(notes.values_list("recipient_user", flat=True)) == [outsider_supervisor.pk]
    # The scan finds it already told: at most once.
    outbox.run_all()
    assert notes.count() == 1
    text = outbox.render(notes.get())
    assert sharing_client.code in text and sharing_client.site.name in text


def test_a_supervisor_who_joins_later_is_told_by_the_scan(as_user, supervisor, sharing_client, site_b):
    assert request_one(as_user, supervisor, sharing_client, site_b).status_code == 201
    assert not Notification.objects.filter(kind=NotificationKind.TRANSFER_REQUESTED).exists()  # site B has none
    late = UserFactory(username="supervisor_b2", role=Role.SUPERVISOR, site=site_b)
    outbox.run_all()
    outbox.run_all()
    assert list(
        Notification.objects.filter(kind=NotificationKind.TRANSFER_REQUESTED).values_list("recipient_user", flat=True)
    ) == [late.pk]


def test_without_consent_only_the_clients_own_request(as_user, supervisor, client_a, site_b):
    assert not client_a.consent_share
    r = request_one(as_user, supervisor, client_a, site_b)
    assert r.status_code == 400 and "client_requested" in r.json()
    r = request_one(as_user, supervisor, client_a, site_b, client_requested=True)
    assert r.status_code == 201, r.content
    assert r.json()["client_requested"] is True


def test_one_open_request_per_client(as_user, supervisor, sharing_client, site_b):
    assert request_one(as_user, supervisor, sharing_client, site_b).status_code == 201
    r = request_one(as_user, supervisor, sharing_client, site_b)
    assert r.status_code == 400 and "client" in r.json()
    # The database says so too, whatever races past the check.
    transfer = Transfer.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            client=sharing_client,
            from_site=transfer.from_site,
            to_site=site_b,
            reason="x",
            requested_by=supervisor,
        )


def test_bad_requests_answer_400_naming_the_field(as_user, supervisor, sharing_client, site_a, site_b):
    r = request_one(as_user, supervisor, sharing_client, site_a)
    assert r.status_code == 400 and "to_site" in r.json()
    r = request_one(as_user, supervisor, sharing_client, site_b, reason="  ")
    assert r.status_code == 400 and "reason" in r.json()
    r = as_user(supervisor).post(f"/api/v1/clients/{sharing_client.pk}/transfer/", {}, format="json")
    assert r.status_code == 400 and {"to_site", "reason"} <= set(r.json())
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    "who, status",
    [
        ("worker", 403),
        ("volunteer", 403),
        ("colleague", 404),
        ("facility_staff", 404),
        ("outsider_supervisor", 404),
        ("admin_user", 201),
    ],
)
def test_who_may_ask(request, as_user, sharing_client, site_b, admin_user, who, status):
    user = request.getfixturevalue(who)
    assert request_one(as_user, user, sharing_client, site_b).status_code == status


# --- answering ----------------------------------------------------------------------------------------


def test_accepting_moves_the_client_and_the_old_site_loses_it_at_once(
    as_user,
    requested,
    sharing_client,
    supervisor,
    worker,
    volunteer,
    colleague,
    outsider_supervisor,
    worker_b,
    site_b,
):
    code = sharing_client.code
    for user in (supervisor, worker, volunteer):
        assert clients_visible_to(user).filter(pk=sharing_client.pk).exists()
    r = as_user(outsider_supervisor).post(
        f"/api/v1/transfers/{requested.pk}/accept/", {"assigned_social_worker": worker_b.pk}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "accepted" and r.json()["accepted_on"]
    client = Client.objects.get(pk=sharing_client.pk)
    assert (client.site_id, client.code) == (site_b.pk, code)
    assert (client.assigned_social_worker_id, client.companion_id) == (worker_b.pk, None)
    assert not client.support_groups.exists()
    assert not ClientGroupObjectPermission.objects.filter(content_object=client).exists()
    assert set(ClientUserObjectPermission.objects.filter(content_object=client).values_list("user", flat=True)) == {
        worker_b.pk
    }
    for user in (supervisor, worker, volunteer):
        assert not clients_visible_to(user).filter(pk=client.pk).exists(), user
        assert as_user(user).get(f"/api/v1/clients/{client.pk}/").status_code == 404
    for user in (outsider_supervisor, worker_b):
        assert as_user(user).get(f"/api/v1/clients/{client.pk}/").status_code == 200
    # The history came along: the new site reads the client's records.
    assert as_user(worker_b).get(f"/api/v1/clients/{client.pk}/timeline/").status_code == 200
    # Written in the access log: the client's move and the transfer's answer.
    moved = AccessLog.objects.filter(client_id=client.pk, object_type="cases.client", action="update")
    assert any({"site", "assigned_social_worker", "companion"} <= set(e.fields) for e in moved)
    assert AccessLog.objects.filter(client_id=client.pk, object_type="transfers.transfer", action="update").exists()


def test_shares_and_emergency_access_of_the_old_site_end_with_the_move(
    requested, sharing_client, supervisor, colleague, outsider_supervisor
):
    client_share(
        actor=supervisor,
        client=sharing_client,
        user=colleague,
        until=timezone.localdate(timezone=sharing_client.site.tzinfo) + datetime.timedelta(days=5),
    )
    assert clients_visible_to(colleague).filter(pk=sharing_client.pk).exists()
    services.transfer_accept(actor=outsider_supervisor, transfer=requested)
    assert not clients_visible_to(colleague).filter(pk=sharing_client.pk).exists()
    assert not ClientUserObjectPermission.objects.filter(content_object=sharing_client).exists()
    assert AccessLog.objects.filter(client_id=sharing_client.pk, reason="transferred", action="delete").exists()


def test_a_worker_of_another_site_is_refused(as_user, requested, outsider_supervisor, worker, admin_user):
    r = as_user(outsider_supervisor).post(
        f"/api/v1/transfers/{requested.pk}/accept/", {"assigned_social_worker": worker.pk}, format="json"
    )
    assert r.status_code == 400 and "assigned_social_worker" in r.json()
    # An admin may name anyone active, but the service wants the receiving site's.
    r = as_user(admin_user).post(
        f"/api/v1/transfers/{requested.pk}/accept/", {"assigned_social_worker": worker.pk}, format="json"
    )
    assert r.status_code == 400 and "assigned_social_worker" in r.json()
    requested.refresh_from_db()
    assert requested.status == TransferStatus.REQUESTED


def test_decline_needs_a_reason_and_leaves_the_client_where_it_is(
    as_user, requested, outsider_supervisor, sharing_client, supervisor
):
    api = as_user(outsider_supervisor)
    r = api.post(f"/api/v1/transfers/{requested.pk}/decline/", {"reason": ""}, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    r = api.post(f"/api/v1/transfers/{requested.pk}/decline/", {"reason": "Tidak ada pekerja sosial"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert r.json()["decline_reason"] == "Tidak ada pekerja sosial"
    assert Client.objects.get(pk=sharing_client.pk).site_id == supervisor.site_id
    # Answered once: a second answer is a conflict, and a new request may be made.
    assert api.post(f"/api/v1/transfers/{requested.pk}/accept/", {}, format="json").status_code == 409
    assert request_one(as_user, supervisor, sharing_client, outsider_supervisor.site).status_code == 201


@pytest.mark.parametrize(
    "who, status",
    [("supervisor", 403), ("worker", 404), ("volunteer", 404), ("facility_staff", 404), ("colleague", 404)],
)
def test_only_the_receiving_side_answers(request, as_user, requested, who, status):
    user = request.getfixturevalue(who)
    for verb, body in (("accept", {}), ("decline", {"reason": "r"})):
        assert (
            as_user(user).post(f"/api/v1/transfers/{requested.pk}/{verb}/", body, format="json").status_code == status
        )
    requested.refresh_from_db()
    assert requested.status == TransferStatus.REQUESTED


def test_transfer_lists(
    as_user, requested, supervisor, outsider_supervisor, admin_user, worker, django_assert_max_num_queries
):
    for user in (supervisor, outsider_supervisor, admin_user):
        with django_assert_max_num_queries(5):  # count, page (with its client), the read log
            r = as_user(user).get("/api/v1/transfers/")
        assert [row["id"] for row in r.json()["results"]] == [requested.pk], user
    assert as_user(worker).get("/api/v1/transfers/").json()["results"] == []
    assert as_user(supervisor).get("/api/v1/transfers/?box=incoming").json()["results"] == []
    assert len(as_user(outsider_supervisor).get("/api/v1/transfers/?box=incoming").json()["results"]) == 1
    assert as_user(worker).get(f"/api/v1/transfers/{requested.pk}/").status_code == 404
    before = AccessLog.objects.filter(client_id=requested.client_id, object_type="cases.client.transfer").count()
    as_user(outsider_supervisor).get(f"/api/v1/transfers/{requested.pk}/")
    assert AccessLog.objects.filter(client_id=requested.client_id, object_type="cases.client.transfer").count() > before


def test_patch_of_site_names_the_transfer_action(as_user, supervisor, admin_user, client_a, site_b):
    for user in (supervisor, admin_user):
        r = as_user(user).patch(f"/api/v1/clients/{client_a.pk}/", {"site": site_b.pk}, format="json")
        assert r.status_code == 400 and "site" in r.json()
        assert "clients/{id}/transfer/" in str(r.json()["site"])
    assert Client.objects.get(pk=client_a.pk).site_id == supervisor.site_id


def test_the_timeline_shows_the_transfer(
    as_user, page_as, requested, outsider_supervisor, worker_b, supervisor, site_b
):
    before = as_user(supervisor).get(f"/api/v1/clients/{requested.client_id}/timeline/").json()["results"]
    assert [e for e in before if e["type"] == "transfer"][0]["status"] == "requested"
    services.transfer_accept(actor=outsider_supervisor, transfer=requested, assigned_social_worker=worker_b)
    events = as_user(worker_b).get(f"/api/v1/clients/{requested.client_id}/timeline/").json()["results"]
    (event,) = [e for e in events if e["type"] == "transfer"]
    assert (event["status"], event["from_site_code"], event["to_site_code"]) == (
        "accepted",
        supervisor.site.code,
        site_b.code,
    )
    assert event["accepted_on"] and event["reason"] == "Pindah ke Makassar"
    page = page_as(worker_b).get(f"/clients/{requested.client_id}/")
    assert page.status_code == 200 and f"{supervisor.site.code} → {site_b.code}" in page.content.decode()
