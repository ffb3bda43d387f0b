"""Who may see or do what with referrals (SPEC §7). The ONLY place in referrals that decides.

The sending side reaches a referral through its client (cases.access); a facility reaches
it through the guardian grant made to its team when the referral was sent. Lists and single
objects use the same querysets; anything out of reach is Http404.
"""

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from cases import access as cases_access
from cases.models import Role

from .models import Referral, ReferralGroupObjectPermission

VIEW = "view_referral"
RESPOND = "respond_referral"

# What every reader on the sending side gets.
REFERRAL_FIELDS = (
    "id",
    "client",
    "client_summary",
    "to_facility",
    "service",
    "reason",
    "urgency",
    "due_date",
    "status",
    "from_user",
    "from_group",
    "overdue",
    "outcome",
    "sent_at",
    "accepted_at",
    "closed_at",
    "created_at",
    "version",
    "events",
    "facility_link",
)
# A facility sees the minimum: who (code, nickname, sex, age through `client_summary`),
# what and how urgent; not the client id, the sender, nor the bearer link.
REFERRAL_FIELDS_FACILITY = (
    "id",
    "client_summary",
    "to_facility",
    "service",
    "reason",
    "urgency",
    "due_date",
    "status",
    "overdue",
    "outcome",
    "sent_at",
    "accepted_at",
    "closed_at",
    "events",
)
REFERRAL_WRITABLE_FIELDS = ("client", "to_facility", "service", "reason", "urgency", "due_date", "version")
# A draft changes everything but its client.
REFERRAL_UPDATABLE_FIELDS = ("to_facility", "service", "reason", "urgency", "due_date", "version")

SENDER_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.VOLUNTEER)


def _facility_grant(user, codename) -> Exists:
    """A grant of `codename` on the outer referral to the team of the user's facility.

    The team is joined through the user's `facility` (cases' record of where they work), not
    through auth-group membership alone, so a moved account loses the old facility at once.
    """
    return Exists(
        ReferralGroupObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            group__facility_team__facility_id=user.facility_id,
            permission__codename=codename,
        )
    )


def referrals_visible_to(user) -> QuerySet:
    qs = Referral.objects.all()
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return qs
    if role == Role.SUPERVISOR:
        return qs.filter(client__site_id=user.site_id)
    if role in (Role.SOCIAL_WORKER, Role.VOLUNTEER):
        return qs.filter(client__in=cases_access.clients_visible_to(user).values("pk"))
    if role == Role.FACILITY_STAFF and user.facility_id is not None:
        # Withdrawn consent takes the client out of every facility's sight at once.
        return qs.filter(_facility_grant(user, VIEW), client__consent_withdrawn_on__isnull=True)
    return qs.none()


def referral_for_user(user, pk) -> Referral:
    try:
        return referrals_visible_to(user).get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def clients_referable_by(user) -> QuerySet:
    """Clients `user` may refer: a volunteer their groups' clients, staff where they may
    change the client (assigned, site, all), facility staff none."""
    if cases_access.role_of(user) not in SENDER_ROLES:
        return cases_access.clients_visible_to(user).none()
    return cases_access.clients_for_records(user)


def can_create_referral(user) -> bool:
    return cases_access.role_of(user) in SENDER_ROLES


def can_send(user, referral) -> bool:
    """Edit a draft, send and cancel: the sending side, for clients it may refer."""
    return clients_referable_by(user).filter(pk=referral.client_id).exists()


def clients_sendable_among(user, client_ids) -> set:
    """Of `client_ids`, those whose referrals `user` may send or cancel (one query)."""
    return set(clients_referable_by(user).filter(pk__in=list(client_ids)).values_list("pk", flat=True))


def can_respond(user, referral) -> bool:
    """Accept, decline, complete: the receiving facility's staff (and admins)."""
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return True
    if role != Role.FACILITY_STAFF or user.facility_id is None:
        return False
    return Referral.objects.filter(
        _facility_grant(user, RESPOND), pk=referral.pk, client__consent_withdrawn_on__isnull=True
    ).exists()


def referral_sides(user, referral) -> dict:
    """Which sides of `referral` the user acts for (the transition table's third column):
    the sender's, the facility's, or, for an admin, both."""
    return {"sender": can_send(user, referral), "facility": can_respond(user, referral)}


def may_act_for(user, referral, side) -> bool:
    """Take a step of `side` ("sender" or "facility") on `referral`."""
    return can_send(user, referral) if side == "sender" else can_respond(user, referral)


def referral_readable_fields(user) -> tuple:
    role = cases_access.role_of(user)
    if role == Role.FACILITY_STAFF:
        return REFERRAL_FIELDS_FACILITY
    if role in SENDER_ROLES:
        return REFERRAL_FIELDS
    return ()


def referral_writable_fields(user, referral=None) -> tuple:
    if not can_create_referral(user):
        return ()
    return REFERRAL_WRITABLE_FIELDS if referral is None else REFERRAL_UPDATABLE_FIELDS


def facilities_referable_by(user) -> QuerySet:
    return cases_access.facilities_visible_to(user)


def sender_groups(user, client) -> QuerySet:
    """The sender's support groups the client belongs to (a volunteer refers for one)."""
    return cases_access.support_groups_of(user).filter(clients=client).order_by("pk")


def report_referrals(user) -> QuerySet:
    """What a user's referral report counts: exactly what they may read."""
    return referrals_visible_to(user)
