"""Referrals (SPEC §4, §5): a client sent from a companion or the centre to a facility,
followed until the facility closes the loop."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from cases.models import Client, Facility, ReferralService, SupportGroup


class Urgency(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Completed")
    NOT_COMPLETED = "not_completed", _("Not completed")
    CANCELLED = "cancelled", _("Cancelled")


# Still waiting on someone: counted as a client's `open_referrals`.
OPEN_STATUSES = (ReferralStatus.DRAFT, ReferralStatus.SENT, ReferralStatus.ACCEPTED)
CLOSED_STATUSES = (
    ReferralStatus.DECLINED,
    ReferralStatus.COMPLETED,
    ReferralStatus.NOT_COMPLETED,
    ReferralStatus.CANCELLED,
)


class FacilityTeam(models.Model):
    """The auth group that holds a facility's guardian grants on the referrals sent to it.

    Made on first use by `services.facility_team_for`. Who belongs to the team is decided
    by the account's `facility` (kept by cases): the policy joins the grant's group to the
    user's facility, so staff moved to another facility lose its referrals at once; the
    auth group's member list is re-synced at each send for guardian's own checks.
    """

    facility = models.OneToOneField(Facility, models.CASCADE, related_name="referral_team")
    auth_group = models.OneToOneField(Group, models.PROTECT, related_name="facility_team", editable=False)

    class Meta:
        verbose_name = _("facility team")
        verbose_name_plural = _("facility teams")

    def __str__(self):
        return str(self.facility)


class Referral(models.Model):
    client = models.ForeignKey(Client, models.PROTECT, related_name="referrals", verbose_name=_("client"))
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="referrals_sent", verbose_name=_("from")
    )
    from_group = models.ForeignKey(
        SupportGroup, models.PROTECT, null=True, blank=True, related_name="referrals", verbose_name=_("from group")
    )
    to_facility = models.ForeignKey(Facility, models.PROTECT, related_name="referrals", verbose_name=_("to facility"))
    service = models.CharField(_("service"), max_length=30, choices=ReferralService.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT)
    outcome = models.TextField(_("outcome"), blank=True, max_length=2000)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The secret half of the facility link; replacing or clearing it revokes every link.
    link_nonce = models.CharField(max_length=32, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        permissions = [("respond_referral", "Can accept, decline or complete a referral")]
        indexes = [
            # A client's open referrals (client rows) and the sender's outbox.
            models.Index(fields=["client", "status"], name="referral_client_status_idx"),
            models.Index(fields=["from_user", "status"], name="referral_sender_status_idx"),
            # A facility's inbox and the report's per-facility figures.
            models.Index(fields=["to_facility", "status"], name="referral_facility_status_idx"),
            # The overdue scan: sent and not accepted, accepted and past due.
            models.Index(fields=["sent_at"], condition=Q(status="sent"), name="referral_sent_waiting_idx"),
            models.Index(fields=["due_date"], condition=Q(status="accepted"), name="referral_accepted_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"),
            models.CheckConstraint(condition=Q(urgency__in=Urgency.values), name="referral_urgency_valid"),
            models.CheckConstraint(
                condition=Q(status__in=("draft", "cancelled")) | Q(sent_at__isnull=False),
                name="referral_sent_has_sent_at",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.client_id} → {self.to_facility_id} ({self.status})"


class ReferralEvent(models.Model):
    """One step of a referral: who (None when done through the facility link), when, why."""

    # The access log files a step under its referral's client (cases.audit).
    access_log_client_via = "referral"
    referral = models.ForeignKey(Referral, models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=20, choices=ReferralStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    via_link = models.BooleanField(_("done through the facility link"), default=False)
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        indexes = [models.Index(fields=["referral", "at"], name="referral_event_at_idx")]

    def __str__(self):
        return f"{self.referral_id} {self.status} {self.at:%Y-%m-%d %H:%M}"


class ReferralUserObjectPermission(UserObjectPermissionBase):
    """Guardian's per-user grants on referrals, as a direct foreign key (none are made yet)."""

    content_object = models.ForeignKey(Referral, models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's per-group grants: a facility team reaches the referrals sent to it."""

    content_object = models.ForeignKey(Referral, models.CASCADE)
