from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    """The case-management cycle (SPEC §12.2): assessment, plan, review, closure, and the
    client's social protection."""

    name = "casework"
    verbose_name = _("Case management")
    default_auto_field = "django.db.models.BigAutoField"
    # Every record of the cycle names a client: each change is in its access log (cases.audit).
    access_logged = True

    def ready(self):
        from cases import outbox
        from cases.services import registry

        from . import reminders as casework_reminders
        from . import services

        outbox.register_scan(casework_reminders.scan_casework)
        for subject_type, (renderer, client) in casework_reminders.RENDERERS.items():
            outbox.register_renderer(subject_type, renderer, client=client)
        registry.on_reach_changed(services.actions_hand_over)

    def seed_demo(self, *, site, today):
        """seed_demo's hook: assessments, plans, reviews and a closed case at the site."""
        from .demo import seed_casework

        seed_casework(site=site, today=today)
