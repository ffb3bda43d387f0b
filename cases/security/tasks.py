"""Security's Celery task (its name as it was in cases.tasks)."""

from celery import shared_task

from . import tokens


@shared_task(name="cases.tasks.expire_api_tokens", acks_late=True)
def expire_api_tokens():
    """Periodic: delete API tokens past their expiry (already refused). Idempotent."""
    return tokens.expire_tokens()
