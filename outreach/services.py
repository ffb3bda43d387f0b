"""Writes for outreach: visits (with corrections), meetings, services and incidents."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import audit
from cases.exceptions import Conflict
from cases.models import Tracing, TracingAttempt, TracingOutcome, TracingStatus
from cases.models.registry import latest_today

from . import access
from .models import (
    DEFAULT_INCIDENT_TARGETS,
    OPEN_INCIDENT_STATUSES,
    VISIT_CORRECTABLE_FIELDS,
    HomeVisit,
    HomeVisitRevision,
    Incident,
    IncidentEvent,
    IncidentStatus,
    IncidentTarget,
    Meeting,
    ServiceRecord,
    VisitKind,
)

# --- visits -------------------------------------------------------------------------------------


def _validate_visit(visit, *, actor):
    errors = {}
    if visit.visited_at > timezone.now() + timedelta(minutes=5):
        errors["visited_at"] = _("A visit cannot be in the future.")
    elif timezone.localdate(visit.visited_at, visit.client.site.tzinfo) < visit.client.consent_date:
        # The programme accompanies a client from their consent on; this also keeps out
        # centuries-old dates whose local-mean-time offsets no client of the API can parse.
        errors["visited_at"] = _("A visit cannot be before the client's consent date.")
    if visit.kind not in access.visit_kinds_allowed(actor):
        errors["kind"] = _("Volunteers record outreach contacts and phone calls.")
    if visit.next_visit_date and visit.next_visit_date < timezone.localdate(visit.visited_at, visit.client.site.tzinfo):
        errors["next_visit_date"] = _("The next visit cannot be before this one.")
    if errors:
        raise ValidationError(errors)
    visit.full_clean()


@transaction.atomic
def visit_record(*, actor, client, **fields) -> HomeVisit:
    """Record a visit. It closes the client's open tracing task: the client has been found."""
    visit = HomeVisit(client=client, visitor=actor, **fields)
    _validate_visit(visit, actor=actor)
    audit.save(visit)
    tracing = Tracing.objects.select_for_update().filter(client=client, status=TracingStatus.OPEN).first()
    if tracing is not None:
        method = "phone" if visit.kind == VisitKind.PHONE else "home"
        audit.create(
            TracingAttempt,
            tracing=tracing,
            made_by=actor,
            method=method,
            outcome=TracingOutcome.REACHED,
            note=_("Visit recorded."),
        )
        audit.logged_update(
            Tracing.objects.filter(pk=tracing.pk),
            status=TracingStatus.CLOSED,
            closed_on=timezone.localdate(visit.visited_at, client.site.tzinfo),
            close_reason="visit",
            claimed_by=tracing.claimed_by or actor,
        )
    return visit


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def visit_correct(*, actor, visit, version=None, **fields) -> HomeVisit:
    """Correct a visit, keeping who changed what from what to what."""
    # Lock the row: two corrections at once must not both pass the version check.
    visit = HomeVisit.objects.select_for_update().select_related("client__site").get(pk=visit.pk)
    if not access.may_correct_visit(actor, visit, now=timezone.now()):
        raise Conflict(_("The 48 hours to correct this visit have passed; ask a supervisor."))
    if version is not None and version != visit.version:
        raise Conflict(_("This visit was changed by someone else; reload and try again."))
    before, after = {}, {}
    for name, value in fields.items():
        if name in VISIT_CORRECTABLE_FIELDS and getattr(visit, name) != value:
            before[name], after[name] = _jsonable(getattr(visit, name)), _jsonable(value)
            setattr(visit, name, value)
    if not after:
        return visit
    _validate_visit(visit, actor=visit.visitor if actor.pk == visit.visitor_id else actor)
    visit.version += 1
    audit.save(visit)
    audit.create(HomeVisitRevision, visit=visit, changed_by=actor, before=before, after=after)
    return visit


# --- meetings and services -----------------------------------------------------------------------


def _validate_meeting(meeting, attendees):
    if meeting.date > latest_today():
        raise ValidationError({"date": _("This date cannot be in the future.")})
    facilitator = meeting.facilitator
    if facilitator is not None and facilitator.site_id != meeting.support_group.site_id:
        raise ValidationError({"facilitator": _("The facilitator must work at the group's site.")})
    members = set(meeting.support_group.clients.values_list("pk", flat=True))
    outside = sorted(c.code for c in attendees if c.pk not in members)
    if outside:
        raise ValidationError({"attendees": _("Not clients of this group: %(codes)s") % {"codes": ", ".join(outside)}})
    meeting.full_clean()


@transaction.atomic
def meeting_record(*, actor, support_group, attendees=(), **fields) -> Meeting:
    meeting = Meeting(support_group=support_group, recorded_by=actor, **fields)
    _validate_meeting(meeting, attendees)
    audit.save(meeting)
    audit.set_m2m(meeting, "attendees", attendees)
    return meeting


@transaction.atomic
def meeting_update(*, actor, meeting, attendees=None, **fields) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    for name, value in fields.items():
        setattr(meeting, name, value)
    attendees = list(meeting.attendees.all()) if attendees is None else attendees
    _validate_meeting(meeting, attendees)
    audit.save(meeting)
    audit.set_m2m(meeting, "attendees", attendees)
    return meeting


@transaction.atomic
def service_record(*, actor, client, **fields) -> ServiceRecord:
    record = ServiceRecord(client=client, provider=actor, **fields)
    if record.date > timezone.localdate(timezone=client.site.tzinfo):
        raise ValidationError({"date": _("This date cannot be in the future.")})
    record.full_clean()
    audit.save(record)
    return record


# --- incidents -------------------------------------------------------------------------------------


def incident_targets(site, urgency):
    """(acknowledge within, resolve within) for this site and urgency."""
    target = IncidentTarget.objects.filter(site=site, urgency=urgency).first()
    if target is None:
        return DEFAULT_INCIDENT_TARGETS[urgency]
    return timedelta(minutes=target.acknowledge_minutes), timedelta(minutes=target.resolve_minutes)


def _validate_responders(site, responders):
    if any(r.site_id != site.pk for r in responders):
        raise ValidationError({"responders": _("Responders must work at the incident's site.")})


@transaction.atomic
def incident_report(*, actor, site, responders=(), **fields) -> Incident:
    """Intake by any staff member, also for someone who is not a client (name and phone)."""
    now = timezone.now()
    incident = Incident(site=site, reported_by=actor, reported_at=now, **fields)
    if incident.client_id and incident.client.site_id != site.pk:
        raise ValidationError({"client": _("The client is not of this site.")})
    if not incident.client_id and not incident.reporter_name:
        raise ValidationError({"reporter_name": _("Name the person concerned, or choose a client.")})
    ack, resolve = incident_targets(site, incident.urgency)
    incident.ack_due_at, incident.resolve_due_at = now + ack, now + resolve
    _validate_responders(site, responders)
    incident.full_clean()
    audit.save(incident)
    audit.set_m2m(incident, "responders", responders)
    audit.create(IncidentEvent, incident=incident, status=incident.status, actor=actor, at=now)
    return incident


@transaction.atomic
def incident_update(*, actor, incident, version=None, responders=None, **fields) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if version is not None and version != incident.version:
        raise Conflict(_("This incident was changed by someone else; reload and try again."))
    if incident.status not in OPEN_INCIDENT_STATUSES + (IncidentStatus.RESOLVED,):
        raise Conflict(_("A closed or cancelled incident cannot be changed."))
    for name, value in fields.items():
        setattr(incident, name, value)
    incident.version += 1
    incident.full_clean()
    audit.save(incident)
    if responders is not None:
        _validate_responders(incident.site, responders)
        audit.set_m2m(incident, "responders", responders)
    return incident


# action → (states it may start from, state it leads to, timestamp it sets)
INCIDENT_TRANSITIONS = {
    "acknowledge": ((IncidentStatus.REPORTED,), IncidentStatus.ACKNOWLEDGED, "acknowledged_at"),
    "respond": ((IncidentStatus.REPORTED, IncidentStatus.ACKNOWLEDGED), IncidentStatus.RESPONDING, "responding_at"),
    "resolve": ((IncidentStatus.RESPONDING,), IncidentStatus.RESOLVED, "resolved_at"),
    "close": ((IncidentStatus.RESOLVED,), IncidentStatus.CLOSED, "closed_at"),
    "cancel": (OPEN_INCIDENT_STATUSES, IncidentStatus.CANCELLED, "cancelled_at"),
}


@transaction.atomic
def incident_transition(*, actor, incident, action, note="", reason="", outcome="") -> Incident:
    """Move an incident along SPEC §5; an illegal move is a Conflict and changes nothing."""
    sources, target, stamp = INCIDENT_TRANSITIONS[action]
    # Lock the row: two responders pressing the same button must not both move it.
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status not in sources:
        raise Conflict(
            _("An incident that is %(status)s cannot be moved this way.") % {"status": incident.get_status_display()}
        )
    if action == "cancel" and not reason.strip():
        raise ValidationError({"reason": _("Say why the incident is cancelled.")})
    now = timezone.now()
    incident.status = target
    setattr(incident, stamp, now)
    if action == "respond" and incident.acknowledged_at is None:
        incident.acknowledged_at = now  # responding is also acknowledging
    if action == "cancel":
        incident.cancel_reason = reason
    if outcome:
        incident.outcome = outcome
    incident.version = F("version") + 1
    audit.save(incident)
    audit.create(IncidentEvent, incident=incident, status=target, actor=actor, at=now, note=note or reason)
    incident.refresh_from_db()
    return incident
