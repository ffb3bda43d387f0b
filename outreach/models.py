"""The programme's three services: home visits and consultation, support-group meetings and
services, and the rapid-response team's incidents."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Client, Site, SupportGroup


class VisitKind(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit")
    CONSULTATION = "consultation", _("Consultation")
    PHONE = "phone", _("Phone call")
    OUTREACH = "outreach", _("Outreach")


# What a volunteer records: contacts, not the social worker's home visits (SPEC §7).
VOLUNTEER_VISIT_KINDS = (VisitKind.OUTREACH, VisitKind.PHONE)


class HomeVisit(models.Model):
    """A contact with a client and what was found. Its author may correct it for 48 hours,
    afterwards only a supervisor; every correction keeps a revision."""

    client = models.ForeignKey(Client, models.PROTECT, related_name="visits")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="visits")
    visited_at = models.DateTimeField(_("visited at"))
    kind = models.CharField(_("kind"), max_length=20, choices=VisitKind.choices)
    missed_doses_7d = models.PositiveSmallIntegerField(
        _("missed doses in the last 7 days"), null=True, blank=True, validators=[MaxValueValidator(21)]
    )
    pills_left = models.PositiveSmallIntegerField(
        _("pills left"), null=True, blank=True, validators=[MaxValueValidator(1000)]
    )
    health_complaints = models.TextField(_("health complaints"), blank=True, max_length=4000)
    psychosocial = models.TextField(_("psychosocial situation"), blank=True, max_length=4000)
    family_support = models.TextField(_("family support"), blank=True, max_length=4000)
    economic_situation = models.TextField(_("economic situation"), blank=True, max_length=4000)
    services_provided = models.TextField(_("services provided"), blank=True, max_length=4000)
    needs = models.TextField(_("needs"), blank=True, max_length=4000)
    plan = models.TextField(_("plan"), blank=True, max_length=4000)
    next_visit_date = models.DateField(_("next visit"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        indexes = [
            models.Index(fields=["client", "-visited_at"], name="visit_client_latest_idx"),
            models.Index(fields=["visitor", "next_visit_date"], name="visit_visitor_next_idx"),
        ]

    def __str__(self):
        return f"{self.client_id} {self.visited_at:%Y-%m-%d} {self.kind}"


# The findings a correction may change (who, when, which client stay as recorded).
VISIT_CORRECTABLE_FIELDS = (
    "visited_at",
    "kind",
    "missed_doses_7d",
    "pills_left",
    "health_complaints",
    "psychosocial",
    "family_support",
    "economic_situation",
    "services_provided",
    "needs",
    "plan",
    "next_visit_date",
)


class HomeVisitRevision(models.Model):
    """One correction of a visit: who, when, and each changed field before and after."""

    # The access log files a correction under its visit's client (cases.audit).
    access_log_client_via = "visit"
    visit = models.ForeignKey(HomeVisit, models.PROTECT, related_name="revisions")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        ordering = ["changed_at", "id"]


class Meeting(models.Model):
    support_group = models.ForeignKey(SupportGroup, models.PROTECT, related_name="meetings")
    date = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("facilitator")
    )
    attendees = models.ManyToManyField(Client, blank=True, related_name="meetings", verbose_name=_("attendees"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")


class ServiceKind(models.TextChoices):
    EMERGENCY_AID = "emergency_aid", _("Emergency aid")
    COUNSELLING = "counselling", _("Counselling")
    EDUCATION = "education", _("Education")
    FAMILY_STRENGTHENING = "family_strengthening", _("Family strengthening")
    ECONOMIC_EMPOWERMENT = "economic_empowerment", _("Economic empowerment")
    OTHER = "other", _("Other")


class ServiceRecord(models.Model):
    client = models.ForeignKey(Client, models.PROTECT, related_name="services")
    service = models.CharField(_("service"), max_length=30, choices=ServiceKind.choices)
    date = models.DateField(_("date"))
    provider = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True, max_length=4000)
    amount = models.DecimalField(
        _("amount (Rp)"), max_digits=12, decimal_places=0, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        indexes = [models.Index(fields=["client", "-date"], name="service_client_latest_idx")]


class IncidentKind(models.TextChoices):
    MEDICAL_EMERGENCY = "medical_emergency", _("Medical emergency")
    VIOLENCE = "violence", _("Violence")
    EVICTION = "eviction", _("Eviction")
    DISCRIMINATION = "discrimination", _("Discrimination")
    ECONOMIC_CRISIS = "economic_crisis", _("Economic crisis")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    DEATH = "death", _("Death")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESPONDING = "responding", _("Responding")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_INCIDENT_STATUSES = (IncidentStatus.REPORTED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESPONDING)
# Default targets (SPEC §5): urgency → (acknowledge within, resolve within).
DEFAULT_INCIDENT_TARGETS = {
    Urgency.CRITICAL: (timedelta(hours=1), timedelta(hours=24)),
    Urgency.HIGH: (timedelta(hours=4), timedelta(hours=72)),
    Urgency.NORMAL: (timedelta(hours=24), timedelta(days=7)),
}


class IncidentTarget(models.Model):
    """A site's own acknowledge and resolve targets for one urgency (else the defaults)."""

    site = models.ForeignKey(Site, models.CASCADE, related_name="incident_targets")
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    acknowledge_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5)])
    resolve_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "urgency"], name="incident_target_unique")]


class Incident(models.Model):
    """A call for the rapid-response team, possibly about someone who is not a client yet."""

    site = models.ForeignKey(Site, models.PROTECT, related_name="incidents")
    client = models.ForeignKey(Client, models.PROTECT, null=True, blank=True, related_name="incidents")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reporter_name = models.CharField(_("reporter's name"), max_length=200, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=IncidentKind.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    location = models.CharField(_("location"), max_length=300, blank=True)
    description = models.TextField(_("description"), max_length=4000)
    responders = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="incidents_responding")
    outcome = models.TextField(_("outcome"), blank=True, max_length=4000)
    status = models.CharField(max_length=15, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED)
    reported_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    responding_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, max_length=2000)
    ack_due_at = models.DateTimeField()
    resolve_due_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            # The breach scan and the incident board: a site's open incidents by due time.
            models.Index(
                fields=["site", "ack_due_at"],
                condition=Q(acknowledged_at__isnull=True, status="reported"),
                name="incident_ack_due_idx",
            ),
            models.Index(fields=["site", "status", "resolve_due_at"], name="incident_resolve_due_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.kind} ({self.status})"

    @property
    def breached(self):
        """A target passed: acknowledged late (or not yet, past due), or resolved late."""
        now = timezone.now()
        ack_late = (self.acknowledged_at or self.cancelled_at or now) > self.ack_due_at
        resolve_late = (self.resolved_at or self.cancelled_at or now) > self.resolve_due_at
        return ack_late or resolve_late


class IncidentEvent(models.Model):
    """Each move of an incident: who, when, to which state, with their note."""

    # The access log files a move under its incident's client, if it has one (cases.audit).
    access_log_client_via = "incident"
    incident = models.ForeignKey(Incident, models.PROTECT, related_name="events")
    status = models.CharField(max_length=15, choices=IncidentStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["at", "id"]
