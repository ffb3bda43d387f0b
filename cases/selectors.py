"""Reads: client rows with their ARV follow-up state, computed in SQL.

A client's `next_refill_due` is a maintained column; what it means depends on the day at
the client's site, so each row compares it with its own site's "today" (a CASE over the
sites' time zones) and the site's own offsets.
"""

import datetime
import zoneinfo

from django.core.cache import cache
from django.db.models import Case, CharField, DateField, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import Greatest
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.utils import timezone

from .models import ClientStatus, Site
from .models.registry import SITE_TIMEZONES_CACHE_KEY


class AddDays(Func):
    """`date + days` for a date expression and an integer expression."""

    arity = 2
    output_field = DateField()

    def as_sql(self, compiler, connection, **extra_context):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        return f"({date_sql} + {days_sql})", (*date_params, *days_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        return f"date({date_sql}, printf('%%+d days', {days_sql}))", (*date_params, *days_params)


class DaysBetween(Func):
    """Whole days from the second date to the first."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        a_sql, a_params = compiler.compile(self.source_expressions[0])
        b_sql, b_params = compiler.compile(self.source_expressions[1])
        return f"({a_sql} - {b_sql})", (*a_params, *b_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        a_sql, a_params = compiler.compile(self.source_expressions[0])
        b_sql, b_params = compiler.compile(self.source_expressions[1])
        return f"CAST(julianday({a_sql}) - julianday({b_sql}) AS INTEGER)", (*a_params, *b_params)


def site_timezones():
    """The time zones sites use. Cached: read on every client list, changed almost never
    (Site writes clear it)."""
    zones = cache.get(SITE_TIMEZONES_CACHE_KEY)
    if zones is None:
        zones = sorted(set(Site.objects.values_list("timezone", flat=True)))
        cache.set(SITE_TIMEZONES_CACHE_KEY, zones, 300)
    return zones


def site_today_expression(today=None):
    """Each row's site-local date (or `today` for every site, when given)."""
    if today is not None:
        return Value(today, output_field=DateField())
    whens = [
        When(
            site__timezone=zone,
            then=Value(timezone.localdate(timezone=zoneinfo.ZoneInfo(zone)), output_field=DateField()),
        )
        for zone in site_timezones()
    ]
    default = Value(timezone.localdate(), output_field=DateField())
    return Case(*whens, default=default, output_field=DateField()) if whens else default


# --- the LTFU rule (SPEC §12.1), the one place that says it -------------------------------------
# As of any day D a client is lost to follow-up when D is the site's LTFU days (28 by default)
# or more past the next-due date of the last refill picked up on or before D. A refill after
# that is a return to treatment. Lists, the reminder scan and every report use these.


def ltfu_from(due, ltfu_days):
    """The first day a client whose last refill ran out on `due` is lost (an SQL expression
    when given expressions, e.g. `ltfu_from(F("next_due"), F("client__site__ltfu_days"))`)."""
    if isinstance(due, datetime.date):
        return due + datetime.timedelta(days=ltfu_days)
    return AddDays(due, ltfu_days)


def ltfu_due_cutoff(day, ltfu_days) -> datetime.date:
    """On `day`, clients whose last refill ran out on or before this date are lost (the same
    rule, as a bound an index on the due date can use)."""
    return day - datetime.timedelta(days=ltfu_days)


class ArvState:
    ON_TIME = "on_time"
    DUE = "due"
    LATE = "late"
    LTFU = "ltfu"
    choices = [(ON_TIME, "on_time"), (DUE, "due"), (LATE, "late"), (LTFU, "ltfu")]


def with_arv_state(clients, *, today=None):
    """Annotate `next_refill_due` users with `days_late` and `arv_state` (SPEC §4 Refill)."""
    due = F("next_refill_due")
    clients = clients.alias(site_today=site_today_expression(today))
    today_ = F("site_today")
    return clients.annotate(
        days_late=Case(
            When(next_refill_due__isnull=True, then=Value(None)),
            default=Greatest(DaysBetween(today_, due), Value(0)),
            output_field=IntegerField(),
        ),
        arv_state=Case(
            When(status=ClientStatus.LTFU, then=Value(ArvState.LTFU)),
            When(~Q(status=ClientStatus.ACTIVE) | Q(next_refill_due__isnull=True), then=Value(None)),
            When(LessThanOrEqual(ltfu_from(due, F("site__ltfu_days")), today_), then=Value(ArvState.LTFU)),
            When(LessThan(due, today_), then=Value(ArvState.LATE)),
            When(LessThanOrEqual(due, AddDays(today_, F("site__refill_upcoming_days"))), then=Value(ArvState.DUE)),
            default=Value(ArvState.ON_TIME),
            output_field=CharField(),
        ),
    )


# --- figures other apps add to client rows ------------------------------------------------------

_row_annotations = {}


def register_client_row_annotation(name, expression_factory):
    """Let an app above `cases` add a computed field to client rows (e.g. outreach's
    `last_visit_date`, referrals' `open_referrals`). `expression_factory()` returns a
    correlated expression over the client row (a Subquery on OuterRef("pk"))."""
    _row_annotations[name] = expression_factory


def client_row_annotations():
    return tuple(_row_annotations)


def clients_matching(clients, text):
    """The clients whose code, full name or nickname contains `text`: the search of the API's
    `q` and of the client list page."""
    text = text.strip()
    if not text:
        return clients
    return clients.filter(Q(code__icontains=text) | Q(full_name__icontains=text) | Q(nickname__icontains=text))


def client_rows(clients, *, today=None):
    """Client rows as lists show them: ARV state plus every registered figure."""
    clients = with_arv_state(clients, today=today)
    return clients.annotate(**{name: factory() for name, factory in _row_annotations.items()})
