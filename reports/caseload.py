"""The caseload and cascade reports (SPEC §8 `reports/caseload/`, `reports/cascade/`; the
supervisor's page, SPEC §9). Each is one aggregate query over the client rows the API
lists (cases.selectors.client_rows), scoped by reports.access; no loop over clients in
Python. Every figure comes with its definition (WHO person-centred HIV indicators)."""

from datetime import timedelta

from django.db.models import Count, Exists, F, IntegerField, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from cases import access as cases_access
from cases.models import ClientStatus, Refill, Role, ViralLoad
from cases.models.arv import VL_SUPPRESSION_THRESHOLD
from cases.selectors import AddDays, ArvState, client_rows
from outreach.models import OPEN_INCIDENT_STATUSES, HomeVisit, Incident

from . import access

# A client in care: neither moved away, stopped nor deceased.
IN_CARE = (ClientStatus.ACTIVE, ClientStatus.LTFU)
VL_WINDOW = timedelta(days=365)


def may_review_caseload(user) -> bool:
    """The supervisor's review page: a site's supervisors, and admins (SPEC §9)."""
    return cases_access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def scoped_clients(user, scope):
    """Client rows (as of `scope.today`) the report counts: the user's reach narrowed by
    the scope's site, group and worker."""
    return client_rows(scope.narrow(access.report_clients(user)), today=scope.today)


def _count_per_client(queryset):
    """A correlated COUNT over `queryset` rows of the outer client."""
    counted = queryset.filter(client=OuterRef("pk")).order_by().values("client").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


CASELOAD_DEFINITIONS = {
    "clients": _("Clients in care (active or lost to follow-up) assigned to the social worker."),
    "due": _("Of them, ARV refill due within the site's reminder window."),
    "late": _("Of them, refill late but not yet lost to follow-up."),
    "ltfu": _("Of them, lost to follow-up: no refill 28 days (the site's setting) after the due date."),
    "visits": _("Visits and contacts recorded for these clients in the period, by anyone."),
    "days_since_last_visit": _("Days since the last visit of the client who has waited longest (visited ones)."),
    "never_visited": _("Clients with no visit recorded yet."),
    "open_referrals": _("Referrals of these clients not yet closed (draft, sent or accepted)."),
    "open_incidents": _("Incidents about these clients not yet resolved (reported, acknowledged, responding)."),
}


def caseload_by_worker(user, scope):
    """One row per assigned social worker, with the figures of CASELOAD_DEFINITIONS."""
    visits = HomeVisit.objects.filter(visited_at__gte=scope.since, visited_at__lt=scope.until)
    incidents = Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES)
    rows = (
        scoped_clients(user, scope)
        .filter(status__in=IN_CARE, assigned_social_worker__isnull=False)
        .annotate(visits_in_period=_count_per_client(visits), incidents_open=_count_per_client(incidents))
        .values(
            "assigned_social_worker",
            "assigned_social_worker__username",
            "assigned_social_worker__first_name",
            "assigned_social_worker__last_name",
        )
        .annotate(
            clients=Count("pk"),
            due=Count("pk", filter=Q(arv_state=ArvState.DUE)),
            late=Count("pk", filter=Q(arv_state=ArvState.LATE)),
            ltfu=Count("pk", filter=Q(arv_state=ArvState.LTFU)),
            visits=Coalesce(Sum("visits_in_period"), 0),
            oldest_last_visit=Min("last_visit_date"),
            latest_visit=Max("last_visit_date"),
            never_visited=Count("pk", filter=Q(last_visit_date__isnull=True)),
            open_referrals=Coalesce(Sum("open_referrals"), 0),
            open_incidents=Coalesce(Sum("incidents_open"), 0),
        )
        .order_by("assigned_social_worker__username")
    )
    result = []
    for row in rows:  # one row per worker, not per client
        name = f"{row['assigned_social_worker__first_name']} {row['assigned_social_worker__last_name']}".strip()
        oldest = row["oldest_last_visit"]
        result.append(
            {
                "worker_id": row["assigned_social_worker"],
                "worker": name or row["assigned_social_worker__username"],
                "username": row["assigned_social_worker__username"],
                "clients": row["clients"],
                "due": row["due"],
                "late": row["late"],
                "ltfu": row["ltfu"],
                "visits": row["visits"],
                "days_since_last_visit": (scope.today - oldest).days if oldest else None,
                "never_visited": row["never_visited"],
                "open_referrals": row["open_referrals"],
                "open_incidents": row["open_incidents"],
            }
        )
    return result


CASCADE_STAGES = (
    (
        "registered",
        _("Registered"),
        _("Clients in care now: registered, and neither transferred out, stopped nor deceased."),
    ),
    ("on_art", _("On ART"), _("Of them, started on ART (an ART start date is recorded). WHO ART.1.")),
    (
        "on_time",
        _("Refilled on time"),
        _("Of them, the latest refill's supply has not run out (on time or due soon)."),
    ),
    (
        "vl_tested",
        _("VL tested (12 months)"),
        _("Of them, a viral load sample taken in the 12 months up to the period's last day."),
    ),
    (
        "suppressed",
        _("Suppressed"),
        _("Of them, the latest result in those 12 months below 1000 copies/mL. WHO VLS."),
    ),
)
CASCADE_FLOWS = (
    (
        "ltfu",
        _("Lost to follow-up in the period"),
        _(
            "Clients lost to follow-up now whose 28 days (the site's setting) after a missed refill "
            "ended in the period. WHO ART.2 attrition."
        ),
    ),
    (
        "returned",
        _("Returned to treatment in the period"),
        _("Clients whose refill in the period brought them back after being lost to follow-up."),
    ),
)


def cascade(user, scope):
    """The care cascade now, each stage within the one before, and the period's flows."""
    since = scope.end - VL_WINDOW
    recent = ViralLoad.objects.filter(client=OuterRef("pk"), sample_date__gt=since, sample_date__lte=scope.end)
    latest_copies = Subquery(recent.order_by("-sample_date", "-id").values("copies_per_ml")[:1])
    returned = Refill.objects.filter(
        client=OuterRef("pk"), returned_to_treatment=True, pickup_date__gte=scope.start, pickup_date__lte=scope.end
    )
    on_art = Q(art_start_date__isnull=False)
    on_time = on_art & Q(arv_state__in=(ArvState.ON_TIME, ArvState.DUE))
    tested = on_time & Q(has_recent_vl=True)
    suppressed = tested & Q(latest_vl__lt=VL_SUPPRESSION_THRESHOLD)
    ltfu_in_period = Q(arv_state=ArvState.LTFU, ltfu_on__gte=scope.start, ltfu_on__lte=scope.end, status__in=IN_CARE)
    figures = (
        scoped_clients(user, scope)
        .annotate(
            has_recent_vl=Exists(recent),
            latest_vl=latest_copies,
            returned_in_period=Exists(returned),
            ltfu_on=AddDays(F("next_refill_due"), F("site__ltfu_days")),
        )
        .aggregate(
            registered=Count("pk", filter=Q(status__in=IN_CARE)),
            on_art=Count("pk", filter=Q(status__in=IN_CARE) & on_art),
            on_time=Count("pk", filter=Q(status__in=IN_CARE) & on_time),
            vl_tested=Count("pk", filter=Q(status__in=IN_CARE) & tested),
            suppressed=Count("pk", filter=Q(status__in=IN_CARE) & suppressed),
            ltfu=Count("pk", filter=ltfu_in_period),
            returned=Count("pk", filter=Q(returned_in_period=True)),
        )
    )
    base = figures["registered"]
    stages = []
    previous = None
    for key, label, definition in CASCADE_STAGES:
        count = figures[key]
        stages.append(
            {
                "key": key,
                "label": str(label),
                "count": count,
                "percent": round(100 * count / base) if base else 0,
                "of_previous": round(100 * count / previous) if previous else None,
                "definition": str(definition),
            }
        )
        previous = count
    flows = [
        {"key": key, "label": str(label), "count": figures[key], "definition": str(definition)}
        for key, label, definition in CASCADE_FLOWS
    ]
    return {"stages": stages, "flows": flows}
