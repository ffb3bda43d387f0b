"""Who may see or do what. The ONLY place that decides (SPEC §7).

Views, serializers, admin and tasks ask these functions; none of them checks a role
itself. Reads come as querysets already scoped in SQL (role rules as plain filters,
guardian grants as `Exists` over the direct foreign-key permission tables), so a list
and a detail page apply exactly the same rule. Anything out of reach is `Http404`,
never 403, so that the existence of a client is not leaked.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import (
    AccessAction,
    AccessLog,
    Client,
    ClientGroupObjectPermission,
    ClientImport,
    ClientUserObjectPermission,
    Facility,
    Notification,
    NotificationChannel,
    NotificationStatus,
    Role,
    Site,
    SupportGroup,
    User,
)

VIEW = "view_client"
CHANGE = "change_client"
CHANGE_CONTACT = "change_client_contact"

# Field sets a role reads on a client (SPEC §7: volunteers see no NIK and no address).
CLIENT_FIELDS = (
    "id",
    "code",
    "site",
    "full_name",
    "nickname",
    "sex",
    "date_of_birth",
    "phone",
    "address",
    "nik",
    "hiv_diagnosis_date",
    "art_start_date",
    "art_facility",
    "regimen",
    "status",
    "consent_date",
    "consent_sms",
    "consent_share",
    "consent_withdrawn_on",
    "family_disclosure",
    "pregnant",
    "assigned_social_worker",
    "companion",
    "support_groups",
    "possible_duplicate",
    # Set by closing the case and cleared by reopening it (casework; SPEC §12.7), read-only.
    "closed_on",
    "closure_reason",
    "version",
)
# Follow-up figures computed for each row (cases.selectors), read-only, for every reader.
CLIENT_ROW_FIELDS = ("next_refill_due", "days_late", "arv_state")
VOLUNTEER_HIDDEN_FIELDS = ("nik", "address")
CLIENT_FIELDS_VOLUNTEER = tuple(f for f in CLIENT_FIELDS if f not in VOLUNTEER_HIDDEN_FIELDS)
# Whether a client looks like another is shown to supervisors and admins only (SPEC §12.5):
# to anyone else the flag after an edit would tell that someone with that NIK, or that name
# and birth date, is a client of the site.
DUPLICATE_FIELDS = ("possible_duplicate",)
# What a facility reaches through a referral to it, and nothing more.
CLIENT_FIELDS_FACILITY = ("code", "nickname", "sex", "age")
# The contact fields a volunteer may correct for their groups' clients.
CLIENT_CONTACT_FIELDS = ("nickname", "phone")
# Who looks after a client is decided by supervisors and admins alone.
CLIENT_ASSIGNMENT_FIELDS = ("assigned_social_worker", "companion")
# Fields nobody changes by editing a client, each with the way it does change (the answer
# of a write that sends one: 400 naming the field with this message).
CLIENT_FIXED_FIELDS = {
    "site": gettext_lazy(
        "A client changes site only by a transfer between sites (POST clients/{id}/transfer/, accepted by the "
        "receiving site), never by an edit."
    ),
}
CLIENT_ASSIGNMENT_REFUSAL = gettext_lazy("Only a supervisor of the client's site assigns or reassigns a client.")
CLIENT_FIELD_REFUSAL = gettext_lazy("You may not change this field.")


def is_admin(user) -> bool:
    return role_of(user) == Role.ADMIN


def role_of(user):
    """The user's role, or None for anyone not signed in (who reaches nothing)."""
    if not user.is_authenticated or not user.is_active:
        return None
    return Role.ADMIN if user.is_superuser else user.role


def _user_grant(user, codename) -> Exists:
    """A live per-user guardian grant of `codename` on the outer client row."""
    return Exists(
        ClientUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            user=user,
            permission__codename=codename,
        ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
    )


def _granted_ids(user, codename) -> QuerySet:
    """Ids of the clients `user` holds `codename` on, through a support group or their own
    grant: one UNION the database computes once and joins, where `Exists(…) | Exists(…)`
    was a pair of subplans run for every client of the site (353 ms for one volunteer's
    count at 100 000 clients, 6 ms this way)."""
    through_group = ClientGroupObjectPermission.objects.filter(group__user=user, permission__codename=codename)
    own = ClientUserObjectPermission.objects.filter(user=user, permission__codename=codename).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    return through_group.values("content_object_id").union(own.values("content_object_id"), all=True)


def _scoped_clients(user, codename_user, codename_group) -> QuerySet:
    qs = Client.objects.all()
    role = role_of(user)
    if role == Role.ADMIN:
        return qs
    if role == Role.SUPERVISOR:
        return qs.filter(site_id=user.site_id)
    if role == Role.SOCIAL_WORKER:
        return qs.filter(_user_grant(user, codename_user), site_id=user.site_id)
    if role == Role.VOLUNTEER:
        # Withdrawn consent ends volunteers' access at once, whatever grants remain.
        return qs.filter(
            pk__in=_granted_ids(user, codename_group),
            consent_withdrawn_on__isnull=True,
            site_id=user.site_id,
        )
    # Facility staff reach clients only through referrals to their facility; nobody else at all.
    return qs.none()


def has_personal_reach(user) -> bool:
    """Social workers and volunteers reach their own clients only (hundreds, where a
    supervisor reaches the site's thousands): lists may read such a reach as ids first."""
    return role_of(user) in (Role.SOCIAL_WORKER, Role.VOLUNTEER)


def clients_visible_to(user) -> QuerySet:
    return _scoped_clients(user, VIEW, VIEW)


def clients_editable_by(user) -> QuerySet:
    return _scoped_clients(user, CHANGE, CHANGE_CONTACT)


def _reaches(user, *, client_pk, site_id, consent_standing) -> Q:
    """The rule of `clients_visible_to` read the other way round: a condition on rows naming a
    user (at the path `user`, "" for a user row) that holds where that user reads the client
    whose id, site and consent are given (values, or expressions on the outer row)."""

    def at(field):
        return f"{user}__{field}" if user else field

    user_pk = OuterRef(f"{user}_id" if user else "pk")
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    grant = {"content_object": client_pk, "permission__codename": VIEW}
    own_grant = Exists(ClientUserObjectPermission.objects.filter(live, user=user_pk, **grant))
    group_grant = Exists(ClientGroupObjectPermission.objects.filter(group__user=user_pk, **grant))
    same_site = Q(**{at("site_id"): site_id})
    return Q(**{at("is_active"): True}) & (
        Q(**{at("is_superuser"): True})
        | Q(**{at("role"): Role.ADMIN})
        | (same_site & Q(**{at("role"): Role.SUPERVISOR}))
        | (same_site & Q(**{at("role"): Role.SOCIAL_WORKER}) & own_grant)
        | (same_site & Q(**{at("role"): Role.VOLUNTEER}) & consent_standing & (own_grant | group_grant))
    )


def reads_client(user, client="") -> Q:
    """A condition on rows that name a user (the path `user`) and a client (the path `client`,
    "" for a client row itself): that user reads that client now. Set-based scans filter by it
    so that no message tells a client to someone who no longer reaches it (a transfer, a
    reassignment, a volunteer out of the group, consent withdrawn)."""

    def at(field):
        return f"{client}__{field}" if client else field

    return _reaches(
        user,
        client_pk=OuterRef(f"{client}_id" if client else "pk"),
        site_id=F(at("site_id")),
        consent_standing=Q(**{at("consent_withdrawn_on__isnull"): True}),
    )


def readers_of(client) -> QuerySet:
    """The users who read `client` now (the reverse of `clients_visible_to`), in one query."""
    standing = Q() if client.consent_withdrawn_on is None else Q(pk__in=[])
    return User.objects.filter(_reaches("", client_pk=client.pk, site_id=client.site_id, consent_standing=standing))


def reaches_client(user, client_id) -> bool:
    """Whether `user` reads the client with this id now (`clients_visible_to`), in one query."""
    return clients_visible_to(user).filter(pk=client_id).exists()


# Consent to share (SPEC §4, §7): a client's data leaves for outside facilities and
# systems (a referral to them, a FHIR export) only with it, and never once it is withdrawn.
SHAREABLE_OUTSIDE = Q(consent_share=True, consent_withdrawn_on__isnull=True)


def may_share_outside(client) -> bool:
    return client.consent_share and client.consent_withdrawn_on is None


def client_for_user(user, pk, *, for_update=False) -> Client:
    """The client `pk` if `user` may read it (or change it, `for_update`), else Http404."""
    qs = clients_editable_by(user) if for_update else clients_visible_to(user)
    try:
        return qs.get(pk=pk)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def client_for_action(user, pk, allowed) -> Client:
    """The client `pk` for an action, asked in the order every view asks it: out of the user's
    reach is a 404 like an unknown id (`client_for_user`), in reach but `allowed(user, client)`
    false is a 403. The API and the pages both call this."""
    client = client_for_user(user, pk)
    if not allowed(user, client):
        raise PermissionDenied
    return client


def clients_for_records(user) -> QuerySet:
    """Clients whose refills, viral loads and visits `user` may record: a volunteer for
    their groups' clients, staff where they may change the client (a read-only share
    records nothing)."""
    if role_of(user) == Role.VOLUNTEER:
        return clients_visible_to(user)
    return clients_editable_by(user)


def records_visible_to(user, model) -> QuerySet:
    """Rows of `model` (with a `client` foreign key) about clients `user` can see."""
    return model.objects.filter(client__in=clients_visible_to(user).values("pk"))


def record_for_user(user, model, pk):
    try:
        return records_visible_to(user, model).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_work_tracing(user, tracing) -> bool:
    """Claim a tracing task and log attempts: whoever may record for the client."""
    return clients_for_records(user).filter(pk=tracing.client_id).exists()


def notifications_of(user) -> QuerySet:
    """A user's own in-app inbox: delivered messages only."""
    if role_of(user) is None:
        return Notification.objects.none()
    return Notification.objects.filter(
        recipient_user=user, channel=NotificationChannel.IN_APP, status=NotificationStatus.SENT
    )


def client_for_change(user, pk) -> Client:
    """The client `pk` if `user` may change it; 404 if out of reach, 403 if only readable."""
    client = client_for_user(user, pk)
    if not clients_editable_by(user).filter(pk=client.pk).exists():
        raise PermissionDenied
    return client


def client_readable_fields(user) -> tuple:
    role = role_of(user)
    if role == Role.VOLUNTEER:
        return tuple(f for f in CLIENT_FIELDS_VOLUNTEER if f not in DUPLICATE_FIELDS)
    if role == Role.SOCIAL_WORKER:
        return tuple(f for f in CLIENT_FIELDS if f not in DUPLICATE_FIELDS)
    if role in (Role.ADMIN, Role.SUPERVISOR):
        return CLIENT_FIELDS
    return ()


# Fields that change only through an action that keeps their history (SPEC §12.1), never
# by an edit or at registration through the API: the action to name when a write tries.
CLIENT_ACTION_FIELDS = {
    "status": "POST clients/{id}/status/",
    "closed_on": "POST clients/{id}/close/",
    "closure_reason": "POST clients/{id}/close/",
}


def client_writable_fields(user, client=None) -> tuple:
    """Fields `user` may set when creating (`client` None) or changing `client`."""
    fields = tuple(f for f in _client_writable_fields(user, client) if f not in CLIENT_ACTION_FIELDS)
    if client is not None:
        fields = tuple(f for f in fields if f not in CLIENT_FIXED_FIELDS)
    return fields


def client_field_refusals(user, client=None) -> dict:
    """{field: why `user` may not write it} for each client field they may not set when
    creating (`client` None) or changing `client`."""
    writable = set(client_writable_fields(user, client))
    refusals = {}
    for name in CLIENT_FIELDS:
        if name in writable:
            continue
        if name in CLIENT_ACTION_FIELDS:
            refusals[name] = _("This field changes only through %(action)s, which keeps its date.") % {
                "action": CLIENT_ACTION_FIELDS[name]
            }
        elif client is not None and name in CLIENT_FIXED_FIELDS:
            refusals[name] = CLIENT_FIXED_FIELDS[name]
        elif name in CLIENT_ASSIGNMENT_FIELDS:
            refusals[name] = CLIENT_ASSIGNMENT_REFUSAL
        else:
            refusals[name] = CLIENT_FIELD_REFUSAL
    return refusals


def _client_writable_fields(user, client=None) -> tuple:
    role = role_of(user)
    if role in (Role.ADMIN, Role.SUPERVISOR):
        return CLIENT_FIELDS
    if role == Role.SOCIAL_WORKER:
        return tuple(f for f in CLIENT_FIELDS if f not in CLIENT_ASSIGNMENT_FIELDS)
    if role == Role.VOLUNTEER:
        if client is None:
            return tuple(f for f in CLIENT_FIELDS_VOLUNTEER if f not in CLIENT_ASSIGNMENT_FIELDS)
        return CLIENT_CONTACT_FIELDS
    return ()


# Who works in the field (SPEC §7): everyone but facility staff, who receive referrals only.
FIELD_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.VOLUNTEER)


def can_create_client(user) -> bool:
    """Register a client (where: `may_register_client_at`)."""
    return role_of(user) in FIELD_ROLES


def can_record(user) -> bool:
    """Record field work on clients in reach: refills, viral loads, home visits, services
    (which client: the record's own policy, e.g. `clients_editable_by`)."""
    return role_of(user) in FIELD_ROLES


def may_register_client_at(user, *, site, support_groups) -> dict:
    """Field errors if `user` may not register a client at `site` in `support_groups`."""
    if is_admin(user):
        return {}
    if site.pk != user.site_id:
        return {"site": _("You can only register clients at your own site.")}
    if user.role == Role.VOLUNTEER:
        own = set(support_groups_of(user).values_list("pk", flat=True))
        if not support_groups or not {g.pk for g in support_groups} <= own:
            return {"support_groups": _("Choose at least one of your own support groups, and only yours.")}
    return {}


def may_import_clients(user) -> bool:
    """Client lists are imported by admins (into any site) and supervisors (into their own)."""
    role = role_of(user)
    return role == Role.ADMIN or (role == Role.SUPERVISOR and user.site_id is not None)


def may_import_clients_at(user, site) -> bool:
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    return role == Role.SUPERVISOR and site is not None and site.pk == user.site_id


def client_imports_visible_to(user) -> QuerySet:
    """Imports of the sites a user imports into: a supervisor's site's, all for admins."""
    role = role_of(user)
    if role == Role.ADMIN:
        return ClientImport.objects.all()
    if role == Role.SUPERVISOR:
        return ClientImport.objects.filter(site_id=user.site_id)
    return ClientImport.objects.none()


def client_import_for_user(user, pk) -> ClientImport:
    try:
        return client_imports_visible_to(user).select_related("site", "created_by", "committed_by").get(pk=pk)
    except (ClientImport.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_assign(user, client) -> bool:
    role = role_of(user)
    return role == Role.ADMIN or (role == Role.SUPERVISOR and client.site_id == user.site_id)


def can_change_status(user, client) -> bool:
    """Record a dated outcome (died, transferred out, stopped, resumed care): social workers,
    supervisors and admins who may change the client. Volunteers report what they learn
    through a tracing attempt, which records the outcome for them."""
    if role_of(user) not in (Role.ADMIN, Role.SUPERVISOR, Role.SOCIAL_WORKER):
        return False
    return clients_editable_by(user).filter(pk=client.pk).exists()


def can_break_glass(user) -> bool:
    """Social workers and supervisors may open a client of their site in an emergency."""
    return role_of(user) in (Role.SOCIAL_WORKER, Role.SUPERVISOR)


def client_for_break_glass(user, pk=None, *, code=None) -> Client:
    """A client of the user's own site, by id or by code, for emergency access by a social
    worker or supervisor (SPEC §7); anything else is 404."""
    if not can_break_glass(user):
        raise Http404
    lookup = {"pk": pk} if code is None else {"code": str(code).strip().upper()}
    try:
        return Client.objects.get(site_id=user.site_id, **lookup)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_review_break_glass(user) -> bool:
    """Supervisors review their site's emergency openings; admins every site's."""
    return role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def break_glass_entries_visible_to(user) -> QuerySet:
    """Emergency openings a supervisor reviews: their site's; admins all."""

    entries = AccessLog.objects.filter(action=AccessAction.BREAK_GLASS)
    if not can_review_break_glass(user):
        return entries.none()
    if role_of(user) == Role.ADMIN:
        return entries
    return entries.filter(client_id__in=Client.objects.filter(site_id=user.site_id).values("pk"))


def can_view_access_log(user, client) -> bool:
    """Supervisors of the client's site and admins (SPEC §7)."""
    return can_assign(user, client)


def can_share(user, client) -> bool:
    return can_assign(user, client)


# --- people and organisation -------------------------------------------------------------


def support_groups_of(user) -> QuerySet:
    """The support groups `user` is a volunteer of (membership of the group's auth group)."""
    return SupportGroup.objects.filter(auth_group__user=user)


def sites_visible_to(user) -> QuerySet:
    role = role_of(user)
    if role == Role.ADMIN:
        return Site.objects.all()
    if role in (None, Role.FACILITY_STAFF):
        return Site.objects.none()
    return Site.objects.filter(pk=user.site_id)


def support_groups_visible_to(user) -> QuerySet:
    role = role_of(user)
    if role == Role.ADMIN:
        return SupportGroup.objects.all()
    if role in (Role.SUPERVISOR, Role.SOCIAL_WORKER):
        return SupportGroup.objects.filter(site_id=user.site_id)
    if role == Role.VOLUNTEER:
        return support_groups_of(user)
    return SupportGroup.objects.none()


def facilities_visible_to(user) -> QuerySet:
    """Every staff member refers to facilities; facility staff see only their own."""
    role = role_of(user)
    if role == Role.ADMIN:
        return Facility.objects.all()
    if role is None:
        return Facility.objects.none()
    if role == Role.FACILITY_STAFF:
        return Facility.objects.filter(pk=user.facility_id)
    return Facility.objects.filter(Q(site_id=user.site_id) | Q(site__isnull=True))


def can_manage_organisation(user) -> bool:
    """Sites, support groups and facilities are managed by admins."""
    return is_admin(user)


def users_visible_to(user) -> QuerySet:
    role = role_of(user)
    if role == Role.ADMIN:
        return User.objects.all()
    if role is None:
        return User.objects.none()
    if role == Role.SUPERVISOR:
        return User.objects.filter(Q(site_id=user.site_id) | Q(facility__site_id=user.site_id))
    return User.objects.filter(pk=user.pk)


def can_manage_users(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def user_for_change(actor, pk) -> User:
    """The account `pk` if `actor` may change it; 404 if out of reach, 403 if only readable."""
    try:
        user = users_visible_to(actor).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if is_admin(actor):
        return user
    if actor.role != Role.SUPERVISOR or user.role not in SUPERVISOR_GRANTABLE_ROLES:
        raise PermissionDenied
    return user


# Roles a supervisor may hand out: never their own rank or above.
SUPERVISOR_GRANTABLE_ROLES = (Role.SOCIAL_WORKER, Role.VOLUNTEER, Role.FACILITY_STAFF)


def may_manage_user_as(actor, *, role, site, facility) -> dict:
    """Field errors if `actor` may not give an account this role, site and facility."""
    if is_admin(actor):
        return {}
    if actor.role != Role.SUPERVISOR:
        return {"role": _("You may not manage accounts.")}
    if role not in SUPERVISOR_GRANTABLE_ROLES:
        return {"role": _("Supervisors create social workers, volunteers and facility staff only.")}
    if role == Role.FACILITY_STAFF:
        if facility is None or facility.site_id != actor.site_id:
            return {"facility": _("Choose a facility of your own site.")}
    elif site is None or site.pk != actor.site_id:
        return {"site": _("Choose your own site.")}
    return {}
