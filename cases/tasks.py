from celery import shared_task

from . import services


@shared_task(acks_late=True)
def expire_client_shares():
    """Periodic: remove share grants whose end date has passed (idempotent)."""
    return services.client_shares_expire()
