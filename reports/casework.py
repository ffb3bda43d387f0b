"""The case-management report (SPEC §12.2, issue 17 item 6) `reports/casework/`: clients
with a current plan, reviews done on time, domains improved between the first and the latest
assessment, closures by reason — for a period, each computed from dated facts (plan start
and end, assessment dates, closure and reopening dates) as of the period's last day, so a
past quarter answers the same next year.

Plans and closures are counted in SQL. Review timeliness and score changes compare each
assessment with the one before or the first one of its client, and a review's due date
counts calendar months of its site: those read the period's assessments (one query each,
ordered), never one query per client."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from cases.models import ClosureReason
from casework.models import DOMAINS, Assessment, ClientClosure, Domain, Plan, score_field
from casework.reminders import months_after

from . import access, sites

DEFINITIONS = {
    "open_cases": _(
        "Clients who consented by the period's last day and whose case was open on that day (not closed, or "
        "reopened). For a site, every figure counts the clients it held on that day: a client transferred in the "
        "period counts at the site that took it."
    ),
    "with_current_plan": _(
        "Of the open cases, those with an intervention plan running on the period's last day (started by then, "
        "not ended)."
    ),
    "reviews_on_time": _(
        "Reviews that fell due in the period (the site's months after an assessment, while the case was open, "
        "and not reviewed before the period began) and were done by their due date, with a reassessment."
    ),
    "domains_improved": _(
        "Clients reassessed in the period (their latest assessment by its last day falls in it, after an earlier "
        "one): per domain, those whose latest score is higher than their first (1 = severe need, 4 = no need)."
    ),
    "closures": _("Cases closed in the period, by reason (a closure reopened later still counts as a closure)."),
    "reopened": _("Cases reopened in the period."),
}
# How far back an assessment can make a review fall due in the period: the longest review interval.
LONGEST_REVIEW_MONTHS = 24


def _open_on(day):
    """Clients whose case was open on `day`: no closure in force then."""
    closed = ClientClosure.objects.filter(client=OuterRef("pk"), closed_on__lte=day).filter(
        Q(reopened_on__isnull=True) | Q(reopened_on__gt=day)
    )
    return ~Exists(closed)


def _closed_spans(clients):
    """{client id: [(closed_on, reopened_on or None)]}."""
    spans = {}
    for client_id, closed_on, reopened_on in ClientClosure.objects.filter(client__in=clients.values("pk")).values_list(
        "client_id", "closed_on", "reopened_on"
    ):
        spans.setdefault(client_id, []).append((closed_on, reopened_on))
    return spans


def _was_open(spans, day):
    return not any(closed <= day and (reopened is None or reopened > day) for closed, reopened in spans)


def reviews_on_time(clients, *, start, end):
    """(done on time, fell due) in the period."""
    next_on = (
        Assessment.objects.filter(client=OuterRef("client"), assessed_on__gt=OuterRef("assessed_on"))
        .order_by("assessed_on")
        .values("assessed_on")[:1]
    )
    rows = (
        Assessment.objects.filter(
            client__in=clients.values("pk"),
            assessed_on__lte=end,
            assessed_on__gte=start - datetime.timedelta(days=31 * LONGEST_REVIEW_MONTHS),
        )
        .annotate(next_on=Subquery(next_on))
        .values_list("client_id", "assessed_on", "next_on", "client__site__review_months")
    )
    candidates = []
    for client_id, assessed_on, following, months in rows:
        due_on = months_after(assessed_on, months)
        # Reviewed before the period began: that review's own due date is what counts.
        if start <= due_on <= end and (following is None or following >= start):
            candidates.append((client_id, due_on, following))
    spans = _closed_spans(clients) if candidates else {}
    due = on_time = 0
    for client_id, due_on, following in candidates:
        if not _was_open(spans.get(client_id, ()), due_on):
            continue
        due += 1
        on_time += following is not None and following <= due_on
    return on_time, due


def domains_improved(clients, *, start, end):
    """{domain: {improved, same, worse}} and the number of clients compared."""
    rows = (
        Assessment.objects.filter(client__in=clients.values("pk"), assessed_on__lte=end)
        .order_by("client_id", "assessed_on", "id")
        .values_list("client_id", "assessed_on", *(score_field(d) for d in DOMAINS))
    )
    first, latest, assessed = {}, {}, {}
    for client_id, day, *scores in rows:
        first.setdefault(client_id, scores)
        latest[client_id] = (day, scores)
        assessed[client_id] = assessed.get(client_id, 0) + 1
    counts = {d: {"improved": 0, "same": 0, "worse": 0} for d in DOMAINS}
    compared = 0
    for client_id, (day, scores) in latest.items():
        if day < start or assessed[client_id] < 2:
            continue
        first_scores = first[client_id]
        compared += 1
        for domain, before, after in zip(DOMAINS, first_scores, scores, strict=True):
            key = "improved" if after > before else "worse" if after < before else "same"
            counts[domain][key] += 1
    return counts, compared


def clients_held(user, scope):
    """The clients the report counts: for one site, those it held on the period's last day
    (reports.sites), so that a transfer after the period changes none of its figures; a client
    transferred out before that day counts at the site that took it."""
    clients = scope.narrow(access.report_clients_of_site(user, scope.site), site=None)
    if scope.site is not None:
        clients = clients.alias(held=sites.site_on(scope.end)).filter(held=scope.site.pk)
    return clients


def casework_report(user, scope) -> dict:
    clients = clients_held(user, scope)
    end, start = scope.end, scope.start
    open_cases = clients.filter(_open_on(end), consent_date__lte=end)
    running = Plan.objects.filter(client=OuterRef("pk"), started_on__lte=end).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=end)
    )
    counted = open_cases.order_by().aggregate(n=Count("pk"), with_plan=Count("pk", filter=Q(Exists(running))))
    done, fell_due = reviews_on_time(clients, start=start, end=end)
    by_domain, compared = domains_improved(clients, start=start, end=end)
    closed_in_period = Q(closed_on__gte=start, closed_on__lte=end)
    closures = ClientClosure.objects.filter(client__in=clients.values("pk")).aggregate(
        **{reason: Count("pk", filter=closed_in_period & Q(reason=reason)) for reason in ClosureReason.values},
        reopened=Count("pk", filter=Q(reopened_on__gte=start, reopened_on__lte=end)),
    )
    reopened = closures.pop("reopened")
    by_reason = closures
    return {
        "open_cases": {"value": counted["n"], "definition": str(DEFINITIONS["open_cases"])},
        "with_current_plan": {
            "value": counted["with_plan"],
            "n": counted["n"],
            "definition": str(DEFINITIONS["with_current_plan"]),
        },
        "reviews_on_time": {"value": done, "n": fell_due, "definition": str(DEFINITIONS["reviews_on_time"])},
        "domains_improved": {
            "n": compared,
            "definition": str(DEFINITIONS["domains_improved"]),
            "domains": [{"domain": d, "label": str(Domain(d).label), **by_domain[d]} for d in DOMAINS],
        },
        "closures": {
            "value": sum(by_reason.values()),
            "definition": str(DEFINITIONS["closures"]),
            "by_reason": {reason: by_reason.get(reason, 0) for reason in ClosureReason.values},
        },
        "reopened": {"value": reopened, "definition": str(DEFINITIONS["reopened"])},
    }


def for_page(report) -> dict:
    """The report as the supervisor's page shows it, with labels and shares."""

    def share(value, n):
        return round(100 * value / n) if n else None

    return {
        **report,
        "plan_percent": share(report["with_current_plan"]["value"], report["with_current_plan"]["n"]),
        "on_time_percent": share(report["reviews_on_time"]["value"], report["reviews_on_time"]["n"]),
        "reasons": [(str(label), report["closures"]["by_reason"][value]) for value, label in ClosureReason.choices],
    }
