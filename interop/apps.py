from django.apps import AppConfig


class InteropConfig(AppConfig):
    """Exchange with health-facility systems: a client's record, or a whole site, as a FHIR R4
    Bundle. A read side above cases, outreach and referrals, like reports; it owns no models."""

    name = "interop"
    default_auto_field = "django.db.models.BigAutoField"
