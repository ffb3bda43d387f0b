"""Who may see or do what in empowerment (SPEC §12.4 and the issue's "who"). Client reach is
decided by cases.access; this module adds the programme rules on top, and nothing else
decides them:

- social workers and supervisors of a site create its programmes, record sessions, enrol
  clients and record outcomes; admins anywhere;
- volunteers see their groups' programmes and record their sessions and attendance;
- facility staff, and anyone else, nothing.

A client appears in an enrolment or an attendance list only to those who may read that
client (cases.access.clients_visible_to): a programme does not widen anyone's reach.
"""

from django.db.models import QuerySet
from django.http import Http404

from cases import access as cases_access
from cases.models import Role, User

from .models import Enrolment, Programme, ProgrammeSession

MANAGER_ROLES = (Role.SUPERVISOR, Role.SOCIAL_WORKER)
FACILITATOR_ROLES = (Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.VOLUNTEER)


def programmes_visible_to(user) -> QuerySet:
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return Programme.objects.all()
    if role in MANAGER_ROLES:
        return Programme.objects.filter(site_id=user.site_id)
    if role == Role.VOLUNTEER:
        return Programme.objects.filter(
            support_group__in=cases_access.support_groups_of(user).values("pk"), site_id=user.site_id
        )
    return Programme.objects.none()


def programme_for_user(user, pk) -> Programme:
    try:
        return programmes_visible_to(user).select_related("site", "facilitator", "support_group").get(pk=pk)
    except (Programme.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_create_programme(user) -> bool:
    return cases_access.role_of(user) in (Role.ADMIN, *MANAGER_ROLES)


def programme_sites_for(user) -> QuerySet:
    """Sites `user` may create a programme at: their own; admins any."""
    if not can_create_programme(user):
        return cases_access.sites_visible_to(user).none()
    return cases_access.sites_visible_to(user)


def programmes_managed_by(user) -> QuerySet:
    """Programmes `user` may change, enrol clients in and record outcomes for."""
    if cases_access.role_of(user) == Role.VOLUNTEER:
        return Programme.objects.none()
    return programmes_visible_to(user)


def may_manage(user, programme) -> bool:
    return programmes_managed_by(user).filter(pk=programme.pk).exists()


def programmes_for_sessions(user) -> QuerySet:
    """Programmes `user` may record sessions and attendance for: managers theirs, volunteers
    their groups' (the same as they see)."""
    return programmes_visible_to(user)


def may_record_sessions_at_all(user) -> bool:
    return cases_access.role_of(user) in (Role.ADMIN, *FACILITATOR_ROLES)


def may_record_sessions(user, programme) -> bool:
    return programmes_for_sessions(user).filter(pk=programme.pk).exists()


def facilitator_candidates(user) -> QuerySet:
    """Active field staff; the service checks they work at the programme's site."""
    if not can_create_programme(user):
        return User.objects.none()
    users = User.objects.filter(role__in=FACILITATOR_ROLES, is_active=True)
    if cases_access.is_admin(user):
        return users
    return users.filter(site_id=user.site_id)


def support_groups_for_programmes(user) -> QuerySet:
    if not can_create_programme(user):
        return cases_access.support_groups_visible_to(user).none()
    return cases_access.support_groups_visible_to(user)


# --- sessions and enrolments ---------------------------------------------------------------------


def sessions_visible_to(user) -> QuerySet:
    return ProgrammeSession.objects.filter(programme__in=programmes_visible_to(user).values("pk"))


def session_for_user(user, pk) -> ProgrammeSession:
    try:
        return sessions_visible_to(user).select_related("programme__site").get(pk=pk)
    except (ProgrammeSession.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def enrolments_visible_to(user) -> QuerySet:
    """Enrolments in programmes `user` sees, of clients `user` may read."""
    return Enrolment.objects.filter(
        programme__in=programmes_visible_to(user).values("pk"),
        client__in=cases_access.clients_visible_to(user).values("pk"),
    )


def enrolment_for_user(user, pk) -> Enrolment:
    try:
        return enrolments_visible_to(user).select_related("programme__site", "client").get(pk=pk)
    except (Enrolment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def clients_enrollable_by(user) -> QuerySet:
    """Clients `user` may enrol (the service checks the programme's site): those they may
    record for, if they manage programmes at all."""
    if not can_create_programme(user):
        return cases_access.clients_visible_to(user).none()
    return cases_access.clients_for_records(user)


def roster_for(user, programme) -> QuerySet:
    """Enrolled clients of `programme` that `user` may read, for taking attendance."""
    return cases_access.clients_visible_to(user).filter(enrolments__programme=programme)


def attendees_visible_to(user, session) -> QuerySet:
    """The clients of `session`'s roster `user` may read: enrolled in its programme."""
    return roster_for(user, session.programme_id)
