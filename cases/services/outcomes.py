"""Dated outcomes (SPEC §12.1): the one way a client's status changes by hand."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import audit
from cases.models import Client, ClientStatus, ClientStatusEvent, OutcomeStatus
from cases.selectors import ltfu_from


def client_status_now(client) -> str:
    """What the client's latest change made of them (`active` when none)."""
    return _status_on(client, None)


def _status_on(client, day):
    """The status the changes in effect on `day` (None: the latest) made of the client."""
    events = client.status_events.all()
    if day is not None:
        events = events.filter(effective_date__lte=day)
    latest = events.order_by("-effective_date", "-id").first()
    return latest.status if latest else OutcomeStatus.ACTIVE


@transaction.atomic
def client_status_change(*, actor, client, status, effective_date, reason) -> ClientStatusEvent:
    """Record that `client` died, transferred out, stopped or resumed care on `effective_date`.

    A change may be dated before earlier ones: a death learned of late, or a date put right
    (the reports take, on each day, the latest change in effect then). It must change the
    status in effect on its day, and cannot be in the future at the client's site nor before
    the client was born. The client's `status` becomes the latest change's (for `active`, the
    LTFU marker when the refill dates say so today)."""
    # Lock the client: two changes recorded at once must both see the other.
    client = Client.objects.select_for_update(of=("self",)).select_related("site").get(pk=client.pk)
    today = timezone.localdate(timezone=client.site.tzinfo)
    if status not in OutcomeStatus.values:
        raise ValidationError({"status": _("Choose deceased, transferred out, stopped or active.")})
    if effective_date > today:
        raise ValidationError({"effective_date": _("This date cannot be in the future.")})
    if effective_date < client.date_of_birth:
        raise ValidationError({"effective_date": _("This date is before the client's birth date.")})
    if status == _status_on(client, effective_date):
        raise ValidationError({"status": _("On that day the client's status is already this.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why (e.g. who reported it, or where the client went).")})
    event = ClientStatusEvent(
        client=client, status=status, effective_date=effective_date, reason=reason, recorded_by=actor
    )
    event.full_clean()
    audit.save(event)
    latest = _status_on(client, None)
    if latest == OutcomeStatus.ACTIVE:
        lost = client.next_refill_due is not None and ltfu_from(client.next_refill_due, client.site.ltfu_days) <= today
        client.status = ClientStatus.LTFU if lost else ClientStatus.ACTIVE
    else:
        client.status = latest
    client.version += 1
    audit.save(client, update_fields=["status", "version", "updated_at"])
    return event
