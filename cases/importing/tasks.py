"""The client import's Celery tasks (names as they were in cases.tasks, so queued ones still run)."""

import logging

from celery import shared_task

from .workflow import ImportProgress, client_import_run, client_imports_expire

logger = logging.getLogger(__name__)


@shared_task(name="cases.tasks.expire_client_imports", acks_late=True)
def expire_client_imports():
    """Periodic: wipe the files of client imports nobody finished within a day (they hold
    client data). Idempotent."""
    return client_imports_expire()


# A file of 5000 clients takes minutes to register; the hard limit stays below the
# import's lease (importing.workflow.RUNNING_LEASE) and Redis's visibility timeout.
@shared_task(name="cases.tasks.run_client_import", acks_late=True, soft_time_limit=15 * 60, time_limit=16 * 60)
def run_client_import(import_id):
    """Check and commit one uploaded client list, all or nothing. Idempotent: a second
    delivery of a finished or running import does nothing."""
    with ImportProgress(import_id) as progress:
        client_import = client_import_run(import_id=import_id, progress=progress)
    if client_import is not None:
        logger.info("client import %s: %s, %d created", import_id, client_import.status, client_import.created_count)
