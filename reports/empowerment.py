"""The empowerment report (SPEC §12.4, §12.7 `reports/empowerment/`): programmes and
sessions held, participants and their outcomes, and the people reached by anti-stigma and
education sessions, for a period, computed from dated facts as of its end (a past quarter
answers the same next year).

The figures are aggregated per site in a handful of queries, whatever the number of
programmes or clients: a site's report takes its one row, the national view every row."""

from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from cases import access as cases_access
from cases.models import Role
from empowerment import access as empowerment_access
from empowerment.models import (
    ECONOMIC_KINDS,
    INCOME_RANK,
    OUTREACH_KINDS,
    Attendance,
    Enrolment,
    Outcome,
    Programme,
    ProgrammeSession,
)

from . import access

FIGURES = (
    "programmes",
    "sessions",
    "enrolled",
    "completed",
    "dropped",
    "business_started",
    "income_up",
    "employed",
    "reached_clients",
    "reached_others",
)
DEFINITIONS = {
    "programmes": _("Programmes running in the period: started on or before its last day, not ended before its first."),
    "sessions": _("Sessions of those programmes held in the period."),
    "enrolled": _(
        "Clients taking part in the period: enrolled on or before its last day, with no outcome before its first."
    ),
    "completed": _("Enrolments completed, with the completion dated in the period."),
    "dropped": _("Enrolments dropped out of, dated in the period."),
    "business_started": _(
        "Of the enrolments in productive-economy and skills programmes ending (completed or dropped) in the "
        "period, those who started a business."
    ),
    "income_up": _(
        "Of the same, those whose monthly income band after is higher than before (both recorded; bands: none, "
        "under Rp 500 thousand, 500 thousand–1 million, 1–2 million, over 2 million)."
    ),
    "employed": _("Of the same, those employed at the end."),
    "reached_clients": _("Distinct clients who attended an anti-stigma or community-education session in the period."),
    "reached_others": _(
        "People who are not clients (family, community members, health workers) counted at anti-stigma and "
        "community-education sessions in the period; a person at two sessions counts twice."
    ),
}
OTHERS = ("family", "community", "health_workers")


def _income_rank(field):
    return Case(
        *(When(**{field: band}, then=Value(rank)) for band, rank in INCOME_RANK.items()),
        default=Value(None),
        output_field=IntegerField(),
    )


def _by_site(rows, key="site"):
    return {row.pop(key): row for row in rows}


def figures_by_site(*, programmes, clients, start, end) -> dict:
    """{site id: {figure: value, others: {family, community, health_workers}}} for the
    `programmes` and `clients` in reach, over the period `start`–`end` (site-local days)."""
    running = programmes.filter(Q(end_date__isnull=True) | Q(end_date__gte=start), start_date__lte=end)
    running_ids = running.values("pk")
    in_period = Q(date__gte=start, date__lte=end)
    outreach = Q(programme__kind__in=OUTREACH_KINDS)
    result = {}

    def row(site):
        return result.setdefault(site, {**dict.fromkeys(FIGURES, 0), "others": dict.fromkeys(OTHERS, 0)})

    for site, n in running.order_by().values_list("site").annotate(n=Count("pk")):
        row(site)["programmes"] = n

    sessions = (
        ProgrammeSession.objects.filter(in_period, programme__in=running_ids)
        .order_by()
        .values(site=F("programme__site"))
        .annotate(
            n=Count("pk"),
            family=Sum("others_family", filter=outreach),
            community=Sum("others_community", filter=outreach),
            health_workers=Sum("others_health_workers", filter=outreach),
        )
    )
    for values in sessions:
        figures = row(values["site"])
        figures["sessions"] = values["n"]
        figures["others"] = {k: int(values[k] or 0) for k in OTHERS}
        figures["reached_others"] = sum(figures["others"].values())

    ended = Q(outcome_on__gte=start, outcome_on__lte=end)
    economic = ended & Q(programme__kind__in=ECONOMIC_KINDS)
    enrolments = (
        Enrolment.objects.filter(
            Q(outcome_on__isnull=True) | Q(outcome_on__gte=start),
            programme__in=running_ids,
            client__in=clients.values("pk"),
            enrolled_on__lte=end,
        )
        .alias(before=_income_rank("income_before"), after=_income_rank("income_after"))
        .order_by()
        .values(site=F("programme__site"))
        .annotate(
            enrolled=Count("client", distinct=True),
            completed=Count("pk", filter=ended & Q(outcome=Outcome.COMPLETED)),
            dropped=Count("pk", filter=ended & Q(outcome=Outcome.DROPPED)),
            business_started=Count("pk", filter=economic & Q(business_started=True)),
            income_up=Count("pk", filter=economic & Q(after__gt=F("before"))),
            employed=Count("pk", filter=economic & Q(employed=True)),
        )
    )
    for values in enrolments:
        site = values.pop("site")
        row(site).update(values)

    reached = (
        Attendance.objects.filter(
            session__date__gte=start,
            session__date__lte=end,
            session__programme__in=running_ids,
            session__programme__kind__in=OUTREACH_KINDS,
            client__in=clients.values("pk"),
        )
        .order_by()
        .values(site=F("session__programme__site"))
        .annotate(n=Count("client", distinct=True))
    )
    for values in reached:
        row(values["site"])["reached_clients"] = values["n"]
    return result


def empty_figures() -> dict:
    return {**dict.fromkeys(FIGURES, 0), "others": dict.fromkeys(OTHERS, 0)}


def report_programmes(user):
    """Programmes the report counts for `user`: those they see, if they see reports."""
    if not access.may_see_reports(user):
        return Programme.objects.none()
    return empowerment_access.programmes_visible_to(user)


def empowerment_report(user, scope) -> dict:
    """The figures for the caller's reach narrowed by the scope (site, group: the group's
    programmes; worker: that social worker's clients), each with its definition."""
    programmes = scope.narrow(report_programmes(user), group="support_group", worker=None)
    clients = scope.narrow(access.report_clients(user))
    by_site = figures_by_site(programmes=programmes, clients=clients, start=scope.start, end=scope.end)
    total = empty_figures()
    for figures in by_site.values():
        for name in FIGURES:
            total[name] += figures[name]
        for name in OTHERS:
            total["others"][name] += figures["others"][name]
    return {
        **{name: {"value": total[name], "definition": str(DEFINITIONS[name])} for name in FIGURES},
        "reached_others_by_category": total["others"],
    }


def may_see_empowerment_page(user) -> bool:
    """The supervisor's view of the site's programmes with this report: supervisors, admins."""

    return cases_access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


# Labels of the figures for tables and pages.
LABELS = {
    "programmes": _("Programmes"),
    "sessions": _("Sessions held"),
    "enrolled": _("Clients taking part"),
    "completed": _("Completed"),
    "dropped": _("Dropped out"),
    "business_started": _("Business started"),
    "income_up": _("Income band moved up"),
    "employed": _("Employed"),
    "reached_clients": _("Clients reached (anti-stigma, education)"),
    "reached_others": _("Others reached (anti-stigma, education)"),
}


def for_page(report) -> dict:
    """The report as pages show it: labelled figures in order, and the others by category."""
    figures = [{"key": k, "label": LABELS[k], **report[k]} for k in FIGURES]
    return {"figures": figures, "others": report["reached_others_by_category"]}
