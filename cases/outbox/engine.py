"""The reminder engine (SPEC §6): set-based scans that insert into the notification outbox.

Each scan is an INSERT … SELECT … ON CONFLICT DO NOTHING per kind and site: the database
selects the due rows and the unique constraint on (kind, subject, recipient) drops the ones
already recorded, so running a scan twice, or two scans at once, adds nothing. No client
row passes through Python. Other apps register their scans and message renderers here;
one periodic task runs them all.
"""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, IntegerField, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation

from cases import access
from cases.models import (
    Notification,
    NotificationChannel,
    Site,
)

_scans = []
_renderers = {}
_subject_clients = {}


def register_scan(scan):
    """`scan(*, site, today)` inserts what is due at `site` on its local `today`; returns a count."""
    _scans.append(scan)
    return scan


def register_renderer(subject_type, renderer, *, client=None):
    """`renderer(notification)` returns the text of a notification about `subject_type`.
    `client`, a (model, field) pair such as (Refill, "client_id"), names the client a subject
    tells of: a message to staff about it is then delivered only while its recipient still
    reads that client (`recipient_may_be_told`)."""
    _renderers[subject_type] = renderer
    if client is not None:
        _subject_clients[subject_type] = client


def recipient_may_be_told(notification) -> bool:
    """Whether a staff message may still go to its recipient, checked at delivery: one queued
    before a transfer, a reassignment or withdrawn consent took the client out of the
    recipient's reach is not sent (nor is one whose subject is gone). Messages to clients, and
    subjects with no client (an incident, a transfer to the receiving site), always may."""
    subject_client = _subject_clients.get(notification.subject_type)
    if subject_client is None or notification.recipient_user_id is None:
        return True
    model, field = subject_client
    client_id = model.objects.filter(pk=notification.subject_id).values_list(field, flat=True).first()
    return client_id is not None and access.reaches_client(notification.recipient_user, client_id)


def run_all(*, today=None) -> dict:
    """Run every registered scan for every site; `today` overrides each site's local date."""
    counts = {}
    for site in Site.objects.all():
        site_today = today or timezone.localdate(timezone=site.tzinfo)
        with transaction.atomic():
            for scan in _scans:
                for kind, count in scan(site=site, today=site_today).items():
                    counts[kind] = counts.get(kind, 0) + count
    return counts


def render(notification) -> str:
    """The message, in the installation's language (LANGUAGE_CODE): a worker has no user's
    language, and whatever a previous task left active must not decide a client's SMS."""
    with translation.override(settings.LANGUAGE_CODE):
        return _renderers[notification.subject_type](notification)


# --- inserting into the outbox ---------------------------------------------------------------

_OUTBOX_COLUMNS = (
    "kind",
    "subject_type",
    "subject_id",
    "recipient_key",
    "recipient_user_id",
    "recipient_client_id",
    "site_id",
    "channel",
)


def insert_notifications(
    rows, *, kind, subject_type, subject, recipient_user=None, recipient_client=None, site="site_id"
) -> int:
    """INSERT into the outbox one row per row of the queryset `rows`, skipping any already there.

    `subject`, `recipient_user`, `recipient_client` and `site` name columns (or lookups) of
    `rows`; exactly one of the recipients is given.
    """
    if recipient_user is not None:
        recipient_key = Concat(Value("user:"), Cast(F(recipient_user), CharField()))
        channel = NotificationChannel.IN_APP
        user_column, client_column = F(recipient_user), Value(None, IntegerField())
    else:
        recipient_key = Concat(Value("client:"), Cast(F(recipient_client), CharField()))
        channel = NotificationChannel.SMS
        user_column, client_column = Value(None, IntegerField()), F(recipient_client)
    # Skip rows already recorded before building them: a scan that finds everything sent
    # stays a cheap anti-join. ON CONFLICT still settles two scans racing.
    # `subject` names a column of `rows`, or is an expression (one subject for every row).
    named = isinstance(subject, str)
    recorded = Notification.objects.filter(
        kind=kind,
        subject_type=subject_type,
        subject_id=OuterRef(subject) if named else subject,
        recipient_key=OuterRef("o_recipient_key"),
    )
    select = (
        rows.order_by()
        .annotate(o_recipient_key=recipient_key)
        .exclude(Exists(recorded))
        .annotate(
            o_kind=Value(kind),
            o_subject_type=Value(subject_type),
            o_subject_id=F(subject) if named else subject,
            o_recipient_user=user_column,
            o_recipient_client=client_column,
            o_site=F(site),
            o_channel=Value(channel),
        )
        .values_list(
            "o_kind",
            "o_subject_type",
            "o_subject_id",
            "o_recipient_key",
            "o_recipient_user",
            "o_recipient_client",
            "o_site",
            "o_channel",
        )
    )
    return insert_select(Notification, _OUTBOX_COLUMNS, select)


def insert_select(model, columns, select, *, returning=()):
    """INSERT … SELECT; the number of rows added, or with `returning` those columns of each."""
    sql, params = select.query.sql_with_params()
    quote = connection.ops.quote_name
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"{sql} ON CONFLICT DO NOTHING"
    )
    if returning:
        statement += f" RETURNING {', '.join(quote(c) for c in returning)}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if returning else cursor.rowcount
