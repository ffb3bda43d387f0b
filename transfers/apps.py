from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    """Transfers of clients between sites (SPEC §12.3)."""

    name = "transfers"
    verbose_name = _("Transfers")
    default_auto_field = "django.db.models.BigAutoField"
    # Transfers name clients: each one written is in the client's access log (cases.audit).
    access_logged = True

    def seed_demo(self, *, site, today):
        """seed_demo's hook: a second site (Tidore) with its supervisor, and a transfer of a
        Ternate client waiting there; the accounts made."""
        from .demo import seed_transfer

        return seed_transfer(site=site, today=today)

    def ready(self):
        from . import reminders  # noqa: F401 — registers the reminder scan and its message
