"""Delivering the notification outbox.

Rows are claimed with a conditional UPDATE (its row count says who won), the message goes
out outside any transaction, and the row is marked sent only by the worker that still holds
the claim. A worker that dies mid-send leaves a claimed row; once its lease ends the next scan
enqueues it again, and the SMS gateway receives the same idempotency key (the row id), so
the client gets one message. E-mail copies of in-app notifications are sent after the row
is marked sent: at most once, as SPEC §6 asks, at the price of a copy lost if the worker
dies in that instant (the in-app message is there regardless).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases import queue
from cases.models import ClientStatus, Notification, NotificationChannel, NotificationStatus

from . import engine
from .sms import GatewayError, PermanentGatewayError, get_gateway

logger = logging.getLogger(__name__)

# Beyond this many attempts a notification is cancelled rather than retried for ever.
MAX_ATTEMPTS = 20
# The Celery task that delivers one row (cases/tasks.py), published by name.
DELIVER_TASK = "cases.tasks.deliver_notification"


def quiet_hours_end(site, now):
    """The end of the site's quiet hours if `now` falls inside them, else None."""
    local = now.astimezone(site.tzinfo)
    start, end = site.quiet_hours_start, site.quiet_hours_end
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=site.tzinfo)


def client_may_receive_sms(client) -> bool:
    return (
        client.consent_sms
        and bool(client.phone)
        and client.consent_withdrawn_on is None
        and client.status == ClientStatus.ACTIVE
    )


def _release(notification_id, claimed_at, **fields):
    Notification.objects.filter(pk=notification_id, claimed_at=claimed_at).update(claimed_at=None, **fields)


def notification_deliver(*, notification_id, now=None) -> str:
    """Deliver one outbox row; safe to call any number of times. Returns what happened."""
    now = now or timezone.now()
    lease_start = now - timedelta(seconds=settings.NOTIFICATION_CLAIM_LEASE_SECONDS)
    claimed = (
        Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING, deliver_after__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_start))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    notification = Notification.objects.select_related("recipient_user", "recipient_client", "site").get(
        pk=notification_id
    )
    if notification.attempts > MAX_ATTEMPTS:
        # A message that failed this often will not go out; stop handing it to workers.
        _release(notification.pk, now, status=NotificationStatus.CANCELLED, last_error="gave up after many attempts")
        return "cancelled"
    if notification.channel == NotificationChannel.SMS:
        client = notification.recipient_client
        if not client_may_receive_sms(client):
            _release(notification.pk, now, status=NotificationStatus.CANCELLED, last_error="no SMS consent or phone")
            return "cancelled"
        resume_at = quiet_hours_end(notification.site, now)
        if resume_at is not None:
            _release(notification.pk, now, deliver_after=resume_at, enqueued_at=None)
            return "deferred"
    if not engine.recipient_may_be_told(notification):
        gone = "recipient no longer reaches the client"
        _release(notification.pk, now, status=NotificationStatus.CANCELLED, last_error=gone)
        return "cancelled"
    try:
        text = engine.render(notification)
        if notification.channel == NotificationChannel.SMS:
            get_gateway().send(to=notification.recipient_client.phone, text=text, idempotency_key=notification.pk)
    except PermanentGatewayError as e:
        _release(notification.pk, now, status=NotificationStatus.CANCELLED, last_error=str(e)[:200])
        return "cancelled"
    except Exception as e:
        # Release at once (no waiting for the lease) and keep the reason, never the text.
        _release(notification.pk, now, last_error=(str(e) if isinstance(e, GatewayError) else type(e).__name__)[:200])
        raise
    marked = Notification.objects.filter(pk=notification.pk, claimed_at=now).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), text=text, claimed_at=None, last_error=""
    )
    if marked and notification.channel == NotificationChannel.IN_APP and notification.recipient_user.email:
        _send_email_copy(notification, text)
    return "sent" if marked else "lost-claim"


def _send_email_copy(notification, text):
    try:
        send_mail(
            subject=f"BASODARA: {notification.get_kind_display()}",
            message=text,
            from_email=None,
            recipient_list=[notification.recipient_user.email],
        )
    except Exception:  # noqa: BLE001 — the in-app message stands; a mail server outage is logged
        logger.warning("e-mail copy of notification %s failed", notification.pk, exc_info=True)


def notifications_enqueue_pending(*, now=None, limit=5000) -> list:
    """Hand pending rows whose time has come to the workers, after commit.

    Rows enqueued recently or held by a live claim are left alone; anything a dead broker
    or worker dropped is picked up again by a later call.
    """
    now = now or timezone.now()
    requeue_before = now - timedelta(seconds=settings.NOTIFICATION_REQUEUE_SECONDS)
    lease_start = now - timedelta(seconds=settings.NOTIFICATION_CLAIM_LEASE_SECONDS)
    with transaction.atomic():
        ids = list(
            Notification.objects.filter(status=NotificationStatus.PENDING, deliver_after__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_start))
            .order_by("deliver_after", "id")
            # Two scans at once on PostgreSQL take different rows instead of both taking all.
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(enqueued_at=now)

        def publish():
            for position, notification_id in enumerate(ids):
                try:
                    queue.publish(DELIVER_TASK, notification_id)
                except Exception:  # noqa: BLE001 — broker down: the rows wait for the next scan
                    logger.warning("broker unavailable; %d notifications wait for the next scan", len(ids) - position)
                    Notification.objects.filter(pk__in=ids[position:], sent_at__isnull=True).update(enqueued_at=None)
                    return

        transaction.on_commit(publish)
    return ids


def notification_mark_read(*, user, notification) -> Notification:
    Notification.objects.filter(pk=notification.pk, recipient_user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    notification.refresh_from_db(fields=["read_at"])
    return notification
