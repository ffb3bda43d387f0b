"""Community-based empowerment, the programme's third service (SPEC §12.4): programmes of a
site (a productive-economy group, a training, an anti-stigma session in a neighbourhood),
their sessions with who attended, and each client's enrolment with its outcome.

People who are not clients (family, neighbours, health workers) are counted, never named."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.models import Client, Site, SupportGroup


class ProgrammeKind(models.TextChoices):
    ECONOMIC = "economic", _("Productive economy")
    SKILLS = "skills", _("Skills training")
    EDUCATION = "education", _("Community education")
    ANTI_STIGMA = "anti_stigma", _("Anti-stigma")
    FAMILY = "family", _("Family strengthening")
    OTHER = "other", _("Other")


# Sessions of these kinds reach people beyond the enrolled: the report counts them as reached.
OUTREACH_KINDS = (ProgrammeKind.ANTI_STIGMA, ProgrammeKind.EDUCATION)
# Enrolments in these kinds record business, income and employment.
ECONOMIC_KINDS = (ProgrammeKind.ECONOMIC, ProgrammeKind.SKILLS)


class IncomeBand(models.TextChoices):
    """Monthly income, rupiah (SPEC §12.4), in rising order."""

    NONE = "none", _("No income")
    UNDER_500K = "<500k", _("Under Rp 500 thousand")
    FROM_500K = "500k-1M", _("Rp 500 thousand – 1 million")
    FROM_1M = "1-2M", _("Rp 1–2 million")
    OVER_2M = ">2M", _("Over Rp 2 million")


# Rank of each band: "moved up" compares ranks.
INCOME_RANK = {band: rank for rank, band in enumerate(IncomeBand.values)}


class Outcome(models.TextChoices):
    ONGOING = "", _("Ongoing")
    COMPLETED = "completed", _("Completed")
    DROPPED = "dropped", _("Dropped out")


MAX_OTHERS = 10_000  # people of one category at one session: a stadium, not a typo


class Programme(models.Model):
    site = models.ForeignKey(Site, models.PROTECT, related_name="programmes", verbose_name=_("site"))
    kind = models.CharField(_("kind"), max_length=20, choices=ProgrammeKind.choices)
    name = models.CharField(_("name"), max_length=200)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("facilitator"),
    )
    partner = models.CharField(
        _("partner organisation"), max_length=200, blank=True, help_text=_("E.g. a cooperative, a café, a puskesmas.")
    )
    support_group = models.ForeignKey(
        SupportGroup,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="programmes",
        verbose_name=_("support group"),
        help_text=_("The KDS or LKS running it, if any: its volunteers record its sessions."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="programme_ends_after_start",
            )
        ]
        indexes = [models.Index(fields=["site", "-start_date"], name="programme_site_start_idx")]

    def __str__(self):
        return self.name


class ProgrammeSession(models.Model):
    """One meeting of a programme: the clients who came and how many others came."""

    programme = models.ForeignKey(Programme, models.PROTECT, related_name="sessions", verbose_name=_("programme"))
    date = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    attendees = models.ManyToManyField(
        Client, through="Attendance", blank=True, related_name="programme_sessions", verbose_name=_("attendees")
    )
    others_family = models.PositiveIntegerField(
        _("family members"), default=0, validators=[MaxValueValidator(MAX_OTHERS)]
    )
    others_community = models.PositiveIntegerField(
        _("community members"), default=0, validators=[MaxValueValidator(MAX_OTHERS)]
    )
    others_health_workers = models.PositiveIntegerField(
        _("health workers"), default=0, validators=[MaxValueValidator(MAX_OTHERS)]
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["programme", "-date"], name="session_programme_date_idx")]

    def __str__(self):
        return f"{self.programme} {self.date:%Y-%m-%d}"

    @property
    def others(self) -> dict:
        return {
            "family": self.others_family,
            "community": self.others_community,
            "health_workers": self.others_health_workers,
        }


class Attendance(models.Model):
    session = models.ForeignKey(ProgrammeSession, models.CASCADE, related_name="attendance")
    client = models.ForeignKey(Client, models.PROTECT, related_name="session_attendance")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "client"], name="attendance_once_per_session")]
        # A client's timeline: the sessions they attended.
        indexes = [models.Index(fields=["client"], name="attendance_client_idx")]


class Enrolment(models.Model):
    """A client taking part in a programme, with the outcome at the end. Plan actions of the
    case-management cycle may point at one (a foreign key to it)."""

    programme = models.ForeignKey(Programme, models.PROTECT, related_name="enrolments", verbose_name=_("programme"))
    client = models.ForeignKey(Client, models.PROTECT, related_name="enrolments", verbose_name=_("client"))
    enrolled_on = models.DateField(_("enrolled on"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True, default="")
    outcome_on = models.DateField(_("outcome date"), null=True, blank=True)
    # Economic programmes (SPEC §12.4); null: not asked or not known.
    business_started = models.BooleanField(_("business started"), null=True, blank=True)
    income_before = models.CharField(
        _("monthly income before"), max_length=10, choices=IncomeBand.choices, blank=True, default=""
    )
    income_after = models.CharField(
        _("monthly income after"), max_length=10, choices=IncomeBand.choices, blank=True, default=""
    )
    employed = models.BooleanField(_("employed"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["programme", "enrolled_on", "id"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["programme", "client"], name="enrolment_once_per_programme"),
            # An outcome has its day, and only an outcome has one.
            models.CheckConstraint(
                condition=(Q(outcome="") & Q(outcome_on__isnull=True)) | (~Q(outcome="") & Q(outcome_on__isnull=False)),
                name="enrolment_outcome_dated",
            ),
            models.CheckConstraint(
                condition=Q(outcome_on__isnull=True) | Q(outcome_on__gte=F("enrolled_on")),
                name="enrolment_outcome_after_enrolment",
            ),
        ]
        indexes = [models.Index(fields=["client", "enrolled_on"], name="enrolment_client_idx")]

    def __str__(self):
        return f"{self.client_id} in {self.programme_id}"
