"""Writes for empowerment: programmes, sessions with their attendance, enrolments and
outcomes. Each is atomic; the access log records every row written (cases.audit), an
attendance row with its client."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import audit
from cases.exceptions import Conflict

from . import access
from .models import ECONOMIC_KINDS, Attendance, Enrolment, Outcome, Programme, ProgrammeSession

ECONOMIC_FIELDS = ("business_started", "income_before", "income_after", "employed")
ENROLMENT_FIELDS = ("enrolled_on", "outcome", "outcome_on", *ECONOMIC_FIELDS)
PROGRAMME_FIELDS = ("kind", "name", "start_date", "end_date", "facilitator", "partner", "support_group")
SESSION_FIELDS = ("date", "topic", "others_family", "others_community", "others_health_workers")


def _site_today(site):
    return timezone.localdate(timezone=site.tzinfo)


# --- programmes ---------------------------------------------------------------------------------


def _validate_programme(programme):
    errors = {}
    site = programme.site
    if programme.facilitator is not None and programme.facilitator.site_id != site.pk:
        errors["facilitator"] = _("The facilitator must work at the programme's site.")
    if programme.support_group is not None and programme.support_group.site_id != site.pk:
        errors["support_group"] = _("The support group must be of the programme's site.")
    if programme.end_date is not None and programme.end_date < programme.start_date:
        errors["end_date"] = _("The programme cannot end before it starts.")
    if errors:
        raise ValidationError(errors)
    programme.full_clean()


@transaction.atomic
def programme_create(*, actor, site, **fields) -> Programme:
    programme = Programme(site=site, created_by=actor, **fields)
    _validate_programme(programme)
    audit.save(programme)
    return programme


@transaction.atomic
def programme_update(*, actor, programme, **fields) -> Programme:
    programme = Programme.objects.select_for_update().select_related("site").get(pk=programme.pk)
    for name, value in fields.items():
        if name in PROGRAMME_FIELDS:
            setattr(programme, name, value)
    _validate_programme(programme)
    held = programme.sessions.aggregate(first=Min("date"), last=Max("date"))
    if held["first"] is not None and held["first"] < programme.start_date:
        raise ValidationError({"start_date": _("A session was held before this date.")})
    if held["last"] is not None and programme.end_date is not None and held["last"] > programme.end_date:
        raise ValidationError({"end_date": _("A session was held after this date.")})
    audit.save(programme)
    return programme


# --- sessions and attendance ------------------------------------------------------------------------


def _validate_session(session):
    programme = session.programme
    errors = {}
    if session.date > _site_today(programme.site):
        errors["date"] = _("This date cannot be in the future.")
    elif session.date < programme.start_date or (programme.end_date and session.date > programme.end_date):
        errors["date"] = _("The session must fall within the programme's dates.")
    if errors:
        raise ValidationError(errors)
    session.full_clean()


def _set_attendance(*, actor, session, attendees):
    """Make the attendance of the clients `actor` may read exactly `attendees`; the rows of
    clients outside their reach stay as they are (a volunteer taking attendance neither sees
    nor removes another group's client)."""
    wanted = {c.pk: c for c in attendees}
    enrolled = set(Enrolment.objects.filter(programme_id=session.programme_id).values_list("client_id", flat=True))
    outside = sorted(c.code for c in attendees if c.pk not in enrolled)
    if outside:
        raise ValidationError(
            {"attendees": _("Not enrolled in this programme: %(codes)s") % {"codes": ", ".join(outside)}}
        )
    in_reach = set(access.attendees_visible_to(actor, session).values_list("pk", flat=True))
    present = set(session.attendance.values_list("client_id", flat=True))
    # One row at a time, so that the access log gets each client's entry.
    for row in session.attendance.filter(client_id__in=(present & in_reach) - set(wanted)):
        audit.delete(row)
    for pk in set(wanted) - present:
        audit.create(Attendance, session=session, client_id=pk)


def _others(others):
    return {f"others_{k}": v for k, v in (others or {}).items()}


@transaction.atomic
def session_record(*, actor, programme, attendees=(), others=None, **fields) -> ProgrammeSession:
    session = ProgrammeSession(programme=programme, recorded_by=actor, **fields, **_others(others))
    _validate_session(session)
    audit.save(session)
    _set_attendance(actor=actor, session=session, attendees=attendees)
    return session


@transaction.atomic
def session_update(*, actor, session, attendees=None, others=None, **fields) -> ProgrammeSession:
    # Lock the session: two people taking attendance at once must not interleave their rows.
    session = ProgrammeSession.objects.select_for_update().select_related("programme__site").get(pk=session.pk)
    for name, value in {**fields, **_others(others)}.items():
        if name in SESSION_FIELDS:
            setattr(session, name, value)
    _validate_session(session)
    audit.save(session)
    if attendees is not None:
        _set_attendance(actor=actor, session=session, attendees=attendees)
    return session


# --- enrolments and outcomes ---------------------------------------------------------------------


def _validate_enrolment(enrolment):
    programme, client = enrolment.programme, enrolment.client
    today = _site_today(programme.site)
    errors = {}
    if client.site_id != programme.site_id:
        errors["client"] = _("The client is not of the programme's site.")
    if enrolment.enrolled_on > today:
        errors["enrolled_on"] = _("This date cannot be in the future.")
    elif enrolment.enrolled_on < client.consent_date:
        errors["enrolled_on"] = _("A client takes part from their consent on.")
    if enrolment.outcome and enrolment.outcome_on is None:
        errors["outcome_on"] = _("Give the day of the outcome.")
    elif not enrolment.outcome and enrolment.outcome_on is not None:
        errors["outcome"] = _("Choose the outcome of this day.")
    elif enrolment.outcome_on is not None and enrolment.outcome_on > today:
        errors["outcome_on"] = _("This date cannot be in the future.")
    elif enrolment.outcome_on is not None and enrolment.outcome_on < enrolment.enrolled_on:
        errors["outcome_on"] = _("The outcome cannot come before the enrolment.")
    if programme.kind not in ECONOMIC_KINDS:
        for name in ECONOMIC_FIELDS:
            if getattr(enrolment, name) not in (None, ""):
                errors[name] = _("Only for productive-economy and skills programmes.")
    if errors:
        raise ValidationError(errors)
    enrolment.full_clean(validate_constraints=False)


@transaction.atomic
def enrolment_create(*, actor, programme, client, **fields) -> Enrolment:
    # Lock the programme: two enrolments of one client at once must not both pass the check.
    programme = Programme.objects.select_for_update().select_related("site").get(pk=programme.pk)
    if Enrolment.objects.filter(programme=programme, client=client).exists():
        raise ValidationError({"client": _("This client is already enrolled in this programme.")})
    enrolment = Enrolment(programme=programme, client=client, recorded_by=actor, **fields)
    _validate_enrolment(enrolment)
    audit.save(enrolment)
    return enrolment


@transaction.atomic
def enrolment_update(*, actor, enrolment, version=None, **fields) -> Enrolment:
    # Lock the row: two outcomes recorded at once must not both pass the version check.
    enrolment = Enrolment.objects.select_for_update().select_related("programme__site", "client").get(pk=enrolment.pk)
    if version is not None and version != enrolment.version:
        raise Conflict(_("This enrolment was changed by someone else; reload and try again."))
    changed = False
    for name, value in fields.items():
        if name in ENROLMENT_FIELDS and getattr(enrolment, name) != value:
            setattr(enrolment, name, value)
            changed = True
    if fields.get("outcome") == Outcome.ONGOING and "outcome_on" not in fields:
        enrolment.outcome_on = None
    if not changed:
        return enrolment
    _validate_enrolment(enrolment)
    enrolment.version += 1
    audit.save(enrolment)
    return enrolment
