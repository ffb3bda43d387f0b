import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basodara.settings")

app = Celery("basodara")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# cases/ keeps its tasks beside what they run (cases/tasks.py names them all).
app.autodiscover_tasks(["cases.outbox", "cases.importing", "cases.security"])
