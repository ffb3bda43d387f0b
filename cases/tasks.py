"""Thin Celery tasks: ids in, services do the work. No names or health data in arguments.

The registry's task is here; the outbox's, the import's and security's live in their parts
(cases/outbox/tasks.py, cases/importing/tasks.py, cases/security/tasks.py), which
basodara/celery.py discovers, each under the name it always had (cases.tasks.…)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def expire_client_shares():
    """Periodic: remove share grants whose end date has passed (idempotent)."""
    return services.client_shares_expire()
