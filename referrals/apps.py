from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Integrated referrals between companions, the centre's services and clinics (issue 5)."""

    name = "referrals"
    verbose_name = _("Referrals")
    default_auto_field = "django.db.models.BigAutoField"
    # Every change to its records is in the access log (cases.audit).
    access_logged = True

    def ready(self):
        from cases import outbox
        from cases import selectors as case_selectors
        from cases.services import registry as case_registry

        from . import reminders as referral_reminders
        from . import selectors, services
        from .models import Referral

        outbox.register_scan(referral_reminders.scan_overdue_referrals)
        outbox.register_renderer(
            referral_reminders.SUBJECT_TYPE, referral_reminders.render_referral, client=(Referral, "client_id")
        )
        case_selectors.register_client_row_annotation("open_referrals", selectors.open_referrals_expression)
        case_registry.on_consent_withdrawn(services.referrals_stop_for_withdrawn_consent)
