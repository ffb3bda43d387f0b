"""ARV follow-up: refills, viral loads, and tracing of clients who stopped coming."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .registry import Client, Facility, validate_not_future

# Suppressed below 1000 copies/mL (WHO); undetectable below 50.
VL_SUPPRESSION_THRESHOLD = 1000


class DaysSupplied(models.IntegerChoices):
    """Multi-month dispensing: up to six months for stable clients (Indonesian guidance)."""

    ONE_MONTH = 30, _("30 days")
    TWO_MONTHS = 60, _("60 days")
    THREE_MONTHS = 90, _("90 days")
    SIX_MONTHS = 180, _("180 days")


class Refill(models.Model):
    """One ARV pick-up. Never deleted: the refill history is the adherence record."""

    client = models.ForeignKey(Client, models.PROTECT, related_name="refills")
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="refills", verbose_name=_("facility"))
    pickup_date = models.DateField(_("pick-up date"), validators=[validate_not_future])
    days_supplied = models.PositiveSmallIntegerField(_("days supplied"), choices=DaysSupplied.choices)
    next_due = models.DateField(_("next due"), editable=False)
    missed_doses = models.PositiveSmallIntegerField(
        _("missed doses reported"), default=0, validators=[MaxValueValidator(180)]
    )
    returned_to_treatment = models.BooleanField(_("returned to treatment"), default=False, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pickup_date", "-id"]
        verbose_name = _("refill")
        verbose_name_plural = _("refills")
        indexes = [models.Index(fields=["client", "-pickup_date"], name="refill_client_latest_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(days_supplied__in=DaysSupplied.values), name="refill_days_supplied_valid"
            ),
        ]

    def __str__(self):
        return f"{self.client_id} {self.pickup_date} +{self.days_supplied}"


class ViralLoad(models.Model):
    client = models.ForeignKey(Client, models.PROTECT, related_name="viral_loads")
    sample_date = models.DateField(_("sample date"), validators=[validate_not_future])
    copies_per_ml = models.PositiveIntegerField(_("copies/mL"), validators=[MaxValueValidator(100_000_000)])
    suppressed = models.BooleanField(_("suppressed"), editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sample_date", "-id"]
        verbose_name = _("viral load")
        verbose_name_plural = _("viral loads")
        indexes = [models.Index(fields=["client", "-sample_date"], name="viral_load_client_latest_idx")]


class TracingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class TracingMethod(models.TextChoices):
    PHONE = "phone", _("Phone")
    HOME = "home", _("Home visit")
    VIA_GROUP = "via_group", _("Through the support group")
    VIA_FACILITY = "via_facility", _("Through the facility")


class TracingOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    REFUSED = "refused", _("Refused")
    MOVED = "moved", _("Moved")
    TRANSFERRED = "transferred", _("Transferred")
    DECEASED = "deceased", _("Deceased")
    NOT_FOUND = "not_found", _("Not found")
    WRONG_CONTACT = "wrong_contact", _("Wrong contact")


# Outcomes that end the search and what they make of the client.
FINAL_TRACING_OUTCOMES = {
    TracingOutcome.DECEASED: "deceased",
    TracingOutcome.TRANSFERRED: "transferred_out",
}


class Tracing(models.Model):
    """Finding a client whose refill is late. One per lapsed refill; one open per client."""

    client = models.ForeignKey(Client, models.PROTECT, related_name="tracings")
    refill = models.OneToOneField("cases.Refill", models.PROTECT, related_name="tracing")
    opened_on = models.DateField(_("opened on"))
    status = models.CharField(_("status"), max_length=10, choices=TracingStatus.choices, default=TracingStatus.OPEN)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    close_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["opened_on", "id"]
        verbose_name = _("tracing")
        verbose_name_plural = _("tracings")
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=Q(status="open"), name="tracing_one_open_per_client"),
        ]
        indexes = [models.Index(fields=["status", "opened_on"], name="tracing_open_idx")]


class TracingAttempt(models.Model):
    # The access log files an attempt under its tracing's client (cases.audit).
    access_log_client_via = "tracing"

    tracing = models.ForeignKey(Tracing, models.PROTECT, related_name="attempts")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    made_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(_("method"), max_length=20, choices=TracingMethod.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=TracingOutcome.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        ordering = ["made_at", "id"]
