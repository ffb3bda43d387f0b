"""Recording the access log. Writes are caught for every model of the case apps (signals,
inside the writing transaction, so a rolled-back write leaves no entry); reads of a
client are recorded by the views that show one. The acting user and address come from the
request being served; outside a request the user is the one named by `acting_as`, or empty
(the reminder engine).
"""

import contextlib
import contextvars

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from .models import AccessAction, AccessLog, Client

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
LOGGED_APPS = {"cases", "outreach", "referrals", "empowerment"}


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
    return user, request.META.get("REMOTE_ADDR")


def _client_of(instance):
    if isinstance(instance, Client):
        return instance.pk
    client_id = getattr(instance, "client_id", None)
    if client_id is not None:
        return client_id
    for parent in ("visit", "tracing", "referral", "incident"):
        related = getattr(instance, parent, None)
        if related is not None and getattr(related, "client_id", None):
            return related.client_id
    return None


def log_access(
    *, action, instance=None, object_type=None, object_id=None, client_id=None, fields=(), reason="", user=None
):
    who, ip = _who_and_where()
    return AccessLog.objects.create(
        user=user or who,
        action=action,
        object_type=object_type or instance._meta.label_lower,
        object_id=str(object_id if object_id is not None else instance.pk),
        client_id=client_id if client_id is not None else (_client_of(instance) if instance is not None else None),
        fields=sorted(fields),
        ip=ip,
        reason=reason,
    )


def log_client_read(client, *, what="detail"):
    log_access(action=AccessAction.READ, object_type=f"cases.client.{what}", object_id=client.pk, client_id=client.pk)


def client_reads_logger(*, what, user=None):
    """A function logging reads of many clients by id in one bulk INSERT per call (batched
    on SQLite, which caps a statement's parameters); rows are only ever added.

    Who (`user`, default the request's) and from where are bound now, so a response
    streamed after the view returned, when the request context is gone, still logs its
    reader; outside a request (a command) pass `user`."""
    who, ip = _who_and_where()
    user = user or who
    object_type = f"cases.client.{what}"

    def log(client_ids):
        AccessLog.objects.bulk_create(
            AccessLog(
                user=user,
                action=AccessAction.READ,
                object_type=object_type,
                object_id=str(pk),
                client_id=pk,
                ip=ip,
            )
            for pk in client_ids
        )

    return log


def _is_logged(sender):
    return sender._meta.app_label in LOGGED_APPS and sender._meta.label_lower not in UNLOGGED_MODELS


def _remember_old_values(sender, instance, raw=False, **kwargs):
    if raw or not _is_logged(sender) or instance.pk is None:
        return
    concrete = [f.attname for f in sender._meta.concrete_fields]
    instance._audit_before = sender._base_manager.filter(pk=instance.pk).values(*concrete).first()


def _log_save(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw or not _is_logged(sender):
        return
    if created:
        log_access(action=AccessAction.CREATE, instance=instance)
        return
    before = getattr(instance, "_audit_before", None) or {}
    changed = [
        f.name
        for f in sender._meta.concrete_fields
        if f.attname in before
        and before[f.attname] != getattr(instance, f.attname)
        and f.name not in ("updated_at", "version")
    ]
    if changed:
        log_access(action=AccessAction.UPDATE, instance=instance, fields=changed)


def _log_delete(sender, instance, **kwargs):
    if _is_logged(sender):
        log_access(action=AccessAction.DELETE, instance=instance)


def _log_m2m(sender, instance, action, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or not _is_logged(type(instance)):
        return
    field = next((f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender), None)
    if field:
        log_access(action=AccessAction.UPDATE, instance=instance, fields=[field])


def connect():
    pre_save.connect(_remember_old_values, dispatch_uid="audit-pre-save")
    post_save.connect(_log_save, dispatch_uid="audit-post-save")
    post_delete.connect(_log_delete, dispatch_uid="audit-post-delete")
    m2m_changed.connect(_log_m2m, dispatch_uid="audit-m2m")
