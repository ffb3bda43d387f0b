"""Thin Celery tasks: ids in, services do the work. No names or health data in arguments."""

import logging

from celery import shared_task

from . import importing, reminders, services, tokens
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


@shared_task(acks_late=True)
def expire_client_imports():
    """Periodic: wipe the files of client imports nobody finished within a day (they hold
    client data). Idempotent."""
    return importing.client_imports_expire()


# A file of 5000 clients takes minutes to register; the hard limit stays below the
# import's lease (importing.workflow.RUNNING_LEASE) and Redis's visibility timeout.
@shared_task(acks_late=True, soft_time_limit=15 * 60, time_limit=16 * 60)
def run_client_import(import_id):
    """Check and commit one uploaded client list, all or nothing. Idempotent: a second
    delivery of a finished or running import does nothing."""
    with importing.ImportProgress(import_id) as progress:
        client_import = importing.client_import_run(import_id=import_id, progress=progress)
    if client_import is not None:
        logger.info("client import %s: %s, %d created", import_id, client_import.status, client_import.created_count)


@shared_task(acks_late=True)
def expire_api_tokens():
    """Periodic: delete API tokens past their expiry (already refused). Idempotent."""
    return tokens.expire_tokens()
