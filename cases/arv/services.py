"""Refills, viral loads and tracing."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import audit
from cases.exceptions import Conflict
from cases.models import (
    Client,
    ClientStatus,
    Refill,
    Tracing,
    TracingAttempt,
    TracingOutcome,
    TracingStatus,
    ViralLoad,
)
from cases.models.arv import FINAL_TRACING_OUTCOMES, VL_SUPPRESSION_THRESHOLD
from cases.selectors import ltfu_from
from cases.services.outcomes import client_status_change, client_status_now


def _site_today(client):
    return timezone.localdate(timezone=client.site.tzinfo)


def _validate_clinical_date(client, field, value):
    if value > _site_today(client):
        raise ValidationError({field: _("This date cannot be in the future.")})
    if value < client.date_of_birth:
        raise ValidationError({field: _("This date is before the client's birth date.")})


@transaction.atomic
def refill_record(*, actor, client, facility, pickup_date, days_supplied, missed_doses=0) -> Refill:
    """Record an ARV pick-up. When it is the latest pick-up it moves the client's next due
    date, closes an open tracing and brings a client marked lost to follow-up back to active;
    an older pick-up entered late only completes the history. Either is a return to treatment
    when the refill before it had lapsed past the site's LTFU days."""
    # Lock the client: two refills recorded at once must not both read the old due date.
    client = Client.objects.select_for_update(of=("self",)).select_related("site", "last_refill").get(pk=client.pk)
    _validate_clinical_date(client, "pickup_date", pickup_date)
    is_latest = client.last_refill is None or pickup_date >= client.last_refill.pickup_date
    # A return to treatment: the client was lost to follow-up the day before, by the refill
    # picked up before this one (SPEC §12.1, the rule of cases.selectors.ltfu_from).
    previous = client.refills.filter(pickup_date__lte=pickup_date).order_by("-pickup_date", "-id").first()
    returned = previous is not None and ltfu_from(previous.next_due, client.site.ltfu_days) < pickup_date
    refill = Refill(
        client=client,
        facility=facility,
        pickup_date=pickup_date,
        days_supplied=days_supplied,
        next_due=pickup_date + timedelta(days=days_supplied),
        missed_doses=missed_doses,
        returned_to_treatment=returned,
        recorded_by=actor,
    )
    refill.full_clean()
    audit.save(refill)
    if not is_latest:
        return refill
    client.last_refill, client.next_refill_due = refill, refill.next_due
    changed = ["last_refill", "next_refill_due", "updated_at"]
    if client.status == ClientStatus.LTFU:
        client.status = ClientStatus.ACTIVE
        client.version += 1
        changed += ["status", "version"]
    audit.save(client, update_fields=changed)
    audit.logged_update(
        Tracing.objects.filter(client=client, status=TracingStatus.OPEN),
        status=TracingStatus.CLOSED,
        closed_on=pickup_date,
        close_reason="refill",
    )
    return refill


@transaction.atomic
def viral_load_record(*, actor, client, sample_date, copies_per_ml) -> ViralLoad:
    client = Client.objects.select_related("site").get(pk=client.pk)
    _validate_clinical_date(client, "sample_date", sample_date)
    result = ViralLoad(
        client=client,
        sample_date=sample_date,
        copies_per_ml=copies_per_ml,
        suppressed=copies_per_ml < VL_SUPPRESSION_THRESHOLD,
        recorded_by=actor,
    )
    result.full_clean()
    audit.save(result)
    return result


@transaction.atomic
def tracing_claim(*, actor, tracing) -> Tracing:
    """Take a tracing task. One person at a time: the conditional UPDATE decides who wins
    when two claim together, and the loser gets a Conflict (409)."""
    claimed = audit.logged_update(
        Tracing.objects.filter(pk=tracing.pk, status=TracingStatus.OPEN).filter(
            Q(claimed_by__isnull=True) | Q(claimed_by=actor)
        ),
        claimed_by=actor,
        claimed_at=timezone.now(),
    )
    if not claimed:
        raise Conflict(_("This tracing task is closed or already taken by someone else."))
    return Tracing.objects.get(pk=tracing.pk)


@transaction.atomic
def tracing_record_attempt(*, actor, tracing, method, outcome, note="") -> TracingAttempt:
    """Log one attempt to find the client; `deceased` and `transferred` close the task and
    set the client's status. An unclaimed task is claimed by whoever records an attempt."""
    tracing = Tracing.objects.select_for_update().get(pk=tracing.pk)
    if tracing.status != TracingStatus.OPEN:
        raise Conflict(_("This tracing task is closed."))
    if tracing.claimed_by_id not in (None, actor.pk):
        raise Conflict(_("This tracing task is taken by someone else."))
    attempt = TracingAttempt(tracing=tracing, made_by=actor, method=method, outcome=outcome, note=note)
    attempt.full_clean()
    audit.save(attempt)
    tracing.claimed_by, tracing.claimed_at = actor, tracing.claimed_at or timezone.now()
    final_status = FINAL_TRACING_OUTCOMES.get(outcome)
    if final_status:
        tracing.status = TracingStatus.CLOSED
        tracing.closed_on = timezone.localdate(timezone=tracing.client.site.tzinfo)
        tracing.close_reason = outcome
    audit.save(tracing)
    if final_status and client_status_now(tracing.client) != final_status:
        # The finding is the dated outcome, as of the day it was recorded.
        client_status_change(
            actor=actor,
            client=tracing.client,
            status=final_status,
            effective_date=tracing.closed_on,
            reason=_("Tracing outcome: %(outcome)s.") % {"outcome": TracingOutcome(outcome).label}
            + (f" {note}" if note else ""),
        )
    return attempt
