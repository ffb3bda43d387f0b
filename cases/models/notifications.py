"""The notification outbox: every reminder is a row first, delivered by a task after commit."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .registry import Client, Site


class NotificationKind(models.TextChoices):
    REFILL_UPCOMING = "refill_upcoming", _("Refill coming up")
    REFILL_MISSED = "refill_missed", _("Refill missed")
    TRACING_DUE = "tracing_due", _("Tracing: visit the client")
    CLIENT_LTFU = "client_ltfu", _("Client lost to follow-up")
    REFERRAL_OVERDUE = "referral_overdue", _("Referral overdue")
    INCIDENT_BREACH = "incident_breach", _("Incident target missed")
    BREAK_GLASS = "break_glass", _("Emergency access to a client")
    ASSESSMENT_DUE = "assessment_due", _("Assessment due")
    REVIEW_DUE = "review_due", _("Case review due")
    ACTION_DUE = "action_due", _("Plan action due")
    TRANSFER_REQUESTED = "transfer_requested", _("Transfer requested")


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", _("In-app (with an e-mail copy when the user has an address)")
    SMS = "sms", _("SMS")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Notification(models.Model):
    """One message to one recipient about one subject.

    The unique constraint on (kind, subject, recipient) is what makes a reminder go out at
    most once however often the scan runs: scans insert with ON CONFLICT DO NOTHING.
    `recipient_key` ("user:7", "client:42") exists because NULLs never collide in a unique
    index, so the two nullable recipient columns could not carry the constraint themselves.
    """

    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    subject_type = models.CharField(max_length=40)
    subject_id = models.BigIntegerField()
    recipient_key = models.CharField(max_length=40)
    recipient_user = models.ForeignKey(  # notification_inbox_idx starts with it
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="notifications", db_index=False
    )
    recipient_client = models.ForeignKey(Client, models.CASCADE, null=True, blank=True, related_name="+")
    site = models.ForeignKey(Site, models.CASCADE, null=True, related_name="+", db_index=False)
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    # Rendered when delivered, so the outbox itself holds no message text until then.
    text = models.TextField(blank=True, default="", db_default="")
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING, db_default="pending"
    )
    created_at = models.DateTimeField(default=None, db_default=Now())
    deliver_after = models.DateTimeField(default=None, db_default=Now())
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, db_default=0)
    last_error = models.CharField(max_length=200, blank=True, default="", db_default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id", "recipient_key"], name="notification_once"
            ),
            models.CheckConstraint(
                condition=Q(recipient_user__isnull=False) | Q(recipient_client__isnull=False),
                name="notification_has_recipient",
            ),
        ]
        indexes = [
            # The delivery scan: pending rows whose time has come.
            models.Index(fields=["deliver_after"], condition=Q(status="pending"), name="notification_pending_idx"),
            # A user's inbox, newest first.
            models.Index(fields=["recipient_user", "-created_at"], name="notification_inbox_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.subject_type}:{self.subject_id} → {self.recipient_key}"
