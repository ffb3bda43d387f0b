"""Who may see or do what in the case-management cycle (SPEC §12.2, §7). Client reach is
decided by cases.access; this module adds the cycle's rules on top, and nothing else
decides them:

- assessments, plans, goals, actions, reviews, closures and social protection are written
  by whoever may change the client among social workers (their assigned clients, or a
  client shared with them to edit), supervisors of the client's site, and admins;
- they are read by social workers, supervisors and admins who may read the client;
- volunteers read the plans, goals and actions of their groups' clients (nothing of the
  assessments, reviews or social protection), and update the actions given to them;
- a review is signed off by a supervisor of the client's site, or an admin;
- facility staff, and anyone else, nothing.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from cases import access as cases_access
from cases.models import Role, User

from .models import Action, Assessment, ClientClosure, Goal, Plan, Review, SocialProtection

STAFF_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.SOCIAL_WORKER)
PLAN_READER_ROLES = (*STAFF_ROLES, Role.VOLUNTEER)
# The roles that may be given an action: those who work with clients in the field.
OWNER_ROLES = (Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.VOLUNTEER)


def may_write_casework_at_all(user) -> bool:
    return cases_access.role_of(user) in STAFF_ROLES


def may_read_casework_at_all(user) -> bool:
    """Assessments, reviews, closures and social protection: staff only, never volunteers."""
    return cases_access.role_of(user) in STAFF_ROLES


def clients_casework_readable_by(user) -> QuerySet:
    """Clients whose assessments, reviews, closures and social protection `user` reads."""
    if not may_read_casework_at_all(user):
        return cases_access.clients_visible_to(user).none()
    return cases_access.clients_visible_to(user)


def clients_casework_writable_by(user) -> QuerySet:
    """Clients whose cycle `user` writes: those they may change, if staff."""
    if not may_write_casework_at_all(user):
        return cases_access.clients_editable_by(user).none()
    return cases_access.clients_editable_by(user)


def may_write_casework(user, client) -> bool:
    return clients_casework_writable_by(user).filter(pk=client.pk).exists()


def may_read_plans_at_all(user) -> bool:
    return cases_access.role_of(user) in PLAN_READER_ROLES


def clients_plans_readable_by(user) -> QuerySet:
    if not may_read_plans_at_all(user):
        return cases_access.clients_visible_to(user).none()
    return cases_access.clients_visible_to(user)


def _records(model, clients) -> QuerySet:
    return model.objects.filter(client__in=clients.values("pk"))


def _one(queryset, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def assessments_visible_to(user) -> QuerySet:
    return _records(Assessment, clients_casework_readable_by(user))


def reviews_visible_to(user) -> QuerySet:
    return _records(Review, clients_casework_readable_by(user))


def closures_visible_to(user) -> QuerySet:
    return _records(ClientClosure, clients_casework_readable_by(user))


def social_protection_visible_to(user) -> QuerySet:
    return _records(SocialProtection, clients_casework_readable_by(user))


def plans_visible_to(user) -> QuerySet:
    return _records(Plan, clients_plans_readable_by(user))


def goals_visible_to(user) -> QuerySet:
    return _records(Goal, clients_plans_readable_by(user))


def actions_visible_to(user) -> QuerySet:
    return _records(Action, clients_plans_readable_by(user))


def assessment_for_user(user, pk) -> Assessment:
    return _one(assessments_visible_to(user).select_related("client__site", "assessor"), pk)


def review_for_user(user, pk) -> Review:
    return _one(reviews_visible_to(user).select_related("client__site", "assessment"), pk)


def plan_for_user(user, pk) -> Plan:
    return _one(plans_visible_to(user).select_related("client__site"), pk)


def goal_for_user(user, pk) -> Goal:
    return _one(goals_visible_to(user).select_related("plan", "client__site"), pk)


def action_for_user(user, pk) -> Action:
    return _one(actions_visible_to(user).select_related("goal__plan", "client__site", "owner"), pk)


def actions_changeable_by(user) -> QuerySet:
    """Actions `user` may update: all of the clients whose cycle they write, and, among
    those they can see, the ones given to them."""
    return actions_visible_to(user).filter(
        Q(client__in=clients_casework_writable_by(user).values("pk")) | Q(owner_id=user.pk)
    )


def may_change_action(user, action) -> bool:
    return actions_changeable_by(user).filter(pk=action.pk).exists()


def action_fields_for(user, action) -> tuple:
    """What `user` may change of `action`: everything as a writer of the cycle, the status
    alone as its owner (a volunteer ticks it done)."""
    if may_write_casework(user, action.client):
        return ("description", "owner", "due_date", "status", "referral", "service_record", "enrolment")
    if action.owner_id == user.pk:
        return ("status",)
    return ()


def may_sign_off(user, review) -> bool:
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return True
    return role == Role.SUPERVISOR and review.client.site_id == user.site_id


def may_sign_off_at_all(user) -> bool:
    return cases_access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def reviews_awaiting_sign_off(user) -> QuerySet:
    """The sign-off queue: unsigned reviews of the clients `user` may sign off."""
    if not may_sign_off_at_all(user):
        return Review.objects.none()
    return reviews_visible_to(user).filter(signed_off_at__isnull=True)


def owners_of(client) -> QuerySet:
    """Who an action of `client` may be given to now: the active field users who read it
    (cases.access.readers_of), in one query for the choice list."""
    return (
        cases_access.readers_of(client)
        .filter(role__in=OWNER_ROLES, is_superuser=False)
        .order_by("role", "first_name", "username")
    )


def may_own_action(owner, client) -> bool:
    """An action is given to an active field user who can read the client."""
    return owner is not None and owners_of(client).filter(pk=owner.pk).exists()


def owner_reaches_client() -> Q:
    """On action rows: the owner may hold the action now (a field user who reads its client);
    an owner out of reach since (a transfer, a reassignment, consent withdrawn) may not."""
    return cases_access.reads_client("owner", "client") & Q(owner__role__in=OWNER_ROLES, owner__is_superuser=False)


def owner_candidates(user) -> QuerySet:
    """People an action may be given to or left with (the service checks they can read the
    client); a volunteer sends back the owner of the action they tick done."""
    if cases_access.role_of(user) not in PLAN_READER_ROLES:
        return User.objects.none()
    users = User.objects.filter(role__in=OWNER_ROLES, is_active=True)
    if cases_access.is_admin(user):
        return users
    return users.filter(site_id=user.site_id)
