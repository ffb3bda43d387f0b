from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """Server-rendered pages for the field; they ask the same policy modules as the API."""

    name = "web"
    verbose_name = _("Web pages")
    default_auto_field = "django.db.models.BigAutoField"
