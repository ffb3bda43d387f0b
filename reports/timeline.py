"""A client's timeline: everything that happened to one client, across the apps, in one
time-ordered, paginated list (SPEC §8 `clients/{id}/timeline/`).

One statement answers a page: the client's reach (`cases.access.clients_visible_to`, the
rule of `client_for_user`) gates a UNION ALL over every source the user may see, each row
its type, id, time and the fields of its record as a JSON object, counted by a window over
the whole union, sorted and cut to the page. One query, whatever the types and the events
(a second only when no row comes back: an empty timeline, or a page past the end).

Within reach no source re-derives it: a source whose rule is "the records of a client in
reach" is every record of this client. Only the rules that look at more than the client are
applied, from the policy modules: which meetings, incidents and programmes the user sees,
and whether the user's role reads the case-management cycle at all
(tests/reports/test_timeline_kinds.py holds the result to the policy modules' querysets).
Each source's SQL depends on the models alone: the ORM compiles it once per process; the
policy's querysets are compiled per request. Running the statement takes well under a
millisecond for a client of the bench's; planning it took longer, so PostgreSQL prepares it
(`prepared_cursor`, basodara.postgresql) and plans it once per connection and shape. The
rest is Python: the policy's querysets (most of it for a volunteer) and building the events.
The SQL is written for PostgreSQL and for SQLite, the embedded default (`_DIALECTS`).
"""

import datetime
import decimal
import functools
import json

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, DateField, DateTimeField, DecimalField, F
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from cases import access as cases_access
from cases import audit
from cases.models import AccessKind, ClientStatusEvent, Refill, ViralLoad
from casework import access as casework_access
from casework.models import Action, Assessment, ClientClosure, Plan, Review
from empowerment import access as empowerment_access
from empowerment.models import Enrolment, ProgrammeSession
from outreach import access as outreach_access
from outreach.models import HomeVisit, Incident, Meeting, ServiceRecord
from referrals.models import Referral
from transfers.models import Transfer

# type → (model, the path from it to the client, its time field, the fields an event of
# that type carries).
SOURCES = {
    "refill": (
        Refill,
        "client",
        "pickup_date",
        ("pickup_date", "days_supplied", "next_due", "facility_id", "missed_doses", "returned_to_treatment"),
    ),
    "viral_load": (ViralLoad, "client", "sample_date", ("sample_date", "copies_per_ml", "suppressed")),
    "status": (
        ClientStatusEvent,
        "client",
        "effective_date",
        ("effective_date", "status", "reason", "recorded_by_id"),
    ),
    "visit": (
        HomeVisit,
        "client",
        "visited_at",
        ("visited_at", "kind", "visitor_id", "missed_doses_7d", "next_visit_date"),
    ),
    "service": (ServiceRecord, "client", "date", ("date", "service", "amount", "provider_id")),
    "meeting": (Meeting, "attendees", "date", ("date", "topic", "support_group_id")),
    "incident": (Incident, "client", "reported_at", ("reported_at", "kind", "urgency", "status")),
    "referral": (
        Referral,
        "client",
        "created_at",
        ("created_at", "service", "to_facility_id", "status", "urgency"),
    ),
    "enrolment": (
        Enrolment,
        "client",
        "enrolled_on",
        ("enrolled_on", "programme_id", "programme__name", "programme__kind", "outcome", "outcome_on"),
    ),
    "session": (ProgrammeSession, "attendees", "date", ("date", "topic", "programme_id", "programme__name")),
    "transfer": (
        Transfer,
        "client",
        "requested_at",
        ("requested_at", "status", "from_site__code", "to_site__code", "accepted_on", "reason"),
    ),
    "assessment": (Assessment, "client", "assessed_on", ("assessed_on", "kind", "assessor_id")),
    "plan": (Plan, "client", "started_on", ("started_on", "ended_on", "created_by_id")),
    "action": (
        Action,
        "client",
        "due_date",
        ("due_date", "description", "owner_id", "status", "done_on", "goal__domain"),
    ),
    "review": (
        Review,
        "client",
        "created_at",
        ("created_at", "assessment_id", "reviewed_by_id", "signed_off_by_id", "signed_off_at"),
    ),
    "closure": (ClientClosure, "client", "closed_on", ("closed_on", "reason", "note", "reopened_on")),
}
# Records of a client in reach, whoever reads them: refills, viral loads, status changes and
# transfers (cases.access.records_visible_to), visits and services (outreach.access), the
# sending side's referrals (referrals.access).
CLIENT_RECORDS = ("refill", "viral_load", "status", "visit", "service", "referral", "transfer")
# The case-management cycle (casework.access): assessments, reviews and closures are read by
# staff, plans and actions by volunteers too.
CASEWORK_RECORDS = ("assessment", "review", "closure")
PLAN_RECORDS = ("plan", "action")


def _key(field):
    """The key a field has in an event: "facility_id" → "facility", "programme__name" → "programme_name"."""
    return field.removesuffix("_id").replace("__", "_")


# The types a policy rule restricts beyond client reach, by the set it names: a meeting or
# an incident the user sees; the programme of an enrolment or a session.
RESTRICTED = {"meeting": "meetings", "incident": "incidents", "enrolment": "programmes", "session": "programmes"}
# The field of a type's rows that set holds (else the row's id).
_RESTRICTED_FIELD = {"enrolment": "programme_id", "session": "programme_id"}


def _visible(user):
    """(the types the user may see of a client in reach, {set name: the ids the policy lets
    the user see}). Enrolments in, and sessions of, the programmes the user sees, of
    clients in reach: empowerment.access.enrolments_visible_to and sessions_visible_to."""
    kinds = [*CLIENT_RECORDS, *RESTRICTED]
    # clients_casework_readable_by is the user's whole reach for these roles and none for
    # the others; clients_plans_readable_by likewise, for may_read_plans_at_all.
    if casework_access.may_read_casework_at_all(user):
        kinds += CASEWORK_RECORDS
    if casework_access.may_read_plans_at_all(user):
        kinds += PLAN_RECORDS
    sets = {
        "meetings": outreach_access.meetings_visible_to(user),
        "incidents": outreach_access.incidents_visible_to(user),
        "programmes": empowerment_access.programmes_visible_to(user),
    }
    return [kind for kind in SOURCES if kind in kinds], sets


def _reader(field):
    """How to read a field's JSON value back as the ORM's value (None: as it is). PostgreSQL
    writes a time with its offset, SQLite as it keeps it (UTC, no offset); SQLite writes a
    boolean as 0 or 1 and a decimal as a number without its places."""
    if isinstance(field, DateTimeField):  # a DateField too: asked first
        return _datetime
    if isinstance(field, DateField):
        return datetime.date.fromisoformat
    if isinstance(field, DecimalField):
        places = decimal.Decimal(1).scaleb(-field.decimal_places)
        return lambda value: decimal.Decimal(str(value)).quantize(places)
    if isinstance(field, BooleanField):
        return bool
    return None


def _datetime(value):
    """A time from the database's text: with its offset (PostgreSQL) or in UTC (SQLite)."""
    moment = datetime.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


# How each database writes an event's columns: its type, time (a date as its midnight, so
# that dates and times sort together) and fields as a JSON object in text.
_DIALECTS = {
    "postgresql": ("'{}'::text", "{}::timestamptz", "json_build_object({})::text"),
    # SQLite keeps dates and times as ISO text ("2026-12-01", "2026-12-01 08:30:00.5"), UTC.
    "sqlite": ("'{}'", "CASE WHEN length({0}) = 10 THEN {0} || ' 00:00:00' ELSE {0} END", "json_object({})"),
}


@functools.cache
def _statements():
    """type → (the SQL of its rows for one client, whose one parameter is the client id:
    type, id, time and the fields as a JSON object; the column the policy's set restricts;
    [(key, how to read its JSON value back)]). Compiled once: they depend on the models only."""
    kind_sql, at_sql, json_sql = _DIALECTS[connection.vendor]
    found = {}
    for kind, (model, to_client, at, fields) in SOURCES.items():
        # Columns named c0 (the id), c1… (the fields): the subquery's names on every database.
        columns = {f"c{i}": F(field) for i, field in enumerate(("id", *fields))}
        rows = model.objects.filter(**{to_client: 0}).order_by().values(**columns)
        compiler = rows.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        assert params == (0,), f"{kind}: the client id is its only parameter"
        pairs = ", ".join(f"'{_key(field)}', s.c{i + 1}" for i, field in enumerate(fields))
        events = (
            f"SELECT {kind_sql.format(kind)} AS type, s.c0 AS id, "
            f"{at_sql.format(f's.c{1 + fields.index(at)}')} AS at, {json_sql.format(pairs)} AS details "
            f"FROM ({sql}) AS s"
        )
        restricted = f"s.c{1 + fields.index(_RESTRICTED_FIELD[kind])}" if kind in _RESTRICTED_FIELD else "s.c0"
        # JSON carries dates, times and decimals as text or numbers: read them back as the
        # ORM gives them (the pages format them; DRF writes them as before).
        outputs = [expression.output_field for expression, _sql, _alias in compiler.select[1:]]
        read = [(_key(field), _reader(output)) for field, output in zip(fields, outputs, strict=True)]
        found[kind] = (events, restricted, read)
    return found


def _union(user, client_id):
    """(WITH clause, SQL, parameters, types) of the rows of every source the user may see
    of the client, given that the client is in reach. The WITH clause names the policy's
    sets of ids, each compiled once (the programmes' serve enrolments and sessions alike)."""
    statements = _statements()
    kinds, sets = _visible(user)
    restricting, empty = {}, set()
    for name, rule in sets.items():
        query = rule.order_by().values("pk").query
        if not query.where and not query.is_sliced:
            continue  # the policy keeps every row of the type (an admin's)
        try:
            restricting[name] = query.sql_with_params()
        except EmptyResultSet:  # the policy keeps none
            empty.add(name)
    parts, params, seen = [], [], []
    for kind in kinds:
        name = RESTRICTED.get(kind)
        if name in empty:
            continue
        events, column, _read = statements[kind]
        parts.append(f"{events} WHERE {column} IN (SELECT pk FROM {name})" if name in restricting else events)
        params.append(client_id)
        seen.append(kind)
    with_ = "".join(f", {name} AS ({sql})" for name, (sql, _params) in restricting.items())
    head = [param for _sql, set_params in restricting.values() for param in set_params]
    return with_, " UNION ALL ".join(parts), [*head, *params], seen


def client_timeline(user, client, *, offset, limit):
    """(total, page of events) of `client` (a client or its id) as `user` may see it, or
    None if the client is out of the user's reach (`cases.access.clients_visible_to`: the
    rule of `client_for_user`, asked in the same statement)."""
    client_id = getattr(client, "pk", client)
    try:
        reach = cases_access.clients_visible_to(user).filter(pk=client_id).order_by().values("pk")
        reach_sql, reach_params = reach.query.sql_with_params()
    except (EmptyResultSet, ValueError, TypeError):
        return None
    statements = _statements()
    with_, union, params, kinds = _union(user, client_id)
    with_ = f"WITH reach AS ({reach_sql}){with_} "
    params = [*reach_params, *params]
    # The statement's shape is fixed for a role: PostgreSQL prepares it, planning it once per
    # connection instead of on every request (basodara.postgresql; SQLite prepares anyway).
    cursor = getattr(connection, "prepared_cursor", connection.cursor)()
    with cursor:
        if kinds:
            cursor.execute(
                f"{with_}SELECT t.*, count(*) OVER () FROM ({union}) AS t "
                "WHERE EXISTS (SELECT 1 FROM reach) ORDER BY t.at DESC, t.type, t.id DESC LIMIT %s OFFSET %s",
                [*params, limit, offset],
            )
            rows = cursor.fetchall()
        else:
            union, rows = "SELECT NULL WHERE FALSE", []
        if rows:
            total = rows[0][-1]
        else:  # no event, or past the end: no row tells whether the client is in reach, nor the count
            cursor.execute(
                f"{with_}SELECT EXISTS (SELECT 1 FROM reach), "
                f"(SELECT count(*) FROM ({union}) AS t WHERE EXISTS (SELECT 1 FROM reach))",
                params,
            )
            in_reach, total = cursor.fetchone()
            if not in_reach:
                return None
    events = []
    for kind, pk, at, text, _total in rows:
        event = {"type": kind, "id": pk, "at": at if isinstance(at, datetime.datetime) else _datetime(at)}
        values = json.loads(text, parse_float=decimal.Decimal)
        for key, reader in statements[kind][2]:
            value = values[key]
            event[key] = value if reader is None or value is None else reader(value)
        events.append(event)
    return total, events


class TimelineEventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(SOURCES))
    id = serializers.IntegerField()
    at = serializers.DateTimeField()


class ClientTimelineView(GenericAPIView):
    """GET clients/{id}/timeline/: newest first; `page`, `page_size` like every list.
    Each event carries its type, id, time and the main fields of its record."""

    serializer_class = TimelineEventSerializer

    @extend_schema(responses={200: OpenApiResponse(TimelineEventSerializer(many=True))})
    def get(self, request, pk):
        paginator = self.pagination_class()
        page_size = paginator.get_page_size(request)
        page = request.query_params.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= 10**6:
            raise NotFound(_("Invalid page."))
        number = int(page)
        # Out of reach is 404 like an unknown id (cases.access.client_for_user's rule).
        found = client_timeline(request.user, pk, offset=(number - 1) * page_size, limit=page_size)
        if found is None:
            raise Http404
        audit.log_client_reads([int(pk)], kind=AccessKind.DETAIL, what="timeline")
        total, events = found
        last = max((total - 1) // page_size + 1, 1)
        if number > last:
            raise NotFound(_("Invalid page."))
        base = request.build_absolute_uri(request.path)
        return Response(
            {
                "count": total,
                "next": f"{base}?page={number + 1}&page_size={page_size}" if number < last else None,
                "previous": f"{base}?page={number - 1}&page_size={page_size}" if number > 1 else None,
                "results": events,
            }
        )
