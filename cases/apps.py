from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Clients and organisation")
    default_auto_field = "django.db.models.BigAutoField"
    # Every change to its records is in the access log (cases.audit).
    access_logged = True

    def ready(self):
        from . import outbox
        from .arv import reminders as arv_reminders
        from .models import Refill
        from .security import tokens
        from .services import registry

        tokens.connect()
        outbox.register_scan(arv_reminders.scan_refills)
        outbox.register_renderer(arv_reminders.REFILL, arv_reminders.render_refill, client=(Refill, "client_id"))
        outbox.register_renderer(registry.BREAK_GLASS_SUBJECT, registry.render_break_glass)
