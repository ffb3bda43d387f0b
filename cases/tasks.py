"""Thin Celery tasks: ids in, services do the work. No names or health data in arguments."""

import logging

from celery import shared_task

from . import reminders, services
from .sms import GatewayError

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_reminders():
    """Periodic (beat, every 15 minutes): every app's reminder scan, then delivery of what
    is pending, including rows a dead worker or broker left behind."""
    counts = reminders.run_all()
    enqueued = services.notifications_enqueue_pending()
    logger.info("reminder scan: %s; %d notifications enqueued", {str(k): v for k, v in counts.items()}, len(enqueued))
    return len(enqueued)


@shared_task(
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
    return services.notification_deliver(notification_id=notification_id)


@shared_task(acks_late=True)
def expire_client_shares():
    """Periodic: remove share grants whose end date has passed (idempotent)."""
    return services.client_shares_expire()
