"""The case-management cycle (SPEC §12.2, Kemensos ATENSI): an assessment of nine domains,
the individual plan (goals per domain, actions with an owner and a due date), reviews
every few months with a supervisor's sign-off, the closure of a case with its reopening,
and the client's social protection.

Scores are columns (1 = severe need … 4 = no need), so that the reports compare them in
SQL and the database refuses a score outside 1–4; the notes are one object per assessment.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.models import Client, ClosureReason
from cases.security.crypto import EncryptedCharField
from empowerment.models import Enrolment
from outreach.models import ServiceRecord
from referrals.models import Referral


class Domain(models.TextChoices):
    ARV_ADHERENCE = "arv_adherence", _("ARV adherence")
    PHYSICAL_HEALTH = "physical_health", _("Physical health")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    FAMILY_SUPPORT = "family_support", _("Family support")
    ECONOMIC = "economic", _("Economic situation")
    HOUSING = "housing", _("Housing")
    DOCUMENTS = "documents", _("Documents (KTP/KK/BPJS)")
    STIGMA_DISCRIMINATION = "stigma_discrimination", _("Stigma and discrimination")
    LEGAL = "legal", _("Legal matters")


DOMAINS = tuple(Domain.values)
# The assessment on the phone: one screen per group of domains.
DOMAIN_GROUPS = (
    ("health", _("Health"), ("arv_adherence", "physical_health", "mental_health")),
    ("social", _("Family and community"), ("family_support", "stigma_discrimination", "legal")),
    ("livelihood", _("Livelihood"), ("economic", "housing", "documents")),
)
SCORE_CHOICES = (
    (1, _("1 — severe need")),
    (2, _("2 — serious need")),
    (3, _("3 — some need")),
    (4, _("4 — no need")),
)
MAX_NOTE = 2000


def score_field(domain):
    return f"score_{domain}"


class AssessmentKind(models.TextChoices):
    INITIAL = "initial", _("Initial assessment")
    REVIEW = "review", _("Reassessment at a review")


class Assessment(models.Model):
    """An assessment (asesmen): a score and a note per domain, on one day."""

    client = models.ForeignKey(Client, models.PROTECT, related_name="assessments", verbose_name=_("client"))
    assessed_on = models.DateField(_("assessed on"))
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("assessor"))
    kind = models.CharField(_("kind"), max_length=10, choices=AssessmentKind.choices, editable=False)
    notes = models.JSONField(_("notes"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # One column per domain (see the module's docstring); the database checks 1–4.
    score_arv_adherence = models.PositiveSmallIntegerField(Domain.ARV_ADHERENCE.label, choices=SCORE_CHOICES)
    score_physical_health = models.PositiveSmallIntegerField(Domain.PHYSICAL_HEALTH.label, choices=SCORE_CHOICES)
    score_mental_health = models.PositiveSmallIntegerField(Domain.MENTAL_HEALTH.label, choices=SCORE_CHOICES)
    score_family_support = models.PositiveSmallIntegerField(Domain.FAMILY_SUPPORT.label, choices=SCORE_CHOICES)
    score_economic = models.PositiveSmallIntegerField(Domain.ECONOMIC.label, choices=SCORE_CHOICES)
    score_housing = models.PositiveSmallIntegerField(Domain.HOUSING.label, choices=SCORE_CHOICES)
    score_documents = models.PositiveSmallIntegerField(Domain.DOCUMENTS.label, choices=SCORE_CHOICES)
    score_stigma_discrimination = models.PositiveSmallIntegerField(
        Domain.STIGMA_DISCRIMINATION.label, choices=SCORE_CHOICES
    )
    score_legal = models.PositiveSmallIntegerField(Domain.LEGAL.label, choices=SCORE_CHOICES)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{score_field(d)}__gte": 1, f"{score_field(d)}__lte": 4}),
                name=f"assessment_{d}_1_to_4",
            )
            for d in DOMAINS
        ]
        # A client's assessments in order: the chart, the latest one, review_due.
        indexes = [models.Index(fields=["client", "assessed_on"], name="assessment_client_date_idx")]

    def __str__(self):
        return f"{self.client_id} {self.assessed_on:%Y-%m-%d}"

    @property
    def scores(self) -> dict:
        return {domain: getattr(self, score_field(domain)) for domain in DOMAINS}


class Plan(models.Model):
    """The individual plan (rencana intervensi). A client has at most one current plan;
    closing the case ends it, and a reopened case starts a new one."""

    client = models.ForeignKey(Client, models.PROTECT, related_name="plans", verbose_name=_("client"))
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=Q(ended_on__isnull=True), name="plan_one_current"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")), name="plan_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["client", "started_on"], name="plan_client_idx")]

    def __str__(self):
        return f"{self.client_id} {self.started_on:%Y-%m-%d}"


class GoalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACHIEVED = "achieved", _("Achieved")
    DROPPED = "dropped", _("Dropped")


class Goal(models.Model):
    plan = models.ForeignKey(Plan, models.PROTECT, related_name="goals", verbose_name=_("plan"))
    # The plan's client, kept here for the access log and the lists (set by the service).
    client = models.ForeignKey(Client, models.PROTECT, related_name="+", editable=False)
    domain = models.CharField(_("domain"), max_length=30, choices=Domain.choices)
    description = models.CharField(_("goal"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=GoalStatus.values), name="goal_status_valid"),
            models.CheckConstraint(condition=Q(domain__in=DOMAINS), name="goal_domain_valid"),
        ]

    def __str__(self):
        return self.description


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class Action(models.Model):
    """What is to be done for a goal, by whom and by when; it may have become a referral, a
    service record or an enrolment in a programme, and links to it."""

    goal = models.ForeignKey(Goal, models.PROTECT, related_name="actions", verbose_name=_("goal"))
    client = models.ForeignKey(Client, models.PROTECT, related_name="+", editable=False)
    description = models.CharField(_("action"), max_length=500)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("owner"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    done_on = models.DateField(_("done on"), null=True, blank=True, editable=False)
    referral = models.ForeignKey(
        Referral, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("referral")
    )
    service_record = models.ForeignKey(
        ServiceRecord, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("service record")
    )
    enrolment = models.ForeignKey(
        Enrolment, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("enrolment")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ActionStatus.values), name="action_status_valid"),
            # A done action has its day, and only a done one.
            models.CheckConstraint(
                condition=(Q(status="done") & Q(done_on__isnull=False)) | (~Q(status="done") & Q(done_on__isnull=True)),
                name="action_done_dated",
            ),
        ]
        indexes = [
            # action_due and "due this week": open actions by owner and due date.
            models.Index(fields=["owner", "due_date"], condition=Q(status="open"), name="action_open_owner_due_idx"),
            models.Index(fields=["client", "due_date"], name="action_client_idx"),
        ]

    def __str__(self):
        return self.description


class Review(models.Model):
    """A case review: the reassessment of the day and a note; a supervisor signs it off."""

    client = models.ForeignKey(Client, models.PROTECT, related_name="reviews", verbose_name=_("client"))
    assessment = models.OneToOneField(Assessment, models.PROTECT, related_name="review", verbose_name=_("reassessment"))
    note = models.TextField(_("note"), max_length=4000)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    signed_off_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True, signed_off_at__isnull=True)
                | Q(signed_off_by__isnull=False, signed_off_at__isnull=False),
                name="review_sign_off_complete",
            )
        ]
        # The supervisors' sign-off queue.
        indexes = [
            models.Index(fields=["client"], condition=Q(signed_off_at__isnull=True), name="review_awaiting_idx"),
            models.Index(fields=["client", "created_at"], name="review_client_idx"),
        ]

    def __str__(self):
        return f"{self.client_id} {self.assessment_id}"


class ClientClosure(models.Model):
    """One closure of a case (terminasi) and, once reopened, its reopening: the history the
    client's own `closed_on` / `closure_reason` (the current state) do not keep."""

    client = models.ForeignKey(Client, models.PROTECT, related_name="closures", verbose_name=_("client"))
    closed_on = models.DateField(_("closed on"))
    reason = models.CharField(_("reason"), max_length=20, choices=ClosureReason.choices)
    note = models.TextField(_("note"), max_length=4000, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(auto_now_add=True)
    reopened_on = models.DateField(_("reopened on"), null=True, blank=True)
    reopen_note = models.TextField(_("reopening note"), max_length=4000, blank=True)
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-closed_on", "-id"]
        verbose_name = _("case closure")
        verbose_name_plural = _("case closures")
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=Q(reopened_on__isnull=True), name="closure_one_open_per_client"
            ),
            models.CheckConstraint(condition=Q(reason__in=ClosureReason.values), name="closure_reason_valid"),
            models.CheckConstraint(
                condition=Q(reopened_on__isnull=True) | Q(reopened_on__gte=F("closed_on")),
                name="closure_reopened_after_closing",
            ),
        ]
        indexes = [models.Index(fields=["client", "closed_on"], name="closure_client_idx")]

    def __str__(self):
        return f"{self.client_id} {self.closed_on:%Y-%m-%d} {self.reason}"


class BpjsMembership(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    NONE = "none", _("None")
    PBI = "pbi", _("PBI (premium paid by the state)")
    NON_PBI = "non_pbi", _("Non-PBI (paid by the member or employer)")


bpjs_number_validator = RegexValidator(r"^\d{13}$", _("A BPJS Kesehatan number has exactly 13 digits."))


class SocialProtection(models.Model):
    """The client's social protection (SPEC §12.2): BPJS Kesehatan, identity documents held,
    and social assistance received with its dates. The BPJS number is encrypted at rest
    like the NIK."""

    client = models.OneToOneField(Client, models.PROTECT, related_name="social_protection")
    bpjs_membership = models.CharField(
        _("BPJS Kesehatan"), max_length=10, choices=BpjsMembership.choices, blank=True, default=""
    )
    bpjs_number = EncryptedCharField(_("BPJS number"), max_length=13, blank=True, validators=[bpjs_number_validator])
    has_ktp = models.BooleanField(_("holds a KTP"), null=True, blank=True)
    has_kk = models.BooleanField(_("holds a KK"), null=True, blank=True)
    pkh_since = models.DateField(_("PKH since"), null=True, blank=True)
    pkh_until = models.DateField(_("PKH until"), null=True, blank=True)
    bpnt_since = models.DateField(_("BPNT since"), null=True, blank=True)
    bpnt_until = models.DateField(_("BPNT until"), null=True, blank=True)
    other_assistance = models.CharField(_("other assistance"), max_length=200, blank=True)
    other_since = models.DateField(_("other assistance since"), null=True, blank=True)
    other_until = models.DateField(_("other assistance until"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("social protection")
        verbose_name_plural = _("social protection")
        constraints = [
            models.CheckConstraint(
                condition=Q(bpjs_membership__in=BpjsMembership.values), name="social_protection_bpjs_valid"
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{p}_until__isnull": True})
                    | Q(**{f"{p}_since__isnull": True})
                    | Q(**{f"{p}_until__gte": F(f"{p}_since")}),
                    name=f"social_protection_{p}_dates",
                )
                for p in ("pkh", "bpnt", "other")
            ),
        ]

    def __str__(self):
        return str(self.client_id)
