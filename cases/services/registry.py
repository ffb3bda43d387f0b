"""Writes to the client registry and the organisation. Each service is atomic and is the
only way its records change; views, admin and commands call these."""

import uuid
from datetime import datetime, time, timedelta

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, Q, Value
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user

from cases import access, audit, outbox
from cases.exceptions import Conflict
from cases.models import (
    OUT_OF_CARE,
    AccessAction,
    AccessLog,
    Client,
    ClientCodeCounter,
    ClientGroupObjectPermission,
    ClientStatus,
    ClientUserObjectPermission,
    GrantKind,
    NotificationKind,
    Role,
    SupportGroup,
    Tracing,
    TracingStatus,
    User,
    name_key,
)
from cases.security import crypto, tokens

from .outcomes import client_status_change

OUT_OF_CARE_VALUES = {str(status) for status in OUT_OF_CARE}

# --- organisation ---------------------------------------------------------------------------


@transaction.atomic
def organisation_record_create(model, **fields):
    """A new site or facility, from an admin's form already validated (the API's serializer)."""
    return audit.create(model, **fields)


@transaction.atomic
def organisation_record_update(record, **fields):
    """Change a site or a facility, from an admin's form already validated."""
    for name, value in fields.items():
        setattr(record, name, value)
    return audit.save(record)


@transaction.atomic
def support_group_create(*, site, kind, name, coordinator=None) -> SupportGroup:
    group = SupportGroup(site=site, kind=kind, name=name, coordinator=coordinator)
    group.auth_group = Group.objects.create(name=f"support-group-{uuid.uuid4()}")
    group.full_clean()
    audit.save(group)
    if coordinator is not None and coordinator.role == Role.VOLUNTEER:
        _join(coordinator, group)
    return group


@transaction.atomic
def support_group_update(*, group, **fields) -> SupportGroup:
    for name, value in fields.items():
        setattr(group, name, value)
    group.full_clean()
    audit.save(group)
    if group.coordinator is not None and group.coordinator.role == Role.VOLUNTEER:
        _join(group.coordinator, group)
    return group


def user_validate(*, actor, user, support_groups=()):
    """Raise field errors if `user` (unsaved changes included) is not a valid account for `actor` to save."""
    errors = dict(access.may_manage_user_as(actor, role=user.role, site=user.site, facility=user.facility))
    if user.role == Role.FACILITY_STAFF:
        if user.facility is None:
            errors.setdefault("facility", _("Facility staff need a facility."))
    elif user.role != Role.ADMIN and user.site is None:
        errors.setdefault("site", _("This role needs a site."))
    if user.role != Role.FACILITY_STAFF and user.facility is not None:
        errors.setdefault("facility", _("Only facility staff belong to a facility."))
    if support_groups:
        if user.role != Role.VOLUNTEER:
            errors.setdefault("support_groups", _("Only volunteers are members of support groups."))
        elif any(g.site_id != user.site_id for g in support_groups):
            errors.setdefault("support_groups", _("Support groups must be of the volunteer's site."))
    if errors:
        raise ValidationError(errors)


def _set_support_groups(user, support_groups):
    """Membership is the support group's auth group: the volunteer's reach follows at once."""
    keep = {g.auth_group_id for g in support_groups}
    others = list(user.groups.exclude(support_group__isnull=True).exclude(pk__in=keep))
    missing = keep - set(user.groups.filter(pk__in=keep).values_list("pk", flat=True))
    if others or missing:
        with audit.m2m(user, "groups") as groups:
            groups.remove(*others)
            groups.add(*missing)


def _join(volunteer, group):
    """The group's coordinator is a member of it."""
    if not volunteer.groups.filter(pk=group.auth_group_id).exists():
        with audit.m2m(volunteer, "groups") as groups:
            groups.add(group.auth_group)


def _set_password(user, password):
    try:
        validate_password(password, user)
    except ValidationError as e:
        raise ValidationError({"password": e.messages}) from None
    user.set_password(password)


@transaction.atomic
def user_create(*, actor, username, password, role, site=None, facility=None, support_groups=(), **profile) -> User:
    user = User(username=username, role=role, site=site, facility=facility, **profile)
    if role == Role.FACILITY_STAFF and facility is not None:
        user.site = facility.site
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user_validate(actor=actor, user=user, support_groups=support_groups)
    _set_password(user, password)
    user.full_clean(exclude=["password"])
    audit.save(user)
    _set_support_groups(user, support_groups)
    return user


@transaction.atomic
def user_update(*, actor, user, password=None, support_groups=None, **fields) -> User:
    for name, value in fields.items():
        setattr(user, name, value)
    if user.role == Role.FACILITY_STAFF and user.facility is not None:
        user.site = user.facility.site
    user.is_staff = user.is_superuser = user.role == Role.ADMIN
    groups = list(access.support_groups_of(user)) if support_groups is None else support_groups
    if user.role != Role.VOLUNTEER and support_groups is None:
        groups = []
    user_validate(actor=actor, user=user, support_groups=groups)
    if password:
        _set_password(user, password)
    user.full_clean(exclude=["password"])
    audit.save(user)
    _set_support_groups(user, groups)
    return user


# --- clients ----------------------------------------------------------------------------------


def client_codes_reserve(*, site, count) -> list[str]:
    """`count` new codes for `site`, `TTE-2026-0001` onwards: numbers per site and year, taken
    under a row lock.

    Two registrations at once must not get the same number: the counter row is locked
    (select_for_update) until the transaction commits, so the second waits for the first.
    An import reserves all its codes at once, in a transaction of their own, so that nobody
    waits for the counter while it registers thousands of clients in its long transaction
    (a failed import then leaves a gap in the numbers). The unique constraint on
    Client.code is the last line of defence.
    """
    year = timezone.localdate(timezone=site.tzinfo).year
    with transaction.atomic():
        ClientCodeCounter.objects.get_or_create(site=site, year=year)
        counter = ClientCodeCounter.objects.select_for_update().get(site=site, year=year)
        first = counter.last_number + 1
        counter.last_number += count
        audit.save(counter, update_fields=["last_number"])
    return [f"{site.code}-{year}-{number:04d}" for number in range(first, first + count)]


def _derive_keys(client):
    """The matching keys stored beside a client's name and (encrypted) NIK."""
    client.name_key = name_key(client.full_name)
    client.nik_hash = crypto.keyed_hash(client.nik) if client.nik else ""


def _flag_possible_duplicates(client):
    """Same NIK, or the same normalised name and birth date, at the same site: flag both,
    never merge. Not across sites: the flag a supervisor sees would tell them that someone
    with that NIK or name and birth date is a client of another site (and an import would
    ask it of thousands at once); the import's own check looks at the site alone too."""
    match = Q(name_key=client.name_key, date_of_birth=client.date_of_birth)
    if client.nik_hash:
        match |= Q(nik_hash=client.nik_hash)

    others = Client.objects.filter(match, site_id=client.site_id).exclude(pk=client.pk)
    if audit.logged_update(others.filter(possible_duplicate=False), possible_duplicate=True) or others.exists():
        if not client.possible_duplicate:
            audit.logged_update(Client.objects.filter(pk=client.pk), possible_duplicate=True)
        client.possible_duplicate = True


def _permissions(*codenames):
    return {p.codename: p for p in Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)}


def _grant_to_user(client, user, kind, *, can_edit=True, expires_at=None, granted_by=None):
    perms = _permissions(access.VIEW, access.CHANGE, access.CHANGE_CONTACT)
    codenames = [access.VIEW]
    if can_edit:
        codenames.append(access.CHANGE_CONTACT if user.role == Role.VOLUNTEER else access.CHANGE)
    ClientUserObjectPermission.objects.filter(user=user, content_object=client).exclude(
        permission__codename__in=codenames
    ).delete()
    for codename in codenames:
        ClientUserObjectPermission.objects.update_or_create(
            user=user,
            permission=perms[codename],
            content_object=client,
            defaults={"kind": kind, "expires_at": expires_at, "granted_by": granted_by},
        )


def _revoke_user_grants(client, kind):
    ClientUserObjectPermission.objects.filter(content_object=client, kind=kind).delete()


def _sync_group_grants(client):
    """Each support group of the client holds view and contact-change grants on it."""
    perms = _permissions(access.VIEW, access.CHANGE_CONTACT)
    group_ids = list(client.support_groups.values_list("auth_group_id", flat=True))
    ClientGroupObjectPermission.objects.filter(content_object=client).exclude(group_id__in=group_ids).delete()
    existing = set(
        ClientGroupObjectPermission.objects.filter(content_object=client).values_list("group_id", "permission_id")
    )
    ClientGroupObjectPermission.objects.bulk_create(
        ClientGroupObjectPermission(group_id=g, permission=p, content_object=client)
        for g in group_ids
        for p in perms.values()
        if (g, p.pk) not in existing
    )


def _validate_assignees(client, social_worker, companion):
    errors = {}
    if social_worker is not None and (
        social_worker.role != Role.SOCIAL_WORKER
        or social_worker.site_id != client.site_id
        or not social_worker.is_active
    ):
        errors["assigned_social_worker"] = _("Choose an active social worker of the client's site.")
    if companion is not None and (
        companion.role != Role.VOLUNTEER or companion.site_id != client.site_id or not companion.is_active
    ):
        errors["companion"] = _("Choose an active volunteer of the client's site.")
    if errors:
        raise ValidationError(errors)


def _apply_assignment(client, *, social_worker, companion, actor):
    """Grants follow assignment: the former assignee's grant goes in the same transaction."""
    _revoke_user_grants(client, GrantKind.ASSIGNMENT)
    _revoke_user_grants(client, GrantKind.COMPANION)
    if social_worker is not None:
        _grant_to_user(client, social_worker, GrantKind.ASSIGNMENT, granted_by=actor)
    if companion is not None:
        _grant_to_user(client, companion, GrantKind.COMPANION, granted_by=actor)


def _validate_groups(client, support_groups):
    if any(g.site_id != client.site_id for g in support_groups):
        raise ValidationError({"support_groups": _("Support groups must be of the client's site.")})


# Checked by client_register's full_clean with a query each; client_check_new leaves them
# out so that an import can check thousands of rows whose related objects it loaded itself.
_RELATED_FIELDS = ("site", "art_facility", "assigned_social_worker", "companion")


def client_check_new(*, actor, support_groups=(), **fields) -> Client:
    """The client `actor` would register, unsaved, or the ValidationError client_register
    would raise: the same rules, without the checks that need the database (a free code,
    related rows that exist). Runs no query for an admin or supervisor.

    Field errors of groups, assignees and the model come together, so that a form or an
    import row shows every mistake at once.
    """
    support_groups = list(support_groups)
    client = Client(**fields)
    if actor.role == Role.SOCIAL_WORKER and not access.is_admin(actor):
        # A social worker registers their own client: they keep it until a supervisor reassigns.
        client.assigned_social_worker = actor
    if actor.role == Role.VOLUNTEER and not access.is_admin(actor):
        client.companion = actor
    errors = access.may_register_client_at(actor, site=client.site, support_groups=support_groups)
    if errors:
        raise ValidationError(errors)
    errors = {}
    checks = (
        lambda: _validate_groups(client, support_groups),
        lambda: _validate_assignees(client, client.assigned_social_worker, client.companion),
        lambda: client.full_clean(
            exclude=["code", *_RELATED_FIELDS], validate_unique=False, validate_constraints=False
        ),
    )
    for check in checks:
        try:
            check()
        except ValidationError as e:
            errors = e.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    _derive_keys(client)
    return client


@transaction.atomic
def client_register(*, actor, support_groups=(), code=None, **fields) -> Client:
    """Register a client at a site; its code is generated (or one `client_codes_reserve`
    gave) and its grants created."""
    support_groups = list(support_groups)
    # An outcome known at registration (an import) is recorded as a dated change below.
    outcome = fields.pop("status", ClientStatus.ACTIVE)
    if outcome == ClientStatus.LTFU:  # the list marker, until the refill dates say otherwise
        fields["status"] = outcome
    client = client_check_new(actor=actor, support_groups=support_groups, **fields)
    client.code = code or client_codes_reserve(site=client.site, count=1)[0]
    client.full_clean()
    audit.save(client)
    audit.set_m2m(client, "support_groups", support_groups)
    _apply_assignment(client, social_worker=client.assigned_social_worker, companion=client.companion, actor=actor)
    _sync_group_grants(client)
    _flag_possible_duplicates(client)
    if outcome in OUT_OF_CARE:
        client_status_change(
            actor=actor,
            client=client,
            status=outcome,
            effective_date=timezone.localdate(timezone=client.site.tzinfo),
            reason=_("Status given at registration."),
        )
        client.refresh_from_db()
    return client


# Called (actor, client) in the writing transaction when a client withdraws consent; other
# apps register what must stop at once (referrals: outside referrals and their links).
CONSENT_WITHDRAWN_HOOKS = []


def on_consent_withdrawn(hook):
    CONSENT_WITHDRAWN_HOOKS.append(hook)
    return hook


# Called (actor, client) in the writing transaction when people may have lost the client (a
# transfer, a reassignment, support groups changed, consent withdrawn); other apps hand over
# what those people held of it (casework: open plan actions).
REACH_CHANGED_HOOKS = []


def on_reach_changed(hook):
    REACH_CHANGED_HOOKS.append(hook)
    return hook


def _reach_changed(actor, client):
    """What people held of `client` and may no longer reach goes back: an open tracing claimed
    by one of them is unclaimed (else nobody who reaches the client could work it), and the
    hooks of other apps run."""
    audit.logged_update(
        Tracing.objects.filter(client=client, status=TracingStatus.OPEN, claimed_by__isnull=False).exclude(
            access.reads_client("claimed_by", "client")
        ),
        claimed_by=None,
        claimed_at=None,
    )
    for hook in REACH_CHANGED_HOOKS:
        hook(actor=actor, client=client)


@transaction.atomic
def client_update(*, actor, client, version=None, support_groups=None, **fields) -> Client:
    """Change a client. `fields` are already limited to what `actor` may write."""
    # Lock the row: two editors saving at once must not both pass the version check.
    client = Client.objects.select_for_update().get(pk=client.pk)
    if version is not None and version != client.version:
        raise Conflict(_("This client was changed by someone else; reload and try again."))
    before = (client.assigned_social_worker_id, client.companion_id)
    if (
        "status" in fields
        and fields["status"] != client.status
        and OUT_OF_CARE_VALUES & {fields["status"], client.status}
    ):
        # Outcomes are dated changes (client_status_change); only the LTFU marker moves here.
        raise ValidationError({"status": _("Change the status with the status action, which keeps its date.")})
    consent_was_withdrawn = client.consent_withdrawn_on is not None
    if "site" in fields and fields["site"].pk != client.site_id:
        raise ValidationError({"site": access.CLIENT_FIXED_FIELDS["site"]})
    for name, value in fields.items():
        setattr(client, name, value)
    _derive_keys(client)
    client.version += 1
    client.full_clean()
    if support_groups is not None:
        _validate_groups(client, support_groups)
    if (client.assigned_social_worker_id, client.companion_id) != before:
        if not access.can_assign(actor, client):
            raise ValidationError({"assigned_social_worker": _("Only a supervisor may reassign a client.")})
        _validate_assignees(client, client.assigned_social_worker, client.companion)
        _apply_assignment(client, social_worker=client.assigned_social_worker, companion=client.companion, actor=actor)
    audit.save(client)
    groups_changed = False
    if support_groups is not None:
        groups_changed = audit.set_m2m(client, "support_groups", support_groups)
        _sync_group_grants(client)
    if {"full_name", "date_of_birth", "nik"} & fields.keys():
        _flag_possible_duplicates(client)
    withdrawn = client.consent_withdrawn_on is not None and not consent_was_withdrawn
    if withdrawn:
        for hook in CONSENT_WITHDRAWN_HOOKS:
            hook(actor=actor, client=client)
    if withdrawn or groups_changed or (client.assigned_social_worker_id, client.companion_id) != before:
        _reach_changed(actor, client)
    return client


def client_assign(*, actor, client, social_worker, companion=None) -> Client:
    """Reassign a client's social worker (and companion); the former one loses access at once."""
    return client_update(
        actor=actor, client=client, assigned_social_worker=social_worker, companion=companion or client.companion
    )


@transaction.atomic
def client_move_to_site(*, actor, client, site, social_worker=None) -> Client:
    """Move a client to another site of the installation: the last step of an accepted
    transfer (SPEC §12.3; the transfers app decides when). The code and every record stay
    with the client; the old site's worker, companion and support groups go, and with them
    every grant on the client (assignment, companion, shares, emergency access, groups), in
    this transaction, so the old site's people lose it at once. `social_worker` (of the new
    site) is assigned."""
    # Locked: an edit or a reassignment racing the move must not re-grant someone of the old site.
    client = Client.objects.select_for_update(of=("self",)).get(pk=client.pk)
    client.site = site
    _validate_assignees(client, social_worker, None)
    shares = list(
        ClientUserObjectPermission.objects.filter(
            content_object=client, kind=GrantKind.SHARE, permission__codename=access.VIEW
        ).values_list("user_id", flat=True)
    )
    ClientUserObjectPermission.objects.filter(content_object=client).delete()
    ClientGroupObjectPermission.objects.filter(content_object=client).delete()
    if shares:
        _log_share(AccessAction.DELETE, None, None, reason="transferred", rows=[(u, client.pk) for u in shares])
    client.assigned_social_worker = social_worker
    client.companion = None
    client.version += 1
    audit.save(client)
    audit.set_m2m(client, "support_groups", [])
    if social_worker is not None:
        _grant_to_user(client, social_worker, GrantKind.ASSIGNMENT, granted_by=actor)
    _reach_changed(actor, client)
    return client


@transaction.atomic
def client_share(*, actor, client, user, until, can_edit=False) -> ClientUserObjectPermission:
    """A supervisor lends one client to a colleague (cover during leave) until the end of `until`."""
    if not access.can_share(actor, client):
        raise ValidationError({"user": _("Only a supervisor of the client's site may share it.")})
    if user.role != Role.SOCIAL_WORKER or user.site_id != client.site_id or not user.is_active:
        raise ValidationError({"user": _("Share with an active social worker of the client's site.")})
    today = timezone.localdate(timezone=client.site.tzinfo)
    if until < today:
        raise ValidationError({"until": _("The end date cannot be in the past.")})
    if until > today + timedelta(days=SHARE_MAX_DAYS):
        raise ValidationError({"until": _("A share lasts at most 90 days; share again when it ends.")})
    if client.assigned_social_worker_id == user.pk:
        raise ValidationError({"user": _("This social worker is already assigned to the client.")})
    # Access ends at the end of the chosen day at the client's site.
    expires_at = datetime.combine(until, time.max, tzinfo=client.site.tzinfo)
    _grant_to_user(client, user, GrantKind.SHARE, can_edit=can_edit, expires_at=expires_at, granted_by=actor)
    _log_share(
        AccessAction.CREATE, client.pk, user.pk, fields=["can_edit"] if can_edit else [], reason=f"until {until}"
    )
    return ClientUserObjectPermission.objects.get(user=user, content_object=client, permission__codename=access.VIEW)


# Shares last at most this long (SPEC §12.5): cover during leave, not a second assignment.
SHARE_MAX_DAYS = 90
SHARE_OBJECT_TYPE = "cases.client.share"


def _log_share(action, client_id, user_id, *, fields=(), reason="", rows=None):
    """A share made, revoked or expired, in the client's access log: the object is the user
    the client was lent to."""

    who, ip = audit._who_and_where()
    audit.insert_entries(
        user=who,
        ip=ip,
        action=action,
        object_type=SHARE_OBJECT_TYPE,
        rows=rows if rows is not None else [(user_id, client_id)],
        fields=fields,
        reason=reason,
    )


@transaction.atomic
def client_share_revoke(*, actor, client, user) -> None:
    """End a share before its date (supervisors of the site, admins)."""
    if not access.can_share(actor, client):
        raise PermissionDenied
    deleted, _ = ClientUserObjectPermission.objects.filter(
        user=user, content_object=client, kind=GrantKind.SHARE
    ).delete()
    if not deleted:
        raise Http404
    _log_share(AccessAction.DELETE, client.pk, user.pk, reason="revoked")
    _reach_changed(actor, client)


@transaction.atomic
def client_shares_expire(*, now=None) -> int:
    """Delete expired share and emergency grants. The policy already ignores them; this keeps
    the table small and guardian's own `has_perm` truthful. Each expired share is logged."""
    now = now or timezone.now()
    expired = ClientUserObjectPermission.objects.filter(
        kind__in=(GrantKind.SHARE, GrantKind.BREAK_GLASS), expires_at__lte=now
    )
    shares = (
        expired.filter(kind=GrantKind.SHARE, permission__codename=access.VIEW)
        .order_by()
        .values_list("user_id", "content_object_id")
    )
    _log_share(AccessAction.DELETE, None, None, reason="expired", rows=list(shares))
    deleted, _ = expired.delete()
    return deleted


BREAK_GLASS_HOURS = 24


@transaction.atomic
def client_break_glass(*, actor, client, reason) -> ClientUserObjectPermission:
    """Open a client outside one's reach in an emergency (SPEC §7): read access for 24 hours,
    logged with the reason, and the site's supervisors told through the outbox."""

    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Say in a sentence why you need this client now.")})
    if access.reaches_client(actor, client.pk):
        raise ValidationError({"reason": _("You already have access to this client.")})
    expires_at = timezone.now() + timedelta(hours=BREAK_GLASS_HOURS)
    ClientUserObjectPermission.objects.update_or_create(
        user=actor,
        permission=_permissions(access.VIEW)[access.VIEW],
        content_object=client,
        defaults={"kind": GrantKind.BREAK_GLASS, "expires_at": expires_at, "granted_by": actor},
    )
    entry = audit.log_access(
        action=AccessAction.BREAK_GLASS,
        object_type="cases.client",
        object_id=client.pk,
        client_id=client.pk,
        reason=reason,
        user=actor,
    )
    # The subject is the log entry: each emergency opening is its own notice.
    outbox.insert_notifications(
        Client.objects.filter(pk=client.pk, site__users__role=Role.SUPERVISOR, site__users__is_active=True),
        kind=NotificationKind.BREAK_GLASS,
        subject_type=BREAK_GLASS_SUBJECT,
        subject=Value(entry.pk, output_field=BigIntegerField()),
        recipient_user="site__users__id",
    )
    return ClientUserObjectPermission.objects.get(user=actor, content_object=client, kind=GrantKind.BREAK_GLASS)


BREAK_GLASS_SUBJECT = "cases.accesslog"


@transaction.atomic
def user_reset_second_factor(*, actor, user) -> int:
    """An admin resets a user's second factor (a lost phone): every authenticator device of
    the user goes (the next sign-in enrols a new one) and, with them, every API token
    (cases.tokens); the reset is in the access log. How many devices there were."""

    if not access.is_admin(actor):
        raise PermissionDenied
    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    tokens.revoke_all(user)
    audit.log_access(action=AccessAction.UPDATE, object_type="cases.user", object_id=user.pk, fields=["second_factor"])
    return len(devices)


def render_break_glass(notification) -> str:
    entry = AccessLog.objects.select_related("user").get(pk=notification.subject_id)
    client = Client.objects.only("code").get(pk=entry.client_id)
    return _("Emergency access: %(user)s opened client %(code)s for 24 hours. Reason: %(reason)s") % {
        "user": entry.user.get_full_name() or entry.user.username,
        "code": client.code,
        "reason": entry.reason,
    }
