"""The caseload and cascade reports (SPEC §8 `reports/caseload/`, `reports/cascade/`; the
supervisor's page, SPEC §9). Each is one set-based aggregate over the clients in reach
(reports.access) joined with per-client aggregates of visits, referrals, incidents, viral
loads and refills; no loop over clients in Python. Every figure comes with its definition
(WHO person-centred HIV indicators)."""

import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from cases import access as cases_access
from cases.models import ClientStatus, Role, User
from cases.selectors import ArvState, with_arv_state
from outreach.models import OPEN_INCIDENT_STATUSES, HomeVisit, Incident
from referrals.models import OPEN_STATUSES, Referral

from . import access, indicators

# A client in care: neither moved away, stopped nor deceased.
IN_CARE = (ClientStatus.ACTIVE, ClientStatus.LTFU)


def may_review_caseload(user) -> bool:
    """The supervisor's review page: a site's supervisors, and admins (SPEC §9)."""
    return cases_access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def scoped_clients(user, scope):
    """The clients (with their ARV state as of `scope.today`) the report counts: the
    user's reach narrowed by the scope's site, group and worker."""
    return with_arv_state(scope.narrow(access.report_clients(user)), today=scope.today)


def _flag(condition):
    """1 where `condition` holds for the row, else 0: what the outer query sums."""
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _per_client(queryset, **value):
    """`queryset` grouped by client: one row per client, `cid` and the named aggregate."""
    return queryset.order_by().values(cid=F("client_id")).annotate(**value)


def _aggregate(outer, **tables):
    """Run `outer` with each `{name}` replaced by the SQL of the queryset `tables[name]`,
    in the order they appear, and return its rows.

    A report is set-based when each figure is aggregated once per client and joined, not
    computed by a correlated subquery for every client (4–6 index probes for each of 90 000
    clients, and a plan costly enough for PostgreSQL to JIT-compile it: seconds). Django's
    ORM joins models, not grouped querysets, so the querysets (scoped by the policy, built
    by the ORM) are joined here as derived tables. None is answered for a reach that is
    empty by construction (a role without reports), whose SQL Django will not write."""
    # Each table once, so that the parameters follow the order of the placeholders.
    assert all(outer.count("{" + name + "}") == 1 for name in tables), "each derived table appears once"
    params = []
    compiled = {}
    for name in sorted(tables, key=lambda name: outer.index("{" + name + "}")):
        try:
            sql, table_params = tables[name].query.sql_with_params()
        except EmptyResultSet:
            return None
        compiled[name] = sql
        params.extend(table_params)
    with connection.cursor() as cursor:
        cursor.execute(outer.format(**compiled), params)
        return cursor.fetchall()


def _as_date(value):
    # SQLite hands dates back as text.
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


CASELOAD_DEFINITIONS = {
    "clients": _("Clients in care (active or lost to follow-up) assigned to the social worker."),
    "due": _("Of them, ARV refill due within the site's reminder window."),
    "late": _("Of them, refill late but not yet lost to follow-up."),
    "ltfu": _("Of them, lost to follow-up today: no refill {ltfu} or more after the due date."),
    "visits": _("Visits and contacts recorded for these clients in the period, by anyone."),
    "days_since_last_visit": _("Days since the last visit of the client who has waited longest (visited ones)."),
    "never_visited": _("Clients with no visit recorded yet."),
    "open_referrals": _("Referrals of these clients not yet closed (draft, sent or accepted)."),
    "open_incidents": _("Incidents about these clients not yet resolved (reported, acknowledged, responding)."),
}


def caseload_definitions(user, scope) -> dict:
    """CASELOAD_DEFINITIONS in words, with the LTFU days of the site(s) counted."""
    words = indicators.ltfu_words(indicators.ltfu_days_of(user, scope))
    return {key: str(text).format(ltfu=words) for key, text in CASELOAD_DEFINITIONS.items()}


_CASELOAD_SQL = """
    SELECT c.worker, COUNT(*), SUM(c.due), SUM(c.late), SUM(c.ltfu),
           COALESCE(SUM(p.value), 0), MIN(v.value), SUM(CASE WHEN v.cid IS NULL THEN 1 ELSE 0 END),
           COALESCE(SUM(r.value), 0), COALESCE(SUM(i.value), 0)
      FROM ({clients}) c
      LEFT JOIN ({last_visit}) v ON v.cid = c.cid
      LEFT JOIN ({visits}) p ON p.cid = c.cid
      LEFT JOIN ({referrals}) r ON r.cid = c.cid
      LEFT JOIN ({incidents}) i ON i.cid = c.cid
     GROUP BY c.worker"""


def caseload_by_worker(user, scope):
    """One row per assigned social worker, with the figures of CASELOAD_DEFINITIONS."""
    in_care = Q(status__in=IN_CARE, assigned_social_worker__isnull=False)
    clients = scoped_clients(user, scope).filter(in_care)
    # The same clients without their ARV state, to limit the per-client aggregates.
    theirs = scope.narrow(access.report_clients(user)).filter(in_care).order_by().values("pk")
    in_period = Q(visited_at__gte=scope.since, visited_at__lt=scope.until)
    rows = _aggregate(
        _CASELOAD_SQL,
        clients=clients.order_by().values(
            cid=F("pk"),
            worker=F("assigned_social_worker"),
            due=_flag(Q(arv_state=ArvState.DUE)),
            late=_flag(Q(arv_state=ArvState.LATE)),
            ltfu=_flag(Q(arv_state=ArvState.LTFU)),
        ),
        # The day of the latest visit, at the site.
        last_visit=_per_client(
            HomeVisit.objects.filter(client__in=theirs), value=TruncDate(Max("visited_at"), tzinfo=scope.tz)
        ),
        visits=_per_client(HomeVisit.objects.filter(in_period, client__in=theirs), value=Count("pk")),
        referrals=_per_client(Referral.objects.filter(client__in=theirs, status__in=OPEN_STATUSES), value=Count("pk")),
        incidents=_per_client(
            Incident.objects.filter(client__in=theirs, status__in=OPEN_INCIDENT_STATUSES), value=Count("pk")
        ),
    )
    if not rows:
        return []
    workers = User.objects.filter(pk__in=[row[0] for row in rows]).only("username", "first_name", "last_name")
    workers = {worker.pk: worker for worker in workers}
    result = []
    for worker_id, clients, due, late, ltfu, visits, oldest, never, referrals, incidents in rows:
        worker = workers[worker_id]
        oldest = _as_date(oldest)
        result.append(
            {
                "worker_id": worker_id,
                "worker": f"{worker.first_name} {worker.last_name}".strip() or worker.username,
                "username": worker.username,
                # PostgreSQL sums counts as numeric.
                "clients": clients,
                "due": int(due),
                "late": int(late),
                "ltfu": int(ltfu),
                "visits": int(visits),
                "days_since_last_visit": (scope.today - oldest).days if oldest else None,
                "never_visited": int(never),
                "open_referrals": int(referrals),
                "open_incidents": int(incidents),
            }
        )
    return sorted(result, key=lambda row: row["username"])
