"""The caseload and cascade reports (SPEC §8 `reports/caseload/`, `reports/cascade/`; the
supervisor's page, SPEC §9). Each is one set-based aggregate over the clients in reach
(reports.access) joined with per-client aggregates of visits, referrals, incidents, viral
loads and refills; no loop over clients in Python. Every figure comes with its definition
(WHO person-centred HIV indicators)."""

import datetime

from django.db.models import Count, F, Max, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from cases.models import ClientStatus, User
from cases.selectors import ArvState, with_arv_state
from outreach.models import OPEN_INCIDENT_STATUSES, HomeVisit, Incident
from referrals.models import OPEN_STATUSES, Referral

from . import access, indicators
from .derived import flag, run_joined

# A client in care: neither moved away, stopped nor deceased.
IN_CARE = (ClientStatus.ACTIVE, ClientStatus.LTFU)


def scoped_clients(user, scope):
    """The clients (with their ARV state as of `scope.today`) the report counts: the
    user's reach narrowed by the scope's site, group and worker."""
    return with_arv_state(scope.narrow(access.report_clients(user)), today=scope.today)


def _per_client(queryset, **value):
    """`queryset` grouped by client: one row per client, `cid` and the named aggregate."""
    return queryset.order_by().values(cid=F("client_id")).annotate(**value)


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
    rows = run_joined(
        _CASELOAD_SQL,
        clients=clients.order_by().values(
            cid=F("pk"),
            worker=F("assigned_social_worker"),
            due=flag(Q(arv_state=ArvState.DUE)),
            late=flag(Q(arv_state=ArvState.LATE)),
            ltfu=flag(Q(arv_state=ArvState.LTFU)),
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
