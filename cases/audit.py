"""Recording the access log: the single story of who saw and changed a client (SPEC §7, §12.5).

Every write is logged by the service that makes it, in its transaction (a rolled-back write
leaves no entry): a single record through `save` / `create` / `delete` / `m2m` / `set_m2m`,
rows written in bulk (a queryset's `.update()`, an INSERT … SELECT) through `logged_update` /
`log_created`, which log every row they touched in one more statement. Which records are
logged, each app says (`access_logged` on its AppConfig).

Every client row a user receives is a read: the views that show clients call `log_rows` /
`log_client_reads` once per request, one set-based INSERT for the whole page
(kind `list` for lists, searches and exports; `detail` for one client: its page, its edit
form, the answer to a write, its timeline).

The acting user and address come from the request being served; outside a request the user
is the one named by `acting_as`, or empty (the reminder engine).
"""

import contextlib
import contextvars
import json

from django.apps import apps as django_apps
from django.db import connection, transaction
from django.utils import timezone

from .models import AccessAction, AccessKind, AccessLog, Client
from .security.lockout import client_ip

_current_request = contextvars.ContextVar("basodara_request", default=None)
# Outside a request (a command, a task) the code that acts on a user's behalf says so.
_current_actor = contextvars.ContextVar("basodara_actor", default=None)

# Records written by the engine in bulk or that are themselves logs and grants.
UNLOGGED_MODELS = {
    "cases.accesslog",
    "cases.notification",
    "cases.clientcodecounter",
    "cases.clientuserobjectpermission",
    "cases.clientgroupobjectpermission",
}


class AuditContextMiddleware:
    """Remember the request so that log entries know who and from where."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


@contextlib.contextmanager
def acting_as(user):
    """Writes made inside are logged as `user`'s when no request names the user: an import
    run by a command or a worker is the work of the person who started it."""
    token = _current_actor.set(user)
    try:
        yield
    finally:
        _current_actor.reset(token)


def _who_and_where():
    request = _current_request.get()
    if request is None:
        return _current_actor.get(), None
    # DRF sets the authenticated user on the underlying request too (token or session).

    user = getattr(request, "user", None)
    user = user if user is not None and user.is_authenticated else None
    return user, client_ip(request)


def _client_of(instance):
    if isinstance(instance, Client):
        return instance.pk
    client_id = getattr(instance, "client_id", None)
    if client_id is not None:
        return client_id
    # A record about a client through another (an attempt of a tracing, a step of a referral)
    # names that other on its model (`access_log_client_via`): this module names no app's.
    via = getattr(type(instance), "access_log_client_via", None)
    related = getattr(instance, via, None) if via else None
    return getattr(related, "client_id", None)


def log_access(
    *, action, instance=None, object_type=None, object_id=None, client_id=None, fields=(), reason="", user=None, kind=""
):
    who, ip = _who_and_where()
    return AccessLog.objects.create(
        user=user or who,
        action=action,
        kind=kind,
        object_type=object_type or instance._meta.label_lower,
        object_id=str(object_id if object_id is not None else instance.pk),
        client_id=client_id if client_id is not None else (_client_of(instance) if instance is not None else None),
        fields=sorted(fields),
        ip=ip,
        reason=reason,
    )


def log_client_read(client, *, what="detail"):
    log_client_reads([client.pk], kind=AccessKind.DETAIL, what=what)


def insert_entries(*, user, ip, action, object_type, rows, kind="", fields=(), reason=""):
    """Add one entry per (object id, client id) of `rows` in ONE statement: on PostgreSQL an
    INSERT … SELECT over the arrays of ids (set-based, whatever the number of rows); on
    SQLite a bulk insert (batched: SQLite caps a statement's parameters). Entries are only
    ever added."""
    rows = list(rows)
    if not rows:
        return 0
    now = timezone.now()
    user_id = getattr(user, "pk", user)
    fields = sorted(fields)
    if connection.vendor == "postgresql":
        object_ids = [str(object_id) for object_id, _client in rows]
        client_ids = [client_id for _object, client_id in rows]
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cases_accesslog (at, user_id, action, kind, object_type, object_id, client_id, "
                "fields, ip, reason) "
                "SELECT %s, %s, %s, %s, %s, o, c, %s::jsonb, %s::inet, %s "
                "FROM unnest(%s::varchar[], %s::bigint[]) AS t(o, c)",
                [now, user_id, action, kind, object_type, json.dumps(fields), ip, reason, object_ids, client_ids],
            )
            return cursor.rowcount
    AccessLog.objects.bulk_create(
        (
            AccessLog(
                at=now,
                user_id=user_id,
                action=action,
                kind=kind,
                object_type=object_type,
                object_id=str(object_id),
                client_id=client_id,
                fields=fields,
                ip=ip,
                reason=reason,
            )
            for object_id, client_id in rows
        ),
        batch_size=500,
    )
    return len(rows)


def log_client_reads(client_ids, *, kind, what=None, user=None):
    """The reads of these clients by the request's user (or `user`), one statement."""
    who, ip = _who_and_where()
    return insert_entries(
        user=user or who,
        ip=ip,
        action=AccessAction.READ,
        kind=kind,
        object_type=f"cases.client.{what or kind}",
        rows=((pk, pk) for pk in client_ids),
    )


def log_rows(rows, *, kind=AccessKind.LIST, what=None, key="id"):
    """Log the client rows (dicts or objects with `key`) a response carries; the rows."""
    rows = list(rows)
    ids = [row[key] if isinstance(row, dict) else getattr(row, key) for row in rows]
    log_client_reads(ids, kind=kind, what=what)
    return rows


def client_reads_logger(*, what, user=None):
    """A function logging reads of many clients by id in one INSERT per call (kind list).

    Who (`user`, default the request's) and from where are bound now, so a response
    streamed after the view returned, when the request context is gone, still logs its
    reader; outside a request (a command) pass `user`."""
    who, ip = _who_and_where()
    user = user or who
    object_type = f"cases.client.{what}"

    def log(client_ids):
        insert_entries(
            user=user,
            ip=ip,
            action=AccessAction.READ,
            kind=AccessKind.LIST,
            object_type=object_type,
            rows=((pk, pk) for pk in client_ids),
        )

    return log


def _client_column(model):
    if model is Client:
        return "pk"
    if any(f.name == "client" for f in model._meta.concrete_fields):
        return "client_id"
    via = getattr(model, "access_log_client_via", None)
    return f"{via}__client_id" if via else None


def _object_client_pairs(queryset):
    column = _client_column(queryset.model)
    if column is None:
        return [(pk, None) for pk in queryset.values_list("pk", flat=True)]
    return list(queryset.values_list("pk", column))


@transaction.atomic
def logged_update(queryset, **values):
    """`queryset.update(**values)`, with an `update` entry naming the changed fields for each
    row it changed (what a bulk update's missing signals would not tell). The rows are
    read, then updated only if still matching, in the same transaction."""
    # Locked as read (the table's own rows only), so the update changes exactly these.
    pairs = _object_client_pairs(queryset.order_by().select_for_update(of=("self",)))
    if not pairs:
        return 0
    changed = queryset.filter(pk__in=[pk for pk, _client in pairs]).update(**values)
    who, ip = _who_and_where()
    fields = [name for name in values if name not in ("updated_at", "version")]
    insert_entries(
        user=who,
        ip=ip,
        action=AccessAction.UPDATE,
        object_type=queryset.model._meta.label_lower,
        rows=pairs,
        fields=fields,
    )
    return changed


def log_created(model, pairs):
    """`create` entries for rows of `model` inserted in bulk: (id, client id) pairs."""
    who, ip = _who_and_where()
    return insert_entries(user=who, ip=ip, action=AccessAction.CREATE, object_type=model._meta.label_lower, rows=pairs)


def is_logged(model) -> bool:
    meta = model._meta
    return (
        # Each app says whether its records are logged (`access_logged` on its AppConfig):
        # this module names no app above it.
        getattr(django_apps.app_configs.get(meta.app_label), "access_logged", False)
        and meta.label_lower not in UNLOGGED_MODELS
        # A migration's historical model is not the app's: its tables may lack today's columns,
        # the log's among them; and what a migration writes is no user's act.
        and django_apps.all_models[meta.app_label].get(meta.model_name) is model
    )


# --- writes of single records, logged by the services that make them -------------------------

# Fields whose change is no one's act on the record: they move with every save.
UNNAMED_FIELDS = ("updated_at", "version")


def changed_fields(model, before, instance) -> list:
    """The fields of `instance` whose value differs from `before` (a row as `.values()`)."""
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.attname in before and before[f.attname] != getattr(instance, f.attname) and f.name not in UNNAMED_FIELDS
    ]


# Set while a write below is being made: the record it writes is logged by it.
_logging_write = contextvars.ContextVar("basodara_logging_write", default=False)


def logging_write() -> bool:
    """Whether the record being written now is logged by the write (`save`, `delete`, `m2m`):
    the test suite fails on a write of a logged record made while serving a request
    without it (tests/conftest.py)."""
    return _logging_write.get()


@contextlib.contextmanager
def _write():
    token = _logging_write.set(True)
    try:
        yield
    finally:
        _logging_write.reset(token)


def save(instance, **save_kwargs):
    """Save `instance` and log it in the same transaction: `create` for a new row, else
    `update` naming the fields whose stored value changed (no entry when none did). This is
    how services save a record of a logged app; `save_kwargs` go to `Model.save`."""
    model = type(instance)
    logged = is_logged(model)
    before = None
    if instance.pk is not None and logged:
        concrete = [f.attname for f in model._meta.concrete_fields]
        before = model._base_manager.filter(pk=instance.pk).values(*concrete).first()
    with _write():
        instance.save(**save_kwargs)
    if not logged:
        return instance
    if before is None:
        log_access(action=AccessAction.CREATE, instance=instance)
    else:
        fields = changed_fields(model, before, instance)
        if fields:
            log_access(action=AccessAction.UPDATE, instance=instance, fields=fields)
    return instance


def create(model, **fields):
    """`model.objects.create(**fields)`, logged (`save`)."""
    return save(model(**fields))


def delete(instance):
    """Delete `instance` and log it, in the same transaction."""
    if is_logged(type(instance)):
        log_access(action=AccessAction.DELETE, instance=instance)
    with _write():
        instance.delete()


@contextlib.contextmanager
def m2m(instance, field):
    """Around adding to or taking from the many-to-many `field` of `instance`: the change is
    logged as an update of that field."""
    with _write():
        yield getattr(instance, field)
    if is_logged(type(instance)):
        log_access(action=AccessAction.UPDATE, instance=instance, fields=[field])


def set_m2m(instance, field, values):
    """`instance.<field>.set(values)`, logged when the set changed; whether it changed."""
    manager = getattr(instance, field)
    before = set(manager.values_list("pk", flat=True))
    with _write():
        manager.set(values)
    changed = before != set(manager.values_list("pk", flat=True))
    if changed and is_logged(type(instance)):
        log_access(action=AccessAction.UPDATE, instance=instance, fields=[field])
    return changed
