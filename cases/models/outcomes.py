"""Dated outcomes (SPEC §12.1): a client's status changes through an action that keeps its
effective date, so that any report can tell who was in care on any day. The client's
`status` column stays a cache of the latest change (and of the LTFU rule, for lists)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .registry import Client, ClientStatus


class OutcomeStatus(models.TextChoices):
    """What an action can make of a client; `ltfu` is never typed, it is derived from dates."""

    ACTIVE = ClientStatus.ACTIVE.value, _("Active (resumed care)")
    DECEASED = ClientStatus.DECEASED.value, ClientStatus.DECEASED.label
    TRANSFERRED_OUT = ClientStatus.TRANSFERRED_OUT.value, ClientStatus.TRANSFERRED_OUT.label
    STOPPED = ClientStatus.STOPPED.value, ClientStatus.STOPPED.label


# Outcomes that take a client out of care from their effective date (until a later `active`).
OUT_OF_CARE = (OutcomeStatus.DECEASED, OutcomeStatus.TRANSFERRED_OUT, OutcomeStatus.STOPPED)


class ClientStatusEvent(models.Model):
    """One change of a client's status, with the day it took effect. Never edited or deleted:
    a mistake is put right by a later change (e.g. `active` with the reason)."""

    client = models.ForeignKey(Client, models.PROTECT, related_name="status_events")
    status = models.CharField(_("status"), max_length=20, choices=OutcomeStatus.choices)
    effective_date = models.DateField(_("effective date"))
    reason = models.CharField(_("reason"), max_length=500)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["effective_date", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [models.Index(fields=["client", "effective_date"], name="status_event_client_day_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutcomeStatus.values), name="status_event_status_valid"),
        ]

    def __str__(self):
        return f"{self.client_id} {self.status} {self.effective_date}"
