"""Handing work to the Celery workers by the task's registered name.

Tasks are thin (cases/tasks.py, cases/outbox/tasks.py, cases/importing/tasks.py,
cases/security/tasks.py and each app's tasks.py): they import the services they run.
A service that hands work on (deliver a notification, run an import) publishes the task by
its name instead of importing it, so the two never import each other. The registered task
is used when the app knows it (so `CELERY_TASK_ALWAYS_EAGER` and its options hold), the
broker otherwise; a broker that is down raises, and the caller decides what waits.
"""

from celery import current_app


def publish(task_name, *args):
    """Queue `task_name(*args)` (ids only: no names or health data in a task's arguments)."""
    return current_app.signature(task_name, args=args).apply_async()
