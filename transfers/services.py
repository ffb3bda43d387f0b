"""Writes to transfers (SPEC §12.3). Each service is atomic and the only way a transfer
changes; the access log records each row written (cases.audit, this app being logged).

The state machine is the table `TRANSITIONS`. Accepting moves the client in the same
transaction (cases.services.registry.client_move_to_site): the old site's people lose the
client when it commits, the code and the history stay, and the day it moved is kept for
the reports.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import access as cases_access
from cases import audit, outbox
from cases.exceptions import Conflict
from cases.models import Client, ClientStatus, NotificationKind, Role, Site
from cases.services.registry import client_move_to_site

from .models import Transfer, TransferStatus

S = TransferStatus
SUBJECT = "transfers.transfer"

# action: (states it may start from, the state it leads to)
TRANSITIONS = {
    "accept": ((S.REQUESTED,), S.ACCEPTED),
    "decline": ((S.REQUESTED,), S.DECLINED),
}
ILLEGAL_MESSAGES = {
    "accept": gettext_lazy("Only a requested transfer can be accepted; this one is %(status)s."),
    "decline": gettext_lazy("Only a requested transfer can be declined; this one is %(status)s."),
}


def notify_receiving_supervisors(transfers) -> int:
    """`transfer_requested` to each active supervisor of the receiving site of every open
    transfer of the queryset `transfers`, through the outbox: at most once per transfer and
    supervisor (the outbox's unique key), however often this runs."""
    return outbox.insert_notifications(
        transfers.filter(status=S.REQUESTED, to_site__users__role=Role.SUPERVISOR, to_site__users__is_active=True),
        kind=NotificationKind.TRANSFER_REQUESTED,
        subject_type=SUBJECT,
        subject="id",
        recipient_user="to_site__users__id",
        site="to_site_id",
    )


def _client_refusals(client, *, client_requested) -> dict:
    """Why `client` may not move now, by field: checked at the request and again, under the
    client's lock, at acceptance (a client who died, whose case closed or who withdrew consent
    while the request waited does not move)."""
    errors = {}
    if not client_requested and not cases_access.may_share_outside(client):
        errors["client_requested"] = _(
            "The client has not consented to sharing their data (or withdrew consent): a transfer is possible "
            "only when the client asks for it."
        )
    if client.status == ClientStatus.DECEASED:
        errors["client"] = _("A deceased client is not transferred.")
    elif client.closed_on is not None:
        errors["client"] = _("A closed case is not transferred; reopen it first.")
    return errors


@transaction.atomic
def transfer_request(*, actor, client, to_site, reason, client_requested=False) -> Transfer:
    """Ask the supervisors of `to_site` to take `client` (the caller has checked that `actor`
    may: transfers.access.can_request_transfer)."""
    # Lock the client: a consent withdrawn, or a second request, in the same instant waits.
    client = Client.objects.select_for_update(of=("self",)).select_related("site").get(pk=client.pk)
    errors = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the client moves (e.g. where they now live).")
    if to_site.pk == client.site_id:
        errors["to_site"] = _("The client is already at this site.")
    errors.update(_client_refusals(client, client_requested=client_requested))
    if errors:
        raise ValidationError(errors)
    if Transfer.objects.filter(client=client, status=S.REQUESTED).exists():
        raise ValidationError({"client": _("A transfer of this client is already waiting for an answer.")})
    transfer = Transfer(
        client=client,
        from_site_id=client.site_id,
        to_site=to_site,
        reason=reason,
        client_requested=client_requested,
        requested_by=actor,
    )
    transfer.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            audit.save(transfer)
    except IntegrityError:  # the partial unique index: another request won the race
        raise ValidationError({"client": _("A transfer of this client is already waiting for an answer.")}) from None
    notify_receiving_supervisors(Transfer.objects.filter(pk=transfer.pk))
    return transfer


def _required(**values):
    errors = {name: _("This field is required.") for name, value in values.items() if not (value or "").strip()}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def transfer_transition(*, action, transfer, actor, reason="", assigned_social_worker=None) -> Transfer:
    """Take `action` on `transfer`; Conflict if its state does not allow it, nothing changed.
    The caller has checked who may act (transfers.access.can_decide)."""
    if action not in TRANSITIONS:
        raise ValueError(action)
    if action == "decline":
        _required(reason=reason)
    # Lock the row and read its state afresh: of two supervisors answering at once (one
    # accepting, one declining) the second waits here, then sees the first one's answer and
    # gets a Conflict, instead of moving a declined client or declining a moved one.
    transfer = Transfer.objects.select_for_update(of=("self",)).select_related("from_site").get(pk=transfer.pk)
    sources, target = TRANSITIONS[action]
    if transfer.status not in sources:
        raise Conflict(ILLEGAL_MESSAGES[action] % {"status": transfer.get_status_display()})
    transfer.status = target
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    if action == "decline":
        transfer.decline_reason = reason.strip()
    else:
        # The client's lock is taken before its state is read (client_move_to_site takes it
        # again): a death, a closure or a consent withdrawal saved meanwhile is seen here.
        client = Client.objects.select_for_update(of=("self",)).get(pk=transfer.client_id)
        refusals = _client_refusals(client, client_requested=transfer.client_requested)
        if refusals:
            raise Conflict(" ".join(str(message) for message in refusals.values()))
        to_site = Site.objects.get(pk=transfer.to_site_id)
        client_move_to_site(actor=actor, client=transfer.client, site=to_site, social_worker=assigned_social_worker)
        transfer.assigned_social_worker = assigned_social_worker
        transfer.accepted_on = timezone.localdate(transfer.decided_at, timezone=transfer.from_site.tzinfo)
    audit.save(transfer)
    return transfer


def transfer_accept(*, actor, transfer, assigned_social_worker=None) -> Transfer:
    return transfer_transition(
        action="accept", transfer=transfer, actor=actor, assigned_social_worker=assigned_social_worker
    )


def transfer_decline(*, actor, transfer, reason) -> Transfer:
    return transfer_transition(action="decline", transfer=transfer, actor=actor, reason=reason)
