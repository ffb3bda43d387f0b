"""Writes to referrals. Each service is atomic and the only way a referral changes.

The state machine of SPEC §5 is the table `TRANSITIONS`; every step writes a
`ReferralEvent` (actor, time, note) in the same transaction. Completing takes an
`outcome` (what happened) and a `result`: `completed` when the service was delivered,
`not_completed` when the client did not come or the service could not be given.
"""

import secrets
import uuid

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import access as cases_access
from cases import audit
from cases.exceptions import Conflict
from cases.models import Client, FacilityKind, Role, User

from . import access
from .models import (
    FacilityTeam,
    Referral,
    ReferralEvent,
    ReferralGroupObjectPermission,
    ReferralStatus,
)

S = ReferralStatus

# action: (states it may start from, the state it leads to, the side that may take it)
TRANSITIONS = {
    "send": ((S.DRAFT,), S.SENT, "sender"),
    "accept": ((S.SENT,), S.ACCEPTED, "facility"),
    "decline": ((S.SENT,), S.DECLINED, "facility"),
    "complete": ((S.ACCEPTED,), S.COMPLETED, "facility"),  # or NOT_COMPLETED, by `result`
    "cancel": ((S.DRAFT, S.SENT, S.ACCEPTED), S.CANCELLED, "sender"),
}
ACTIONS = tuple(TRANSITIONS)


def referral_steps_open(referral, *, sides) -> list:
    """The steps open to `sides` ({"sender": bool, "facility": bool}, e.g. from
    `access.referral_sides`) in the referral's present state, in the table's order."""
    return [
        name for name, (sources, _target, side) in TRANSITIONS.items() if referral.status in sources and sides.get(side)
    ]


RESULTS = (S.COMPLETED, S.NOT_COMPLETED)

ILLEGAL_MESSAGES = {
    "send": gettext_lazy("Only a draft referral can be sent; this one is %(status)s."),
    "accept": gettext_lazy("Only a sent referral can be accepted; this one is %(status)s."),
    "decline": gettext_lazy("Only a sent referral can be declined; this one is %(status)s."),
    "complete": gettext_lazy("Only an accepted referral can be completed; this one is %(status)s."),
    "cancel": gettext_lazy("This referral is already closed (%(status)s) and cannot be cancelled."),
}


# --- facility teams ------------------------------------------------------------------------------


@transaction.atomic
def facility_team_for(facility) -> FacilityTeam:
    """The facility's team (its auth group), made on first use."""
    team = FacilityTeam.objects.filter(facility=facility).first()
    if team is None:
        group = Group.objects.create(name=f"facility-team-{uuid.uuid4()}")
        try:
            with transaction.atomic():
                team = audit.create(FacilityTeam, facility=facility, auth_group=group)
        except IntegrityError:  # another send made it in the same instant
            group.delete()
            team = FacilityTeam.objects.get(facility=facility)
    return team


def facility_team_sync(team) -> None:
    """Make the team's auth group hold exactly the active staff of its facility.

    The policy itself joins grants to the account's `facility`; this keeps guardian's
    `has_perm` and the admin telling the same story. Run at every send.
    """
    staff = User.objects.filter(role=Role.FACILITY_STAFF, facility_id=team.facility_id, is_active=True)
    team.auth_group.user_set.set(staff)


def _grant_to_facility(referral):
    team = facility_team_for(referral.to_facility)
    facility_team_sync(team)
    permissions = Permission.objects.filter(
        content_type__app_label="referrals", codename__in=(access.VIEW, access.RESPOND)
    )
    ReferralGroupObjectPermission.objects.bulk_create(
        [
            ReferralGroupObjectPermission(content_object=referral, group=team.auth_group, permission=p)
            for p in permissions
        ],
        ignore_conflicts=True,
    )


# --- drafts ----------------------------------------------------------------------------------------


def _site_today(client):
    return timezone.localdate(timezone=client.site.tzinfo)


def _validate(referral):
    errors = {}
    services = referral.to_facility.services or []
    if services and referral.service not in services:
        errors["service"] = _("%(facility)s does not offer this service.") % {"facility": referral.to_facility.name}
    if referral.due_date is not None and referral.due_date < _site_today(referral.client):
        errors["due_date"] = _("The due date cannot be in the past.")
    if not (referral.reason or "").strip():
        errors["reason"] = _("Say why the client is referred.")
    if errors:
        raise ValidationError(errors)
    referral.full_clean(exclude=["client", "from_user", "from_group", "to_facility"])


@transaction.atomic
def referral_create(*, actor, client, to_facility, service, reason, urgency="normal", due_date=None) -> Referral:
    referral = Referral(
        client=client,
        from_user=actor,
        from_group=access.sender_groups(actor, client).first() if actor.role == Role.VOLUNTEER else None,
        to_facility=to_facility,
        service=service,
        reason=reason,
        urgency=urgency,
        due_date=due_date,
    )
    _validate(referral)
    audit.save(referral)
    audit.create(ReferralEvent, referral=referral, status=S.DRAFT, actor=actor, at=referral.created_at)
    return referral


@transaction.atomic
def referral_update(*, actor, referral, version=None, **fields) -> Referral:
    """Change a draft. Locked: an edit racing a send must not change what was sent."""
    referral = Referral.objects.select_for_update(of=("self",)).select_related("client__site").get(pk=referral.pk)
    if referral.status != S.DRAFT:
        raise Conflict(_("Only a draft referral can be changed; this one is %(status)s.") % {"status": referral.status})
    if version is not None and version != referral.version:
        raise Conflict(_("This referral was changed by someone else; reload and try again."))
    for name, value in fields.items():
        setattr(referral, name, value)
    _validate(referral)
    referral.version = F("version") + 1
    audit.save(referral)
    referral.refresh_from_db()
    return referral


# --- the state machine -----------------------------------------------------------------------------


def _check_consent(client, facility):
    """Outside facilities receive a client only with consent to share (SPEC §4, §7)."""
    if facility.kind == FacilityKind.CENTRE_SERVICE:
        return
    if not cases_access.may_share_outside(client):
        raise ValidationError(
            {
                "client": _(
                    "The client has not consented to sharing with outside facilities (or withdrew consent): "
                    "this referral can only go to a centre service."
                )
            }
        )


def _required_text(**values):
    errors = {name: _("This field is required.") for name, value in values.items() if not (value or "").strip()}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def referral_transition(
    *, action, referral, actor=None, via_link=False, note="", reason="", outcome="", result=S.COMPLETED
) -> Referral:
    """Take `action` on `referral`; Conflict if its state does not allow it, nothing changed.

    The caller has checked who may act (referrals.access, or a valid facility link).
    """
    if action not in TRANSITIONS:
        raise ValueError(action)
    if action in ("decline", "cancel"):
        _required_text(reason=reason)
    if action == "complete":
        _required_text(outcome=outcome)
        if result not in RESULTS:
            raise ValidationError({"result": _("Choose completed or not_completed.")})
    # Lock the row and read its state afresh: of two people acting at once (two clinic staff
    # accepting, a clinic declining while the sender cancels) the second waits here, then
    # sees the first one's state and gets a Conflict instead of overwriting it.
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("client__site", "to_facility")
        .get(pk=referral.pk)
    )
    sources, target, _side = TRANSITIONS[action]
    if referral.status not in sources:
        raise Conflict(ILLEGAL_MESSAGES[action] % {"status": referral.get_status_display()})
    now = timezone.now()
    if action == "send":
        # Locks the client too: consent withdrawn in the same instant cannot slip past.
        client = Client.objects.select_for_update().get(pk=referral.client_id)
        _check_consent(client, referral.to_facility)
        referral.sent_at = now
        referral.link_nonce = secrets.token_urlsafe(16)
        _grant_to_facility(referral)
    elif action == "accept":
        referral.accepted_at = now
    elif action == "complete":
        target = result
        referral.outcome = outcome
    if target in (S.DECLINED, S.COMPLETED, S.NOT_COMPLETED, S.CANCELLED):
        referral.closed_at = now
    if target == S.CANCELLED:
        referral.link_nonce = ""  # a cancelled referral's link is revoked
    referral.status = target
    referral.version += 1
    audit.save(referral)
    event_note = "\n".join(text for text in (reason or outcome, note) if text and text.strip())
    audit.create(
        ReferralEvent, referral=referral, status=target, actor=actor, via_link=via_link, at=now, note=event_note
    )
    return referral


def referral_send(*, actor, referral, note="") -> Referral:
    return referral_transition(action="send", referral=referral, actor=actor, note=note)


def referral_accept(*, actor, referral, note="", via_link=False) -> Referral:
    return referral_transition(action="accept", referral=referral, actor=actor, note=note, via_link=via_link)


def referral_decline(*, actor, referral, reason, note="", via_link=False) -> Referral:
    return referral_transition(
        action="decline", referral=referral, actor=actor, reason=reason, note=note, via_link=via_link
    )


def referral_complete(*, actor, referral, outcome, result=S.COMPLETED, note="", via_link=False) -> Referral:
    return referral_transition(
        action="complete", referral=referral, actor=actor, outcome=outcome, result=result, note=note, via_link=via_link
    )


def referral_cancel(*, actor, referral, reason, note="") -> Referral:
    return referral_transition(action="cancel", referral=referral, actor=actor, reason=reason, note=note)


CONSENT_WITHDRAWN_REASON = "consent withdrawn"


def referrals_stop_for_withdrawn_consent(*, actor, client) -> int:
    """Withdrawn consent (SPEC §12.5): the client's open referrals to outside facilities are
    cancelled (reason "consent withdrawn") and every link to an outside facility dies, also
    of referrals already closed; facility staff lose sight of the client through
    referrals.access. How many were cancelled."""

    outside = Referral.objects.filter(client_id=client.pk).exclude(to_facility__kind=FacilityKind.CENTRE_SERVICE)
    cancelled = 0
    for referral in outside.filter(status__in=TRANSITIONS["cancel"][0]).order_by("pk"):
        referral_transition(action="cancel", referral=referral, actor=actor, reason=CONSENT_WITHDRAWN_REASON)
        cancelled += 1
    audit.logged_update(outside.exclude(link_nonce=""), link_nonce="")
    return cancelled
