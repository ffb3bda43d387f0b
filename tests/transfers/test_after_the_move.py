"""What the old site held of a moved client goes back or stops (issue 17, defects 1, 3, 4):
an open tracing it had claimed is free for the new site, open plan actions go to the new
social worker, messages queued to the old site's people are not delivered, and a client who
died, whose case closed or who withdrew consent while the request waited does not move."""

import pytest
from django.utils import timezone

from cases import outbox
from cases import services as case_services
from cases.arv import services as arv_services
from cases.exceptions import Conflict
from cases.models import AccessLog, Client, ClientStatus, Notification, NotificationKind, NotificationStatus, Tracing
from cases.outbox.delivery import notification_deliver
from casework import services as casework_services
from casework.models import Action
from tests.factories import lapse
from transfers import services
from transfers.models import Transfer, TransferStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def late(sharing_client, worker, facility_a):
    """client_a, 40 days past a 30-day refill: a tracing open and claimed by its worker, and
    the refill reminders queued to the old site's people."""
    tracing = lapse(sharing_client, actor=worker, facility=facility_a)
    arv_services.tracing_claim(actor=worker, tracing=tracing)
    return tracing


def test_an_open_tracing_claimed_at_the_old_site_is_free_for_the_new_one(
    as_user, late, requested, outsider_supervisor, worker_b
):
    services.transfer_accept(actor=outsider_supervisor, transfer=requested, assigned_social_worker=worker_b)
    late.refresh_from_db()
    assert (late.claimed_by, late.claimed_at) == (None, None)
    # Claimed, then released by the move: two updates of the claim in the client's access log.
    updates = AccessLog.objects.filter(object_type="cases.tracing", object_id=str(late.pk), action="update")
    assert [sorted(e.fields) for e in updates] == [["claimed_at", "claimed_by"]] * 2
    r = as_user(worker_b).post(f"/api/v1/tracing/{late.pk}/claim/")
    assert r.status_code == 200, r.content
    assert Tracing.objects.get(pk=late.pk).claimed_by == worker_b


def test_messages_queued_to_the_old_site_are_not_delivered(late, requested, outsider_supervisor, worker_b, worker):
    queued = Notification.objects.filter(recipient_user=worker, status=NotificationStatus.PENDING)
    assert queued.exists()
    services.transfer_accept(actor=outsider_supervisor, transfer=requested, assigned_social_worker=worker_b)
    for notification in queued:
        assert notification_deliver(notification_id=notification.pk) == "cancelled"
    assert not Notification.objects.filter(recipient_user=worker, status=NotificationStatus.SENT).exists()


def test_open_plan_actions_go_to_the_new_social_worker(
    requested, sharing_client, worker, volunteer, outsider_supervisor, worker_b
):
    plan = casework_services.plan_create(actor=worker, client=sharing_client)
    goal = casework_services.goal_create(actor=worker, plan=plan, domain="housing", description="Cari kontrakan")
    today = timezone.localdate(timezone=sharing_client.site.tzinfo)
    action = casework_services.action_create(
        actor=worker, goal=goal, description="Kunjungi rumah baru", owner=volunteer, due_date=today
    )
    services.transfer_accept(actor=outsider_supervisor, transfer=requested, assigned_social_worker=worker_b)
    assert Action.objects.get(pk=action.pk).owner == worker_b
    outbox.run_all(today=today)
    told = Notification.objects.filter(kind=NotificationKind.ACTION_DUE).values_list("recipient_user", flat=True)
    assert list(told) == [worker_b.pk]


def test_accepted_without_a_worker_the_actions_go_to_the_accepting_supervisor(
    requested, sharing_client, worker, outsider_supervisor
):
    plan = casework_services.plan_create(actor=worker, client=sharing_client)
    goal = casework_services.goal_create(actor=worker, plan=plan, domain="housing", description="Cari kontrakan")
    action = casework_services.action_create(
        actor=worker, goal=goal, description="Kunjungi rumah baru", owner=worker, due_date=plan.started_on
    )
    services.transfer_accept(actor=outsider_supervisor, transfer=requested)
    assert Action.objects.get(pk=action.pk).owner == outsider_supervisor


def _died(client, actor):
    case_services.client_status_change(
        actor=actor, client=client, status=ClientStatus.DECEASED, effective_date=client.consent_date, reason="Wafat"
    )


def _closed(client, actor):
    casework_services.client_close(
        actor=actor, client=client, reason="goals_met", closed_on=timezone.localdate(timezone=client.site.tzinfo)
    )


def _withdrew(client, actor):
    case_services.client_update(actor=actor, client=client, consent_withdrawn_on=client.consent_date)


@pytest.mark.parametrize("change", [_died, _closed, _withdrew], ids=["deceased", "closed", "consent withdrawn"])
def test_acceptance_rechecks_the_client(as_user, change, requested, sharing_client, supervisor, outsider_supervisor):
    change(Client.objects.get(pk=sharing_client.pk), supervisor)
    r = as_user(outsider_supervisor).post(f"/api/v1/transfers/{requested.pk}/accept/", {}, format="json")
    assert r.status_code == 409, r.content
    assert r.json()["detail"]
    assert Client.objects.get(pk=sharing_client.pk).site_id == sharing_client.site_id
    assert Transfer.objects.get(pk=requested.pk).status == TransferStatus.REQUESTED
    with pytest.raises(Conflict):
        services.transfer_accept(actor=outsider_supervisor, transfer=requested)
    # It can still be declined.
    services.transfer_decline(actor=outsider_supervisor, transfer=requested, reason="Klien tidak bisa pindah")


def test_a_client_who_asked_moves_without_consent_to_share(as_user, supervisor, client_a, site_b, outsider_supervisor):
    transfer = services.transfer_request(
        actor=supervisor, client=client_a, to_site=site_b, reason="Pindah", client_requested=True
    )
    assert services.transfer_accept(actor=outsider_supervisor, transfer=transfer).status == TransferStatus.ACCEPTED
