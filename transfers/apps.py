from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    """Transfers of clients between sites (SPEC §12.3)."""

    name = "transfers"
    verbose_name = _("Transfers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cases import audit

        from . import reminders  # noqa: F401 — registers the reminder scan and its message

        # Transfers name clients: each one written is in the client's access log.
        audit.LOGGED_APPS.add(self.label)
