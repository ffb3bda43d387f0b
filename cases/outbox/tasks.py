"""The outbox's Celery tasks. Their names are those they had in cases.tasks, so messages queued
before a deploy still run."""

import logging

from celery import shared_task

from . import delivery, engine
from .sms import GatewayError

logger = logging.getLogger(__name__)


@shared_task(name="cases.tasks.run_reminders", acks_late=True)
def run_reminders():
    """Periodic (beat, every 15 minutes): every app's reminder scan, then delivery of what
    is pending, including rows a dead worker or broker left behind."""
    counts = engine.run_all()
    enqueued = delivery.notifications_enqueue_pending()
    logger.info("reminder scan: %s; %d notifications enqueued", {str(k): v for k, v in counts.items()}, len(enqueued))
    return len(enqueued)


@shared_task(
    name="cases.tasks.deliver_notification",
    bind=True,
    acks_late=True,
    autoretry_for=(GatewayError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def deliver_notification(self, notification_id):
    """Deliver one outbox row. Idempotent: a second run of the same id does nothing."""
    return delivery.notification_deliver(notification_id=notification_id)
