from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmpowermentConfig(AppConfig):
    """Community-based empowerment (SPEC §12.4): programmes, sessions, enrolments, outcomes."""

    name = "empowerment"
    verbose_name = _("Empowerment")
    default_auto_field = "django.db.models.BigAutoField"
    # Every change to its records is in the access log (cases.audit).
    access_logged = True

    def seed_demo(self, *, site, today):
        """seed_demo's hook: the site's programmes, sessions and outcomes."""
        from .demo import seed_programmes

        seed_programmes(site=site, today=today)
