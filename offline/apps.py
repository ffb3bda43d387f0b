from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfflineConfig(AppConfig):
    """The field app without signal (SPEC §12.6): the installable app (manifest, service
    worker, offline page), the minimal caseload it keeps and its API. What it sends back goes
    through fieldsync's Idempotency-Key."""

    name = "offline"
    verbose_name = _("Offline field app")
    default_auto_field = "django.db.models.BigAutoField"
