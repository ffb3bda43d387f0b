"""Organisation (sites, groups, facilities, users) and the client registry."""

import re
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from cases.security.crypto import EncryptedCharField

nik_validator = RegexValidator(r"^\d{16}$", _("NIK must be exactly 16 digits."))
phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 \-]{6,18}[0-9]$", _("Enter a phone number of digits, e.g. +6281234567890.")
)
site_code_validator = RegexValidator(r"^[A-Z]{2,6}$", _("Use 2 to 6 capital letters, e.g. TTE."))


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


def latest_today():
    """Today at the place on earth where it is latest (UTC+14).

    Model validators do not know the site; measured this way a date that is today at any
    site is never refused, and a date after it is in the future everywhere.
    """
    return (timezone.now() + timedelta(hours=14)).date()


def validate_not_future(value):
    if value > latest_today():
        raise ValidationError(_("This date cannot be in the future."))


SITE_TIMEZONES_CACHE_KEY = "basodara:site-timezones"

# Words a client's reminder must never carry: a phone is often read by others.
FORBIDDEN_CLIENT_TEXT = re.compile(
    r"\b(hiv|aids|arv|art|odha|odhiv|antiretro\w*|viral|vct|pdp|cst|pmtct|ppia|ims|sti)\b", re.IGNORECASE
)
CLIENT_TEMPLATE_FIELDS = {"nickname", "date", "facility"}


def validate_client_text(value):
    if FORBIDDEN_CLIENT_TEXT.search(value):
        raise ValidationError(_("A message to clients must not mention HIV, AIDS, ARV or treatment names."))


def validate_client_sms_template(value):
    validate_client_text(value)
    try:
        value.format(**{name: "x" for name in CLIENT_TEMPLATE_FIELDS})
    except (KeyError, IndexError, ValueError):
        raise ValidationError(
            _("Use only the placeholders {nickname}, {date} and {facility}, with single braces.")
        ) from None


class Site(models.Model):
    """A centre (Balai / Sentra) running the programme, with its own staff and time zone."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=6, unique=True, validators=[site_code_validator])
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Jayapura", validators=[validate_timezone])
    # Reminder and follow-up settings (SPEC §6); defaults follow WHO and the programme.
    ltfu_days = models.PositiveSmallIntegerField(
        _("days late before lost to follow-up"), default=28, validators=[MinValueValidator(8), MaxValueValidator(365)]
    )
    refill_upcoming_days = models.PositiveSmallIntegerField(_("days before due to remind"), default=3)
    refill_missed_days = models.PositiveSmallIntegerField(_("days after due for a missed refill"), default=1)
    tracing_days = models.PositiveSmallIntegerField(_("days after due to open tracing"), default=7)
    quiet_hours_start = models.TimeField(_("quiet hours start"), default="21:00")
    quiet_hours_end = models.TimeField(
        _("quiet hours end"), default="07:00", help_text=_("No SMS to clients between start and end; equal: none.")
    )
    # The case cycle (SPEC §12.2) and offline field work (§12.6).
    review_months = models.PositiveSmallIntegerField(
        _("months between case reviews"), default=3, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    offline_days = models.PositiveSmallIntegerField(
        _("days a phone keeps offline data without a sync"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    client_sms_template = models.CharField(
        _("client reminder text"),
        max_length=320,
        default="Halo {nickname}, jangan lupa jadwal kontrol Anda tanggal {date} di {facility}.",
        validators=[validate_client_sms_template],
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self):
        return f"{self.code} · {self.name}"

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.timezone)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Client lists compute each site's "today" from a cached list of time zones.
        cache.delete(SITE_TIMEZONES_CACHE_KEY)


class Role(models.TextChoices):
    SOCIAL_WORKER = "social_worker", _("Social worker")
    VOLUNTEER = "volunteer", _("Volunteer (KDS/LKS)")
    SUPERVISOR = "supervisor", _("Supervisor")
    FACILITY_STAFF = "facility_staff", _("Facility staff")
    ADMIN = "admin", _("Administrator")


class FacilityKind(models.TextChoices):
    HOSPITAL_CLINIC = "hospital_clinic", _("Hospital HIV clinic")
    PUSKESMAS = "puskesmas", _("Puskesmas")
    NGO = "ngo", _("NGO")
    CENTRE_SERVICE = "centre_service", _("Centre service")
    OTHER = "other", _("Other")


class ReferralService(models.TextChoices):
    """Services a referral can ask for; facilities list the ones they offer."""

    VCT = "vct", _("VCT (counselling and testing)")
    ART_INITIATION = "art_initiation", _("ART initiation")
    ART_REFILL = "art_refill", _("ARV refill")
    VIRAL_LOAD = "viral_load", _("Viral load test")
    TB = "tb", _("TB")
    PMTCT = "pmtct", _("PMTCT (PPIA)")
    STI = "sti", _("STI")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    LEGAL_AID = "legal_aid", _("Legal aid")
    EMERGENCY_AID = "emergency_aid", _("Emergency aid")
    COUNSELLING = "counselling", _("Counselling")
    FAMILY_STRENGTHENING = "family_strengthening", _("Family strengthening")
    ECONOMIC_EMPOWERMENT = "economic_empowerment", _("Economic empowerment")
    SHELTER = "shelter", _("Shelter")
    OTHER = "other", _("Other")


def validate_services(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Give a list of service codes."))
    unknown = sorted(set(value) - set(ReferralService.values))
    if unknown:
        raise ValidationError(_("Unknown services: %(codes)s"), params={"codes": ", ".join(unknown)})


class Facility(models.Model):
    """A health facility or service that receives referrals; may be outside any site."""

    def name_for_clients(self):
        """What a client's SMS may call this place: never a name that reveals HIV care."""
        if self.sms_name:
            return self.sms_name
        return self.name if not FORBIDDEN_CLIENT_TEXT.search(self.name) else _("the health facility")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=FacilityKind.choices)
    services = models.JSONField(_("services offered"), default=list, blank=True, validators=[validate_services])
    site = models.ForeignKey(Site, models.PROTECT, null=True, blank=True, related_name="facilities")
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True, validators=[phone_validator])
    address = models.CharField(_("address"), max_length=300, blank=True)
    sms_name = models.CharField(
        _("name in messages to clients"),
        max_length=100,
        blank=True,
        validators=[validate_client_text],
        help_text=_("A neutral name, e.g. 'RSUD Chasan Boesoirie'; a clinic's own name may reveal HIV care."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")

    def __str__(self):
        return self.name


class BasodaraUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # A Django superuser is an admin (SPEC §11), so its role says so too.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in. Facility staff belong to a facility, everyone else to a site."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SOCIAL_WORKER)
    site = models.ForeignKey(Site, models.PROTECT, null=True, blank=True, related_name="users")
    facility = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="staff")
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])

    objects = BasodaraUserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        indexes = [models.Index(fields=["site", "role"], name="user_site_role_idx")]

    @property
    def support_groups(self):
        """The support groups this volunteer belongs to (read `groups` with `support_group`
        selected to avoid a query per user in lists)."""
        return [g.support_group for g in self.groups.all() if getattr(g, "support_group", None) is not None]


class GroupKind(models.TextChoices):
    KDS = "KDS", _("KDS (peer support group)")
    LKS = "LKS", _("LKS (social welfare institution)")


class SupportGroup(models.Model):
    """A KDS or LKS. Its volunteers are the members of its auth group, which carries the
    group's guardian grants on its clients: adding or removing a volunteer changes their
    reach at once, with no per-client rows to rewrite."""

    site = models.ForeignKey(Site, models.PROTECT, related_name="support_groups")
    kind = models.CharField(_("kind"), max_length=3, choices=GroupKind.choices)
    name = models.CharField(_("name"), max_length=200)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="coordinated_groups"
    )
    auth_group = models.OneToOneField(Group, models.PROTECT, related_name="support_group", editable=False)

    class Meta:
        ordering = ["site", "name"]
        verbose_name = _("support group")
        verbose_name_plural = _("support groups")
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="support_group_unique_name_per_site")]

    def __str__(self):
        return f"{self.kind} {self.name}"


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class ClientStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LTFU = "ltfu", _("Lost to follow-up")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out")
    STOPPED = "stopped", _("Stopped")
    DECEASED = "deceased", _("Deceased")


class FamilyDisclosure(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    NOT_DISCLOSED = "not_disclosed", _("Not disclosed")
    PARTIAL = "partial", _("Some family members know")
    DISCLOSED = "disclosed", _("Family knows")


def name_key(full_name):
    """A normalised name for duplicate matching: case, spacing and punctuation do not count."""
    return re.sub(r"[^\w]+", " ", full_name.casefold()).strip()


class ClosureReason(models.TextChoices):
    """Why a case is closed (terminasi, SPEC §12.2)."""

    GOALS_MET = "goals_met", _("Goals met")
    MOVED = "moved", _("Moved away")
    DECEASED = "deceased", _("Deceased")
    REFUSED = "refused", _("Refused further support")
    LTFU = "ltfu", _("Lost to follow-up")
    TRANSFERRED = "transferred", _("Transferred to another centre")
    OTHER = "other", _("Other")


class Client(models.Model):
    """A person accompanied by the programme. `code` stands in for the name everywhere it can."""

    # Indexed by client_site_status_idx and client_refill_due_idx, which start with it.
    site = models.ForeignKey(Site, models.PROTECT, related_name="clients", db_index=False)
    code = models.CharField(_("code"), max_length=20, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=200)
    name_key = models.CharField(max_length=200, editable=False)  # client_name_dob_idx
    nickname = models.CharField(_("nickname"), max_length=60, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    date_of_birth = models.DateField(_("date of birth"), validators=[validate_not_future])
    # Encrypted at rest (cases/security/crypto.py); the NIK is matched through its keyed hash.
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    address = EncryptedCharField(_("address"), max_length=500, blank=True)
    nik = EncryptedCharField(_("NIK"), max_length=16, blank=True, validators=[nik_validator])
    nik_hash = models.CharField(max_length=64, blank=True, editable=False)
    hiv_diagnosis_date = models.DateField(
        _("HIV diagnosis date"), null=True, blank=True, validators=[validate_not_future]
    )
    art_start_date = models.DateField(_("ART start date"), null=True, blank=True, validators=[validate_not_future])
    art_facility = models.ForeignKey(
        Facility, models.PROTECT, null=True, blank=True, related_name="art_clients", verbose_name=_("ART facility")
    )
    regimen = models.CharField(_("regimen"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ClientStatus.choices, default=ClientStatus.ACTIVE)
    consent_date = models.DateField(_("consent date"), validators=[validate_not_future])
    consent_sms = models.BooleanField(_("consents to SMS"), default=False)
    consent_share = models.BooleanField(_("consents to sharing with outside facilities"), default=False)
    consent_withdrawn_on = models.DateField(
        _("consent withdrawn on"), null=True, blank=True, validators=[validate_not_future]
    )
    family_disclosure = models.CharField(
        _("family disclosure"), max_length=20, choices=FamilyDisclosure.choices, default=FamilyDisclosure.UNKNOWN
    )
    pregnant = models.BooleanField(_("pregnant (PMTCT)"), default=False)
    assigned_social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="caseload", db_index=False
    )  # client_worker_status_idx starts with it
    companion = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="companion_of"
    )
    support_groups = models.ManyToManyField(SupportGroup, blank=True, related_name="clients")
    possible_duplicate = models.BooleanField(_("possible duplicate"), default=False, editable=False)
    # Maintained by the refill service: the latest refill and when the next one is due, so
    # the ARV state and the reminder scans are plain indexed comparisons, not subqueries.
    last_refill = models.ForeignKey(
        "cases.Refill", models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    next_refill_due = models.DateField(_("next refill due"), null=True, blank=True, editable=False)
    # Set by closing the case (SPEC §12.2), cleared by reopening it; the history is kept apart.
    closed_on = models.DateField(_("case closed on"), null=True, blank=True, editable=False)
    closure_reason = models.CharField(
        _("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True, editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        permissions = [("change_client_contact", "Can change the contact fields of a client")]
        indexes = [
            # Supervisors' site lists and caseload filters; with the worker and the id, the
            # reports read a site's clients in care from the index alone (reports.caseload).
            models.Index(fields=["site", "status", "assigned_social_worker", "id"], name="client_site_status_idx"),
            models.Index(fields=["assigned_social_worker", "status"], name="client_worker_status_idx"),
            # Reminder scans and the arv_state filter: a site's clients by due date.
            models.Index(
                fields=["site", "next_refill_due"], condition=Q(status="active"), name="client_refill_due_idx"
            ),
            # Duplicate detection: same name and birth date.
            models.Index(fields=["name_key", "date_of_birth"], name="client_name_dob_idx"),
            # Same NIK, through its keyed hash: exact matches only, so no pattern (LIKE) index.
            models.Index(fields=["nik_hash"], name="client_nik_hash_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="client_sex_valid"),
            models.CheckConstraint(condition=Q(status__in=ClientStatus.values), name="client_status_valid"),
        ]

    def __str__(self):
        return self.code

    def clean(self):
        errors = {}
        if self.hiv_diagnosis_date and self.date_of_birth and self.hiv_diagnosis_date < self.date_of_birth:
            errors["hiv_diagnosis_date"] = _("The diagnosis cannot be before the birth date.")
        if self.art_start_date and self.hiv_diagnosis_date and self.art_start_date < self.hiv_diagnosis_date:
            errors["art_start_date"] = _("ART cannot start before the diagnosis.")
        if self.consent_withdrawn_on and self.consent_date and self.consent_withdrawn_on < self.consent_date:
            errors["consent_withdrawn_on"] = _("Consent cannot be withdrawn before it was given.")
        if self.pregnant and self.sex == Sex.MALE:
            errors["pregnant"] = _("Only a female client can be pregnant.")
        if errors:
            raise ValidationError(errors)


class ClientCodeCounter(models.Model):
    """The last number handed out for a site and year; rows are locked while a code is taken."""

    site = models.ForeignKey(Site, models.CASCADE)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "year"], name="client_code_counter_unique")]


class GrantKind(models.TextChoices):
    ASSIGNMENT = "assignment", _("Assigned social worker")
    COMPANION = "companion", _("Companion")
    SHARE = "share", _("Shared by a supervisor")
    BREAK_GLASS = "break_glass", _("Emergency access (24 hours)")


class ClientUserObjectPermission(UserObjectPermissionBase):
    """Guardian's per-user grants on clients, as a direct foreign key (joins, not casts).

    `kind` says why the grant exists so that reassignment removes exactly the grant it
    made; `expires_at` bounds a supervisor's share. The policy ignores expired rows, and a
    periodic task deletes them.
    """

    content_object = models.ForeignKey(Client, models.CASCADE)
    kind = models.CharField(max_length=20, choices=GrantKind.choices)
    expires_at = models.DateTimeField(null=True, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["content_object", "kind"], name="client_user_perm_kind_idx")]


class ClientGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's per-group grants on clients: a support group's volunteers reach its clients."""

    content_object = models.ForeignKey(Client, models.CASCADE)
