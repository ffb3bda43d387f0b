"""An action's owner who no longer reads the client hears nothing of it (issue 17, defect 1):
the scan sends to readers only, a message queued before the change is cancelled at delivery,
and a change of the client's people hands the open actions to its social worker."""

import datetime

import pytest

from cases import outbox
from cases import services as case_services
from cases.models import AccessAction, AccessLog, Notification, NotificationKind, NotificationStatus
from cases.outbox.delivery import notification_deliver
from casework.models import Action

pytestmark = pytest.mark.django_db


def _action_due_to():
    return list(
        Notification.objects.filter(kind=NotificationKind.ACTION_DUE).values_list("recipient_user__username", flat=True)
    )


def test_a_volunteer_out_of_the_group_is_not_told_of_the_action(action_a, volunteer, supervisor):
    # The volunteer leaves the client's group (their account changes, not the client).
    case_services.user_update(actor=supervisor, user=volunteer, support_groups=[])
    case_services.client_update(actor=supervisor, client=action_a.client, companion=None)
    Action.objects.filter(pk=action_a.pk).update(owner=volunteer)  # as if nobody could take it over
    outbox.run_all(today=action_a.due_date)
    assert _action_due_to() == []


def test_a_message_queued_before_the_change_is_not_delivered(action_a, volunteer, supervisor):
    outbox.run_all(today=action_a.due_date)
    notification = Notification.objects.get(kind=NotificationKind.ACTION_DUE)
    assert notification.recipient_user == volunteer
    case_services.user_update(actor=supervisor, user=volunteer, support_groups=[])
    case_services.client_update(actor=supervisor, client=action_a.client, companion=None)
    assert notification_deliver(notification_id=notification.pk) == "cancelled"
    notification.refresh_from_db()
    assert (notification.status, notification.text) == (NotificationStatus.CANCELLED, "")
    assert notification.last_error == "recipient no longer reaches the client"


def test_a_reader_still_gets_the_message(action_a, volunteer):
    outbox.run_all(today=action_a.due_date)
    notification = Notification.objects.get(kind=NotificationKind.ACTION_DUE)
    assert notification_deliver(notification_id=notification.pk) == "sent"


def test_the_clients_groups_changed_hand_the_action_to_its_social_worker(
    action_a, volunteer, worker, supervisor, group_a2
):
    case_services.client_update(actor=supervisor, client=action_a.client, support_groups=[group_a2], companion=None)
    action_a.refresh_from_db()
    assert (action_a.owner, action_a.version) == (worker, 2)
    entry = AccessLog.objects.get(action=AccessAction.UPDATE, object_type="casework.action")
    assert (entry.object_id, entry.client_id, entry.fields) == (str(action_a.pk), action_a.client_id, ["owner"])
    outbox.run_all(today=action_a.due_date + datetime.timedelta(days=1))
    assert _action_due_to() == [worker.username]


def test_an_owner_who_still_reads_the_client_keeps_the_action(action_a, volunteer, supervisor, group_a2, group_a1):
    case_services.client_update(actor=supervisor, client=action_a.client, support_groups=[group_a1, group_a2])
    action_a.refresh_from_db()
    assert action_a.owner == volunteer
