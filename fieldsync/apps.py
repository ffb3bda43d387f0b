from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldSyncConfig(AppConfig):
    name = "fieldsync"
    verbose_name = _("Field sync")
    default_auto_field = "django.db.models.BigAutoField"
