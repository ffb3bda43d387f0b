from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    """Home visits, support-group meetings, services and the rapid-response team."""

    name = "outreach"
    verbose_name = _("Outreach")
    default_auto_field = "django.db.models.BigAutoField"
    # Every change to its records is in the access log (cases.audit).
    access_logged = True

    def ready(self):
        from . import reminders

        reminders.register()
