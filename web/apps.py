from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """Server-rendered pages for the field; they ask the same policy modules as the API."""

    name = "web"
    verbose_name = _("Web pages")
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self, *, site, today):
        """seed_demo's hook: the field's last weeks (visits, meetings, incidents, referrals)."""
        from .demo import seed_field_activity

        seed_field_activity(site=site, today=today)
