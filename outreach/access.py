"""Who may see or do what in outreach. Client reach is decided by cases.access; this module
adds the outreach rules (SPEC §7) on top, and nothing else decides them."""

from datetime import timedelta

from django.db.models import Q, QuerySet

from cases import access as cases_access
from cases.models import Role, User

from .models import VOLUNTEER_VISIT_KINDS, HomeVisit, Incident, Meeting, ServiceRecord, VisitKind

# How long the author of a visit may correct it; later only a supervisor.
VISIT_CORRECTION_WINDOW = timedelta(hours=48)
STAFF_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.VOLUNTEER)
RESPONDER_ROLES = (Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.VOLUNTEER)


# --- visits and services: records about one client --------------------------------------------


def visits_visible_to(user) -> QuerySet:
    return cases_access.records_visible_to(user, HomeVisit)


def services_visible_to(user) -> QuerySet:
    return cases_access.records_visible_to(user, ServiceRecord)


def visit_kinds_allowed(user) -> tuple:
    if cases_access.role_of(user) == Role.VOLUNTEER:
        return VOLUNTEER_VISIT_KINDS
    return tuple(VisitKind.values)


def may_ever_correct_visit(user, visit) -> bool:
    """The author, a supervisor of the client's site, an admin."""
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.SUPERVISOR:
        return visit.client.site_id == user.site_id
    return visit.visitor_id == user.pk


def may_correct_visit(user, visit, *, now) -> bool:
    """The author within 48 hours of recording; afterwards a supervisor of the site or an admin."""
    if cases_access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR):
        return may_ever_correct_visit(user, visit)
    return may_ever_correct_visit(user, visit) and now - visit.created_at <= VISIT_CORRECTION_WINDOW


# --- meetings ---------------------------------------------------------------------------------------


def meetings_visible_to(user) -> QuerySet:
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return Meeting.objects.all()
    if role in (Role.SUPERVISOR, Role.SOCIAL_WORKER):
        return Meeting.objects.filter(support_group__site_id=user.site_id)
    if role == Role.VOLUNTEER:
        return Meeting.objects.filter(support_group__in=cases_access.support_groups_of(user).values("pk"))
    return Meeting.objects.none()


def meeting_groups_for(user) -> QuerySet:
    """Groups `user` may record a meeting for: volunteers their own, staff their site's."""
    if cases_access.role_of(user) == Role.VOLUNTEER:
        return cases_access.support_groups_of(user)
    return cases_access.support_groups_visible_to(user)


# --- incidents --------------------------------------------------------------------------------------


def can_report_incident(user) -> bool:
    return cases_access.role_of(user) in STAFF_ROLES


def can_record_meeting(user) -> bool:
    """Record a support-group meeting (which group: `meeting_groups_for`)."""
    return cases_access.role_of(user) in STAFF_ROLES


def incidents_visible_to(user) -> QuerySet:
    """Site staff see their site's board; volunteers what they reported or respond to."""
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return Incident.objects.all()
    if role in (Role.SUPERVISOR, Role.SOCIAL_WORKER):
        return Incident.objects.filter(site_id=user.site_id)
    if role == Role.VOLUNTEER:
        return Incident.objects.filter(Q(reported_by=user) | Q(responders=user), site_id=user.site_id).distinct()
    return Incident.objects.none()


def may_move_incident(user, incident) -> bool:
    """Responders move their incident's state; a supervisor any of the site's."""
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.SUPERVISOR and incident.site_id == user.site_id:
        return True
    return incident.responders.filter(pk=user.pk).exists()


def incident_responder_candidates(user) -> QuerySet:
    """People who can be put on an incident or lead a meeting: active field staff of the
    user's own site (admins: of any site; the services check it is the record's site). An id
    from another site is "not found" like any other, so that no one learns who works there."""
    role = cases_access.role_of(user)
    if role not in STAFF_ROLES:
        return User.objects.none()
    candidates = User.objects.filter(role__in=RESPONDER_ROLES, is_active=True)
    if role == Role.ADMIN:
        return candidates
    return candidates.filter(site_id=user.site_id)
