from celery import shared_task

from . import services


@shared_task(acks_late=True)
def purge_idempotency_keys():
    """Periodic (daily): forget keys older than IDEMPOTENCY_KEY_DAYS (idempotent)."""
    return services.purge_idempotency_keys()
