"""Transfers between sites of the installation (SPEC §12.3): a supervisor of the client's site
asks, a supervisor of the receiving site accepts (with a worker) or declines. Accepting moves
the client with its whole history; the day it moved (`accepted_on`) is the dated fact the
reports read to tell which site held the client on any day."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.models import Client, Site


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Transfer(models.Model):
    client = models.ForeignKey(Client, models.PROTECT, related_name="transfers", verbose_name=_("client"))
    from_site = models.ForeignKey(Site, models.PROTECT, related_name="transfers_out", verbose_name=_("from site"))
    to_site = models.ForeignKey(Site, models.PROTECT, related_name="transfers_in", verbose_name=_("to site"))
    reason = models.CharField(_("reason"), max_length=500)
    client_requested = models.BooleanField(_("the client asked for it"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=500, blank=True)
    assigned_social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("social worker at the new site"),
    )
    # The day (at the sending site) the client moved: from it the new site counts the client
    # and the old one counts a transfer out (reports.sites).
    accepted_on = models.DateField(_("moved on"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            # One open request per client: the second of two supervisors asking at once fails here.
            models.UniqueConstraint(
                fields=["client"], condition=Q(status="requested"), name="transfer_one_open_per_client"
            ),
            models.CheckConstraint(condition=~Q(from_site=F("to_site")), name="transfer_between_two_sites"),
            models.CheckConstraint(
                condition=Q(status="accepted", accepted_on__isnull=False)
                | (~Q(status="accepted") & Q(accepted_on__isnull=True)),
                name="transfer_accepted_is_dated",
            ),
        ]
        indexes = [
            # Which site held a client on a day (reports.sites): the client's accepted moves by day.
            models.Index(
                fields=["client", "accepted_on"], condition=Q(status="accepted"), name="transfer_site_history_idx"
            ),
            # A supervisor's inbox and outbox.
            models.Index(fields=["to_site", "status"], name="transfer_to_site_idx"),
            models.Index(fields=["from_site", "status"], name="transfer_from_site_idx"),
        ]

    def __str__(self):
        return f"{self.client_id}: {self.from_site_id} → {self.to_site_id} ({self.status})"
