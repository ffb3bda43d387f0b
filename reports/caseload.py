"""The supervisor's caseload review (SPEC §9): per social worker of a site, and the site's
care cascade. Both are one aggregate query over the client rows the API lists
(cases.selectors.client_rows), scoped by the same policy; no loop over clients in Python."""

from datetime import timedelta

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from cases import access
from cases.models import ClientStatus, Role, ViralLoad
from cases.models.arv import VL_SUPPRESSION_THRESHOLD
from cases.selectors import ArvState, client_rows

# A client in care: neither moved away, stopped nor deceased.
IN_CARE = (ClientStatus.ACTIVE, ClientStatus.LTFU)
VL_WINDOW = timedelta(days=365)


def may_review_caseload(user) -> bool:
    """Caseload and cascade reports of a site: its supervisors, and admins (SPEC §7 reports)."""
    return access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def _site_rows(user, site, today):
    return client_rows(access.clients_visible_to(user).filter(site=site), today=today)


def caseload_by_worker(user, *, site, today):
    """One row per assigned social worker: clients in care, due, late, LTFU, the oldest last
    visit (the longest a client has gone unvisited), clients never visited, open referrals."""
    rows = (
        _site_rows(user, site, today)
        .filter(status__in=IN_CARE, assigned_social_worker__isnull=False)
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
            oldest_last_visit=Min("last_visit_date"),
            latest_visit=Max("last_visit_date"),
            never_visited=Count("pk", filter=Q(last_visit_date__isnull=True)),
            open_referrals=Coalesce(Sum("open_referrals"), 0),
        )
        .order_by("assigned_social_worker__username")
    )
    result = []
    for row in rows:  # one row per worker, not per client
        name = f"{row['assigned_social_worker__first_name']} {row['assigned_social_worker__last_name']}".strip()
        oldest = row["oldest_last_visit"]
        result.append(
            {
                **row,
                "worker_id": row["assigned_social_worker"],
                "worker": name or row["assigned_social_worker__username"],
                "days_since_visit_max": (today - oldest).days if oldest else None,
            }
        )
    return result


def cascade(user, *, site, today):
    """The site's care cascade, each stage within the one before:
    registered (in care) → on ART → refilled on time (on_time or due) → viral load tested in
    the last 12 months → suppressed (latest result in 12 months < 1000 copies/mL)."""
    since = today - VL_WINDOW
    recent = ViralLoad.objects.filter(client=OuterRef("pk"), sample_date__gt=since, sample_date__lte=today)
    latest_copies = Subquery(recent.order_by("-sample_date", "-id").values("copies_per_ml")[:1])
    on_art = Q(art_start_date__isnull=False)
    on_time = on_art & Q(arv_state__in=(ArvState.ON_TIME, ArvState.DUE))
    tested = on_time & Q(has_recent_vl=True)
    suppressed = tested & Q(latest_vl__lt=VL_SUPPRESSION_THRESHOLD)
    figures = (
        _site_rows(user, site, today)
        .filter(status__in=IN_CARE)
        .annotate(has_recent_vl=Exists(recent), latest_vl=latest_copies)
        .aggregate(
            registered=Count("pk"),
            on_art=Count("pk", filter=on_art),
            on_time=Count("pk", filter=on_time),
            vl_tested=Count("pk", filter=tested),
            suppressed=Count("pk", filter=suppressed),
        )
    )
    base = figures["registered"] or 1
    labels = (
        ("registered", _("Registered")),
        ("on_art", _("On ART")),
        ("on_time", _("Refilled on time")),
        ("vl_tested", _("VL tested (12 months)")),
        ("suppressed", _("Suppressed")),
    )
    return [
        {"key": k, "label": label, "count": figures[k], "percent": round(100 * figures[k] / base)}
        for k, label in labels
    ]
