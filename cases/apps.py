from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Clients and organisation")
    default_auto_field = "django.db.models.BigAutoField"
    # Every change to its records is in the access log (cases.audit).
    access_logged = True

    def ready(self):
        from . import audit, tokens

        audit.connect()
        tokens.connect()
