"""Celery tasks keep the names they were queued under (cases.tasks.…) wherever their code lives
(cases/outbox, cases/importing, cases/security): a message queued before a deploy, and every
beat entry, names a task the worker knows."""

from django.conf import settings

from basodara.celery import app
from cases.outbox import delivery

QUEUED_NAMES = {
    "cases.tasks.run_reminders",
    "cases.tasks.deliver_notification",
    "cases.tasks.expire_client_shares",
    "cases.tasks.expire_client_imports",
    "cases.tasks.run_client_import",
    "cases.tasks.expire_api_tokens",
}


def test_every_task_name_is_registered_as_the_worker_loads_them():
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert QUEUED_NAMES <= set(app.tasks)
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry
    assert delivery.DELIVER_TASK in app.tasks
