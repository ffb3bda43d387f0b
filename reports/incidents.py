"""The incident report (SPEC §8 `reports/incidents/`): the rapid-response team's figures
for a site and period, measured against each incident's own targets (set at intake from
the site's targets for its urgency)."""

import statistics

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outreach.models import Incident, IncidentStatus, Urgency

from . import access

DEFINITIONS = {
    "total": _("Incidents reported in the period (site-local days)."),
    "median_minutes_to_acknowledge": _("Median minutes from report to acknowledgement, over those acknowledged."),
    "median_minutes_to_resolve": _("Median minutes from report to resolution, over those resolved."),
    "acknowledged_within_target": _(
        "Share acknowledged by their target time, over those acknowledged or already past the target."
    ),
    "resolved_within_target": _("Share resolved by their target time, over those resolved or already past the target."),
}


def scoped_incidents(user, scope):
    visible = access.report_incidents(user)
    # By id: the visible set may be DISTINCT (volunteers), which aggregates must not see.
    incidents = Incident.objects.filter(pk__in=visible.values("pk"))
    incidents = incidents.filter(reported_at__gte=scope.since, reported_at__lt=scope.until)
    return scope.narrow(incidents, group="client__support_groups", worker="client__assigned_social_worker").order_by()


def _median_minutes(durations):
    minutes = [d.total_seconds() / 60 for d in durations]
    return {"value": round(statistics.median(minutes), 1) if minutes else None, "n": len(minutes)}


def _within_target(rows, done, due, now):
    """Share done by the target, over those done or not done and already past it.
    Cancelled incidents have no target left to meet."""
    counted = [r for r in rows if r["status"] != IncidentStatus.CANCELLED and (r[done] or r[due] < now)]
    on_time = sum(1 for r in counted if r[done] and r[done] <= r[due])
    return {"value": round(on_time / len(counted), 4) if counted else None, "n": len(counted)}


def _figures(rows, now):
    return {
        "median_minutes_to_acknowledge": _median_minutes(
            r["acknowledged_at"] - r["reported_at"] for r in rows if r["acknowledged_at"]
        ),
        "median_minutes_to_resolve": _median_minutes(
            r["resolved_at"] - r["reported_at"] for r in rows if r["resolved_at"]
        ),
        "acknowledged_within_target": _within_target(rows, "acknowledged_at", "ack_due_at", now),
        "resolved_within_target": _within_target(rows, "resolved_at", "resolve_due_at", now),
    }


FIELDS = ("urgency", "kind", "status", "reported_at", "acknowledged_at", "resolved_at", "ack_due_at", "resolve_due_at")


def incident_report(user, scope, *, now=None) -> dict:
    """One query: a site's incidents of a period are tens to hundreds of short rows; the
    medians need each duration anyway."""
    now = now or timezone.now()
    rows = list(scoped_incidents(user, scope).values(*FIELDS))
    by_status = dict.fromkeys(IncidentStatus.values, 0)
    by_kind = {}
    for r in rows:
        by_status[r["status"]] += 1
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + 1
    overall = _figures(rows, now)
    for key, figure in overall.items():
        figure["definition"] = str(DEFINITIONS[key])
    by_urgency = []
    for urgency in Urgency.values:
        subset = [r for r in rows if r["urgency"] == urgency]
        by_urgency.append({"urgency": urgency, "count": len(subset), **_figures(subset, now)})
    return {
        "total": len(rows),
        "total_definition": str(DEFINITIONS["total"]),
        "by_status": by_status,
        "by_kind": dict(sorted(by_kind.items())),
        **overall,
        "by_urgency": by_urgency,
    }
