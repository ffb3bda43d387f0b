from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The read side above the apps: what reads across cases, outreach and referrals
    (a client's timeline, reports for supervisors) lives here, so that no app imports another
    sideways."""

    name = "reports"
    verbose_name = _("Reports")
    default_auto_field = "django.db.models.BigAutoField"
