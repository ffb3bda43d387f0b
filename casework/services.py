"""Writes of the case-management cycle. Each is atomic; the access log records every row
written (cases.audit, casework is among the logged apps), the client's own closure fields
with them."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import audit
from cases.exceptions import Conflict
from cases.models import Client, ClientStatus, ClosureReason
from cases.services.outcomes import client_status_change, client_status_now

from . import access
from .models import (
    DOMAINS,
    MAX_NOTE,
    Action,
    ActionStatus,
    Assessment,
    AssessmentKind,
    ClientClosure,
    Goal,
    GoalStatus,
    Plan,
    Review,
    SocialProtection,
    score_field,
)

# Closing a case for these reasons also dates the client's status (SPEC §12.2).
CLOSURE_STATUS = {ClosureReason.DECEASED: ClientStatus.DECEASED, ClosureReason.MOVED: ClientStatus.TRANSFERRED_OUT}
ACTION_FIELDS = ("description", "owner", "due_date", "status", "referral", "service_record", "enrolment")
GOAL_FIELDS = ("domain", "description", "status")
SOCIAL_PROTECTION_FIELDS = (
    "bpjs_membership",
    "bpjs_number",
    "has_ktp",
    "has_kk",
    "pkh_since",
    "pkh_until",
    "bpnt_since",
    "bpnt_until",
    "other_assistance",
    "other_since",
    "other_until",
)


def site_today(site):
    return timezone.localdate(timezone=site.tzinfo)


def _lock_client(client) -> Client:
    return Client.objects.select_for_update(of=("self",)).select_related("site").get(pk=client.pk)


def _refuse_closed(client, field="client"):
    if client.closed_on is not None:
        raise ValidationError({field: _("This case is closed; reopen it first.")})


def _check_day(client, day, field):
    if day > site_today(client.site):
        raise ValidationError({field: _("This date cannot be in the future.")})
    if day < client.consent_date:
        raise ValidationError({field: _("This date is before the client's consent.")})


# --- assessments ----------------------------------------------------------------------------------


def _clean_scores(scores, notes):
    errors = {}
    scores = scores or {}
    missing = [d for d in DOMAINS if d not in scores]
    unknown = sorted(set(scores) - set(DOMAINS)) + sorted(set(notes or {}) - set(DOMAINS))
    if missing:
        errors["scores"] = _("Score every domain: %(domains)s are missing.") % {"domains": ", ".join(missing)}
    elif unknown:
        errors["scores"] = _("Unknown domains: %(domains)s.") % {"domains": ", ".join(unknown)}
    elif any(type(scores[d]) is not int or not 1 <= scores[d] <= 4 for d in DOMAINS):
        errors["scores"] = _("Each score is a whole number from 1 (severe need) to 4 (no need).")
    notes = {d: str(text).strip() for d, text in (notes or {}).items() if str(text).strip()}
    if any(len(text) > MAX_NOTE for text in notes.values()):
        errors["notes"] = _("A note is at most %(n)s characters.") % {"n": MAX_NOTE}
    if errors:
        raise ValidationError(errors)
    return notes


@transaction.atomic
def assessment_record(*, actor, client, assessed_on, scores, notes=None) -> Assessment:
    """Record an assessment; the client's first is the initial one, every later one a review's."""
    # Lock the client: two first assessments recorded at once must not both be "initial".
    client = _lock_client(client)
    _refuse_closed(client)
    _check_day(client, assessed_on, "assessed_on")
    notes = _clean_scores(scores, notes)
    first = not Assessment.objects.filter(client=client).exists()
    assessment = Assessment(
        client=client,
        assessed_on=assessed_on,
        assessor=actor,
        kind=AssessmentKind.INITIAL if first else AssessmentKind.REVIEW,
        notes=notes,
        **{score_field(d): scores[d] for d in DOMAINS},
    )
    assessment.full_clean()
    audit.save(assessment)
    return assessment


# --- plans, goals, actions --------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, actor, client, started_on=None) -> Plan:
    client = _lock_client(client)
    _refuse_closed(client)
    started_on = started_on or site_today(client.site)
    _check_day(client, started_on, "started_on")
    if Plan.objects.filter(client=client, ended_on__isnull=True).exists():
        raise ValidationError({"client": _("This client already has a current plan: add goals to it.")})
    plan = Plan(client=client, started_on=started_on, created_by=actor)
    plan.full_clean(validate_constraints=False)
    audit.save(plan)
    return plan


def _refuse_ended(plan, field="plan"):
    if plan.ended_on is not None:
        raise ValidationError({field: _("This plan has ended (the case was closed).")})


@transaction.atomic
def goal_create(*, actor, plan, domain, description, status=GoalStatus.OPEN) -> Goal:
    plan = Plan.objects.select_for_update().select_related("client__site").get(pk=plan.pk)
    _refuse_ended(plan)
    goal = Goal(plan=plan, client=plan.client, domain=domain, description=description, status=status, created_by=actor)
    goal.full_clean()
    audit.save(goal)
    return goal


@transaction.atomic
def goal_update(*, actor, goal, **fields) -> Goal:
    goal = Goal.objects.select_for_update(of=("self",)).select_related("plan").get(pk=goal.pk)
    _refuse_ended(goal.plan, "status")
    for name, value in fields.items():
        if name in GOAL_FIELDS:
            setattr(goal, name, value)
    goal.full_clean()
    audit.save(goal)
    return goal


def _validate_action(action):
    client = action.client
    errors = {}
    if not access.may_own_action(action.owner, client):
        errors["owner"] = _("Give the action to a field worker or volunteer who looks after this client.")
    for name in ("referral", "service_record", "enrolment"):
        linked = getattr(action, name)
        if linked is not None and linked.client_id != client.pk:
            errors[name] = _("This record is about another client.")
    if errors:
        raise ValidationError(errors)
    action.full_clean(validate_constraints=False)


@transaction.atomic
def action_create(*, actor, goal, **fields) -> Action:
    goal = Goal.objects.select_for_update(of=("self",)).select_related("plan", "client__site").get(pk=goal.pk)
    _refuse_ended(goal.plan, "goal")
    fields = {k: v for k, v in fields.items() if k in ACTION_FIELDS}
    action = Action(goal=goal, client=goal.client, created_by=actor, **fields)
    if action.status == ActionStatus.DONE:
        action.done_on = site_today(goal.client.site)
    _validate_action(action)
    audit.save(action)
    return action


def actions_hand_over(*, actor, client) -> int:
    """Open actions of `client`'s current plan whose owner no longer reads the client (cases
    calls this when reach changes: a transfer, a reassignment, a group left, consent withdrawn)
    go to the client's social worker, or else to `actor` if they may hold them. Left with
    nobody who may, they stay, and no reminder tells the old owner of them."""
    heir = next((u for u in (client.assigned_social_worker, actor) if access.may_own_action(u, client)), None)
    if heir is None:
        return 0
    stranded = Action.objects.filter(
        client=client, status=ActionStatus.OPEN, goal__plan__ended_on__isnull=True
    ).exclude(access.owner_reaches_client())
    return audit.logged_update(stranded, owner=heir, version=F("version") + 1, updated_at=timezone.now())


@transaction.atomic
def action_update(*, actor, action, version=None, **fields) -> Action:
    # Lock the row: a volunteer ticking it done while the worker edits it must not both pass
    # the version check.
    action = (
        Action.objects.select_for_update(of=("self",)).select_related("goal__plan", "client__site").get(pk=action.pk)
    )
    if version is not None and version != action.version:
        raise Conflict(_("This action was changed by someone else; reload and try again."))
    allowed = access.action_fields_for(actor, action)
    refused = sorted(
        name
        for name, value in fields.items()
        if name in ACTION_FIELDS and name not in allowed and getattr(action, name) != value
    )
    if refused:
        raise ValidationError({name: _("You may not change this field.") for name in refused})
    _refuse_ended(action.goal.plan, "status")
    changed = False
    for name, value in fields.items():
        if name in ACTION_FIELDS and getattr(action, name) != value:
            setattr(action, name, value)
            changed = True
    if not changed:
        return action
    if action.status == ActionStatus.DONE and action.done_on is None:
        action.done_on = site_today(action.client.site)
    elif action.status != ActionStatus.DONE:
        action.done_on = None
    _validate_action(action)
    action.version += 1
    audit.save(action)
    return action


# --- reviews ------------------------------------------------------------------------------------------


@transaction.atomic
def review_record(*, actor, client, assessment, note) -> Review:
    client = _lock_client(client)
    _refuse_closed(client)
    errors = {}
    note = (note or "").strip()
    if assessment.client_id != client.pk:
        errors["assessment"] = _("This assessment is about another client.")
    elif assessment.kind != AssessmentKind.REVIEW:
        errors["assessment"] = _("A review rests on a reassessment, not on the initial assessment.")
    elif Review.objects.filter(assessment=assessment).exists():
        errors["assessment"] = _("This reassessment already has its review.")
    if not note:
        errors["note"] = _("Say what changed and what comes next.")
    if errors:
        raise ValidationError(errors)
    review = Review(client=client, assessment=assessment, note=note, reviewed_by=actor)
    review.full_clean(validate_unique=False)
    audit.save(review)
    return review


@transaction.atomic
def review_sign_off(*, actor, review) -> Review:
    # Lock the row: two supervisors signing at once must not both sign.
    review = Review.objects.select_for_update(of=("self",)).select_related("client").get(pk=review.pk)
    if review.signed_off_at is not None:
        raise Conflict(_("This review is already signed off."))
    if review.reviewed_by_id == actor.pk:
        raise ValidationError({"review": _("Another supervisor signs off a review you wrote yourself.")})
    review.signed_off_by = actor
    review.signed_off_at = timezone.now()
    audit.save(review, update_fields=["signed_off_by", "signed_off_at"])
    return review


# --- closure and reopening ----------------------------------------------------------------------------


@transaction.atomic
def client_close(*, actor, client, reason, closed_on, note="") -> ClientClosure:
    """Close the case (terminasi): the current plan ends that day; a death or a move also
    dates the client's status, as the status action does."""
    # Lock the client: a close and a reopen at once must see each other.
    client = _lock_client(client)
    if client.closed_on is not None:
        raise Conflict(_("This case is already closed."))
    if reason not in ClosureReason.values:
        raise ValidationError({"reason": _("Choose a reason.")})
    _check_day(client, closed_on, "closed_on")
    note = (note or "").strip()
    plan = Plan.objects.select_for_update().filter(client=client, ended_on__isnull=True).first()
    if plan is not None and closed_on < plan.started_on:
        raise ValidationError({"closed_on": _("The current plan started after this date.")})
    status = CLOSURE_STATUS.get(reason)
    if status is not None and client_status_now(client) != status:
        label = ClosureReason(reason).label
        client_status_change(
            actor=actor,
            client=client,
            status=status,
            effective_date=closed_on,
            reason=_("Case closed: %(reason)s. %(note)s") % {"reason": label, "note": note},
        )
        client.refresh_from_db()
    closure = ClientClosure(client=client, closed_on=closed_on, reason=reason, note=note, closed_by=actor)
    closure.full_clean(validate_constraints=False)
    audit.save(closure)
    if plan is not None:
        plan.ended_on = closed_on
        audit.save(plan, update_fields=["ended_on"])
    client.closed_on, client.closure_reason = closed_on, reason
    client.version += 1
    audit.save(client, update_fields=["closed_on", "closure_reason", "version", "updated_at"])
    return closure


@transaction.atomic
def client_reopen(*, actor, client, note) -> ClientClosure:
    """Reopen a closed case; its closure stays in the history with the reopening."""
    client = _lock_client(client)
    if client.closed_on is None:
        raise Conflict(_("This case is not closed."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the case is reopened.")})
    closure = ClientClosure.objects.select_for_update().get(client=client, reopened_on__isnull=True)
    closure.reopened_on = max(site_today(client.site), closure.closed_on)
    closure.reopen_note = note
    closure.reopened_by = actor
    audit.save(closure, update_fields=["reopened_on", "reopen_note", "reopened_by"])
    client.closed_on, client.closure_reason = None, ""
    client.version += 1
    audit.save(client, update_fields=["closed_on", "closure_reason", "version", "updated_at"])
    return closure


# --- social protection ----------------------------------------------------------------------------------


@transaction.atomic
def social_protection_set(*, actor, client, version=None, **fields) -> SocialProtection:
    """Create or change the client's social protection."""
    client = _lock_client(client)
    record = SocialProtection.objects.select_for_update().filter(client=client).first()
    if record is None:
        record = SocialProtection(client=client, updated_by=actor, version=0)
    elif version is not None and version != record.version:
        raise Conflict(_("This record was changed by someone else; reload and try again."))
    for name, value in fields.items():
        if name in SOCIAL_PROTECTION_FIELDS:
            setattr(record, name, value)
    if record.bpjs_membership in ("", "none") and record.bpjs_number:
        raise ValidationError({"bpjs_number": _("A BPJS number goes with a BPJS membership.")})
    today = site_today(client.site)
    errors = {}
    for prefix in ("pkh", "bpnt", "other"):
        since, until = getattr(record, f"{prefix}_since"), getattr(record, f"{prefix}_until")
        if since is not None and since > today:
            errors[f"{prefix}_since"] = _("This date cannot be in the future.")
        if since is not None and until is not None and until < since:
            errors[f"{prefix}_until"] = _("The end cannot come before the start.")
    if errors:
        raise ValidationError(errors)
    record.updated_by = actor
    record.version += 1
    record.full_clean(exclude=["client"], validate_constraints=False)
    audit.save(record)
    return record
