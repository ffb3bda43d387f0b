"""Period-true figures (SPEC §12.1): the WHO SMART HIV indicators and the care cascade, each
computed **as of a day** from dated facts only — refills, viral-load samples, dated status
changes and the consent date — so that a past period gives the same figures whatever
happened since.

The rules, in one place:
- *counted in a period*: consented (`consent_date`) on or before its last day (treatment
  facts from before the consent count, e.g. for ART.2's start of the period);
- *out of care on D*: the latest status change effective on or before D is deceased,
  stopped or transferred out (a later `active` brings the client back);
- *lost to follow-up on D*: cases.selectors.ltfu_from (the site's LTFU days past the next-due
  date of the last refill picked up on or before D);
- *on ART on D*: at least one refill on or before D, not lost and not out of care on D;
- *first ART date*: the earlier of `art_start_date` and the first refill;
- *a site's clients* (reports.sites): those it held on the period's last day, and those it
  transferred out by then, out of care from the day they moved (`transferred_out`); a client
  that arrived in the period was not on ART at the site the day before it began;
- *≥ 6 months on ART*: first ART date at least 183 days before the period's end.

Every figure is one set-based statement: per-client facts as of the period's day before
its start and as of its end are built by the ORM (scoped by the policy) as derived tables,
joined once, and summed by sex and age band. The drill-down lists the clients behind a
figure from the same facts and the same predicate, so a list and its count cannot differ.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, CharField, F, Min, Q, Value, When, Window
from django.db.models.functions import Lag, Lead, RowNumber
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cases import audit
from cases.models import Client, ClientStatusEvent, DaysSupplied, Refill, Site, ViralLoad
from cases.models.arv import VL_SUPPRESSION_THRESHOLD
from cases.selectors import ltfu_from

from . import access, sites
from .derived import flag, run_joined

SIX_MONTHS = datetime.timedelta(days=183)
VL_WINDOW_DAYS = 365
MMD_DAYS = DaysSupplied.THREE_MONTHS.value
AGE_BANDS = ("<15", "15-19", "20-24", "25-49", "50+")
SEXES = ("F", "M")


# --- the indicators ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    id: str
    code: str
    name: object
    numerator: str  # a predicate over the per-client facts (column names of _FACTS_SQL)
    denominator: str | None
    definition: object  # formatted with {ltfu}: the LTFU days in words

    def predicate(self, part):
        return self.numerator if part == "numerator" else self.denominator


_COHORT = "(f.on_before = 1 OR f.new_art = 1)"
_SIX = "f.on_end = 1 AND f.six_months = 1"

INDICATORS = (
    Indicator(
        "HIV.IND.27",
        "ART.1",
        _("People on ART"),
        "f.on_end = 1",
        None,
        _(
            "Clients on ART on the period's last day: at least one refill picked up on or before it, not lost "
            "to follow-up ({ltfu} or more past the last refill's due date) and not deceased, stopped or "
            "transferred out by then (unless they resumed care)."
        ),
    ),
    Indicator(
        "HIV.IND.28",
        "ART.2",
        _("Attrition from ART"),
        f"{_COHORT} AND f.on_end = 0",
        _COHORT,
        _(
            "Of the clients on ART the day before the period began plus those who started ART in it, the ones "
            "no longer on ART on its last day: lost to follow-up ({ltfu} or more past the due date), died, "
            "stopped, or transferred out (each shown on its own)."
        ),
    ),
    Indicator(
        "HIV.IND.30",
        "ART.4",
        _("People newly initiated on ART"),
        "f.new_art = 1",
        None,
        _(
            "Clients whose first ART date (the earlier of the ART start date and the first refill) falls in the "
            "period, among clients with a refill by its last day."
        ),
    ),
    Indicator(
        "HIV.IND.32",
        "ART.6",
        _("Viral load testing coverage"),
        f"{_SIX} AND f.vl_tested = 1",
        _SIX,
        _(
            "Of the clients on ART on the period's last day for at least 6 months (first ART date 183 days or "
            "more before it), the ones with a viral load sample dated in the period. Lost to follow-up: "
            "{ltfu} or more past the due date."
        ),
    ),
    Indicator(
        "HIV.IND.29",
        "ART.3",
        _("People on ART with suppressed viral load"),
        f"{_SIX} AND f.vl_tested = 1 AND f.vl_below = 1",
        f"{_SIX} AND f.vl_tested = 1",
        _(
            "Of the clients counted by ART.6 (on ART for 6 months or more and tested in the period; lost to "
            "follow-up: {ltfu} or more past the due date), the ones whose most recent result in the period is "
            "below 1000 copies/mL."
        ),
    ),
    Indicator(
        "HIV.IND.53",
        "DSD.1",
        _("People receiving multi-month dispensing"),
        "f.on_end = 1 AND f.mmd = 1",
        "f.on_end = 1",
        _(
            "Of the clients on ART on the period's last day, the ones whose last refill up to that day was for "
            "90 days or more. Lost to follow-up: {ltfu} or more past the due date."
        ),
    ),
)
BY_ID = {indicator.id: indicator for indicator in INDICATORS}
# ART.2's numerator by the outcome on the period's last day.
ATTRITION_OUTCOMES = ("ltfu", "died", "stopped", "transferred_out")
_ATTRITION = {
    "died": "f.outcome_end = 'deceased'",
    "stopped": "f.outcome_end = 'stopped'",
    "transferred_out": "f.outcome_end = 'transferred_out'",
    "ltfu": "f.outcome_end = 'active'",
}


# --- the per-client facts --------------------------------------------------------------------------


def _years_before(day, years):
    """The same day `years` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_band(day):
    """The WHO age band (in years, as of `day`) of each client row, by birth date."""
    bounds = [(15, "<15"), (20, "15-19"), (25, "20-24"), (50, "25-49")]
    whens = [When(date_of_birth__gt=_years_before(day, years), then=Value(band)) for years, band in bounds]
    return Case(*whens, default=Value("50+"), output_field=CharField())


def _latest(queryset, order):
    """The newest row of `queryset` per client by `order` (field names, newest first)."""
    return (
        queryset.order_by()
        .annotate(
            newest=Window(RowNumber(), partition_by=[F("client_id")], order_by=[F(f).desc() for f in (*order, "pk")])
        )
        .filter(newest=1)
    )


def _last_refill(theirs, day):
    """Per client: the last refill picked up on or before `day` (its LTFU day, due date, days
    supplied) and the first refill's date."""
    refills = Refill.objects.filter(client__in=theirs, pickup_date__lte=day).annotate(
        first=Window(Min("pickup_date"), partition_by=[F("client_id")])
    )
    return _latest(refills, ["pickup_date"]).values(
        cid=F("client_id"),
        first_refill=F("first"),
        lost_on=ltfu_from(F("next_due"), F("client__site__ltfu_days")),
        due=F("next_due"),
        days=F("days_supplied"),
    )


def _outcome(theirs, day):
    """Per client with a status change effective on or before `day`: the latest one."""
    events = ClientStatusEvent.objects.filter(client__in=theirs, effective_date__lte=day)
    return _latest(events, ["effective_date"]).values("status", cid=F("client_id"), day=F("effective_date"))


def _latest_vl(theirs, first, last):
    """Per client with a viral-load sample from `first` to `last`: whether the most recent is suppressed."""
    samples = ViralLoad.objects.filter(client__in=theirs, sample_date__gte=first, sample_date__lte=last)
    return _latest(samples, ["sample_date"]).values(
        cid=F("client_id"), below=flag(Q(copies_per_ml__lt=VL_SUPPRESSION_THRESHOLD))
    )


_FACTS_SQL = """
    SELECT c.cid AS cid, c.held_site AS site_id, c.sex AS sex, c.band AS band,
           CASE WHEN le.cid IS NOT NULL AND le.lost_on > c.d_end AND c.gone IS NULL
                 AND (oe.status IS NULL OR oe.status = 'active') THEN 1 ELSE 0 END AS on_end,
           CASE WHEN lb.cid IS NOT NULL AND lb.lost_on > c.d_before AND c.away_before = 0
                 AND (ob.status IS NULL OR ob.status = 'active') THEN 1 ELSE 0 END AS on_before,
           CASE WHEN le.cid IS NOT NULL
                 AND (CASE WHEN c.art IS NOT NULL AND c.art < le.first_refill THEN c.art ELSE le.first_refill END)
                     >= c.d_start THEN 1 ELSE 0 END AS new_art,
           CASE WHEN le.cid IS NOT NULL
                 AND (CASE WHEN c.art IS NOT NULL AND c.art < le.first_refill THEN c.art ELSE le.first_refill END)
                     <= c.d_six THEN 1 ELSE 0 END AS six_months,
           CASE WHEN vl.cid IS NOT NULL THEN 1 ELSE 0 END AS vl_tested,
           COALESCE(vl.below, 0) AS vl_below,
           CASE WHEN le.days >= {mmd} THEN 1 ELSE 0 END AS mmd,
           CASE WHEN le.due >= c.d_end THEN 1 ELSE 0 END AS supplied_end,
           CASE WHEN c.gone IS NOT NULL THEN 'transferred_out' ELSE COALESCE(oe.status, 'active') END
               AS outcome_end,
           CASE WHEN c.gone IS NOT NULL THEN c.gone ELSE oe.day END AS outcome_day{extra_columns}
      FROM (SELECT c0.*, COALESCE(mv.held_end, c0.site_id) AS held_site,
                   CASE WHEN {site} IS NOT NULL AND COALESCE(mv.held_end, c0.site_id) <> {site}
                        THEN mv.gone_from END AS gone,
                   CASE WHEN {site} IS NOT NULL AND COALESCE(mv.held_before, c0.site_id) <> {site}
                        THEN 1 ELSE 0 END AS away_before
              FROM ({{clients}}) c0
              LEFT JOIN ({{moves}}) mv ON mv.cid = c0.cid
             WHERE {site} IS NULL OR COALESCE(mv.held_end, c0.site_id) = {site} OR mv.gone_from IS NOT NULL) c
      LEFT JOIN ({{last_end}}) le ON le.cid = c.cid
      LEFT JOIN ({{last_before}}) lb ON lb.cid = c.cid
      LEFT JOIN ({{outcome_end}}) oe ON oe.cid = c.cid
      LEFT JOIN ({{outcome_before}}) ob ON ob.cid = c.cid
      LEFT JOIN ({{vl}}) vl ON vl.cid = c.cid{extra_joins}"""


def _facts(user, scope, *, cascade=False):
    """(SQL, derived tables) of one row of facts per client in reach, as of the scope's end:
    for one site, the clients it held by then (reports.sites)."""
    clients = scope.narrow(access.report_clients_of_site(user, scope.site), site=None)
    return facts_of(clients, scope.start, scope.end, cascade=cascade, site=scope.site)


def facts_of(clients, start, end, *, cascade=False, site=None):
    """(SQL, derived tables) of one row of facts per client of the queryset `clients` (already
    limited to what the caller may count) for the period `start`–`end`, as of `end`; with a
    `site`, as that site's clients (those it held by `end`, the ones it transferred out
    counted out of care from the day they moved)."""
    scope = _Period(start, end)
    before = start - datetime.timedelta(days=1)
    clients = clients.filter(consent_date__lte=end)
    theirs = clients.values("pk")
    tables = {
        "clients": clients.order_by().values(
            "sex",
            "site_id",
            cid=F("pk"),
            band=age_band(end),
            art=F("art_start_date"),
            d_end=Value(end),
            d_before=Value(before),
            d_start=Value(start),
            d_six=Value(end - SIX_MONTHS),
        ),
        # Where each client that ever moved was on the days that matter (reports.sites); a
        # client never moved is at its own site.
        "moves": sites.moves(clients, site=site, before=before, end=end),
        "last_end": _last_refill(theirs, end),
        "last_before": _last_refill(theirs, before),
        "outcome_end": _outcome(theirs, end),
        "outcome_before": _outcome(theirs, before),
        "vl": _latest_vl(theirs, start, end),
    }
    extra_columns = extra_joins = ""
    if cascade:
        # The cascade's viral-load stages look at the 12 months up to the end, and its flows
        # at the period's LTFU episodes and returns.
        tables["vl12"] = _latest_vl(theirs, end - datetime.timedelta(days=VL_WINDOW_DAYS - 1), end)
        tables["lost"] = _ltfu_episodes(theirs, scope)
        tables["returned"] = _returns(theirs, scope)
        extra_columns = """,
           CASE WHEN v12.cid IS NOT NULL THEN 1 ELSE 0 END AS vl12_tested,
           COALESCE(v12.below, 0) AS vl12_below,
           CASE WHEN lost.cid IS NOT NULL AND (oe.status IS NULL OR oe.status = 'active' OR oe.day > lost.day)
                 AND (c.gone IS NULL OR c.gone > lost.day) THEN 1 ELSE 0 END AS lost_in_period,
           CASE WHEN ret.cid IS NOT NULL THEN 1 ELSE 0 END AS returned_in_period"""
        extra_joins = """
      LEFT JOIN ({vl12}) v12 ON v12.cid = c.cid
      LEFT JOIN (SELECT l.cid AS cid, MIN(l.lost_on) AS day FROM ({lost}) l
                  WHERE l.lost_on >= l.d_start AND l.lost_on <= l.d_end
                    AND (l.following IS NULL OR l.following > l.lost_on)
                  GROUP BY l.cid) lost ON lost.cid = c.cid
      LEFT JOIN (SELECT DISTINCT r.cid AS cid FROM ({returned}) r
                  WHERE r.pickup >= r.d_start AND r.previous_lost_on < r.pickup) ret ON ret.cid = c.cid"""
    site_sql = "NULL" if site is None else str(int(site.pk))
    sql = _FACTS_SQL.format(mmd=MMD_DAYS, site=site_sql, extra_columns=extra_columns, extra_joins=extra_joins)
    return sql, tables


@dataclass(frozen=True)
class _Period:
    start: datetime.date
    end: datetime.date


def on_art_by_site(clients, day) -> dict:
    """{site id: clients of the queryset `clients` on ART on `day`} (ART.1's rule), for
    figures across sites (the national view)."""
    facts_sql, tables = facts_of(clients, day, day)
    rows = run_joined(f"SELECT f.site_id, {_sum('f.on_end = 1')} FROM ({facts_sql}) f GROUP BY f.site_id", **tables)
    return {site_id: int(count or 0) for site_id, count in rows or []}


def _ltfu_episodes(theirs, scope):
    """Per refill up to the end: the day the client became lost after it unless the next
    refill came first (`following`). The outer query keeps the LTFU days in the period
    (filters here would run before the window sees every refill)."""
    refills = Refill.objects.filter(client__in=theirs, pickup_date__lte=scope.end).order_by()
    return refills.values(
        cid=F("client_id"),
        lost_on=ltfu_from(F("next_due"), F("client__site__ltfu_days")),
        following=Window(
            Lead("pickup_date"), partition_by=[F("client_id")], order_by=[F("pickup_date").asc(), F("pk").asc()]
        ),
        d_start=Value(scope.start),
        d_end=Value(scope.end),
    )


def _returns(theirs, scope):
    """Per refill up to the end: its pick-up and the LTFU day of the refill before it; the
    outer query keeps the pick-ups in the period after that day (SPEC §12.1: a return to
    treatment, the client having been lost the day before)."""
    refills = Refill.objects.filter(client__in=theirs, pickup_date__lte=scope.end).order_by()
    return refills.values(
        cid=F("client_id"),
        pickup=F("pickup_date"),
        previous_lost_on=Window(
            Lag(ltfu_from(F("next_due"), F("client__site__ltfu_days"))),
            partition_by=[F("client_id")],
            order_by=[F("pickup_date").asc(), F("pk").asc()],
        ),
        d_start=Value(scope.start),
    )


def _sum(predicate):
    return f"SUM(CASE WHEN {predicate} THEN 1 ELSE 0 END)"


# --- the report ---------------------------------------------------------------------------------


def ltfu_days_of(user, scope):
    """The LTFU days the figures use: the site's, or each site's when several are counted."""
    if scope.site is not None:
        return {scope.site.code: scope.site.ltfu_days}
    sites = Site.objects.filter(pk__in=access.report_clients(user).values("site")).order_by("code")
    return dict(sites.values_list("code", "ltfu_days"))


def ltfu_words(days_by_site):
    """ "28 days" for one setting; "28 days at TTE, 30 days at ABC" when sites differ."""
    values = set(days_by_site.values()) or {Site._meta.get_field("ltfu_days").default}
    if len(values) == 1:
        days = values.pop()
        return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}
    return ", ".join(
        ngettext("%(days)d day at %(site)s", "%(days)d days at %(site)s", days) % {"days": days, "site": code}
        for code, days in days_by_site.items()
    )


def _percent(numerator, denominator):
    """One decimal, halves rounded up (as a ministry's spreadsheet rounds: 12.25 → 12.3)."""
    if not denominator:
        return None
    return float((Decimal(100 * numerator) / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _indicator_columns():
    """{column: predicate} of every count the indicator rows are made of."""
    columns = {}
    for indicator in INDICATORS:
        columns[f"n:{indicator.id}"] = indicator.numerator
        if indicator.denominator:
            columns[f"d:{indicator.id}"] = indicator.denominator
    for key in ATTRITION_OUTCOMES:
        columns[f"a:{key}"] = f"{BY_ID['HIV.IND.28'].numerator} AND {_ATTRITION[key]}"
    return columns


def _cascade_columns():
    return {f"c:{stage[0]}": stage[4] for stage in CASCADE_STAGES} | {f"c:{flow[0]}": flow[3] for flow in CASCADE_FLOWS}


def _counts(user, scope, columns, *, cascade):
    """[(sex, age band, {column: count})]: the facts per client summed by sex and age band,
    in one statement."""
    facts_sql, tables = _facts(user, scope, cascade=cascade)
    names = list(columns)
    sums = ", ".join(_sum(columns[name]) for name in names)
    rows = run_joined(f"SELECT f.sex, f.band, {sums} FROM ({facts_sql}) f GROUP BY f.sex, f.band", **tables) or []
    return [(sex, band, {name: int(value or 0) for name, value in zip(names, values, strict=True)})
            for sex, band, *values in rows]  # fmt: skip


def _total(groups, name):
    return sum(counts[name] for _sex, _band, counts in groups)


def indicators(user, scope, *, groups=None) -> dict:
    """The §12.1 indicator rows for `user`'s reach narrowed by `scope`, as of its end."""
    if groups is None:
        groups = _counts(user, scope, _indicator_columns(), cascade=False)
    days_by_site = ltfu_days_of(user, scope)
    words = ltfu_words(days_by_site)
    result = []
    for indicator in INDICATORS:
        by_sex = dict.fromkeys(SEXES, 0)
        by_age = dict.fromkeys(AGE_BANDS, 0)
        for sex, band, counts in groups:
            by_sex[sex] = by_sex.get(sex, 0) + counts[f"n:{indicator.id}"]
            by_age[band] += counts[f"n:{indicator.id}"]
        numerator = _total(groups, f"n:{indicator.id}")
        denominator = _total(groups, f"d:{indicator.id}") if indicator.denominator else None
        breakdown = None
        if indicator.id == "HIV.IND.28":
            breakdown = {key: _total(groups, f"a:{key}") for key in ATTRITION_OUTCOMES}
        result.append(
            {
                "id": indicator.id,
                "code": indicator.code,
                "name": str(indicator.name),
                "numerator": numerator,
                "denominator": denominator,
                "percent": _percent(numerator, denominator) if indicator.denominator else None,
                "definition": str(indicator.definition).format(ltfu=words),
                "breakdown": breakdown,
                "by_sex": by_sex,
                "by_age": by_age,
            }
        )
    ltfu_values = set(days_by_site.values())
    return {"ltfu_days": ltfu_values.pop() if len(ltfu_values) == 1 else None, "indicators": result}


def page_figures(user, scope) -> tuple[dict, dict]:
    """(indicators, cascade) for the supervisor's page, from one pass over the facts."""
    groups = _counts(user, scope, _indicator_columns() | _cascade_columns(), cascade=True)
    return indicators(user, scope, groups=groups), cascade(user, scope, groups=groups)


def clients_behind(indicator, ids) -> list:
    """The clients `ids` (a page of a figure's list) as the list shows them, codes and
    nicknames only, each logged as read (SPEC §12.1)."""
    clients = list(Client.objects.filter(pk__in=list(ids)).only("code", "nickname").order_by("pk"))
    audit.client_reads_logger(what=f"indicator.{indicator.code}")([client.pk for client in clients])
    return clients


def indicator_client_ids(user, scope, indicator, part) -> list:
    """The ids of the clients behind `indicator`'s `part` (numerator|denominator), by id."""
    predicate = indicator.predicate(part)
    facts_sql, tables = _facts(user, scope)
    rows = run_joined(f"SELECT f.cid FROM ({facts_sql}) f WHERE {predicate} ORDER BY f.cid", **tables)
    return [row[0] for row in rows or []]


# --- the care cascade, as of the period's end -----------------------------------------------------

# key, label, definition, the stage it is part of (for "of previous"), predicate
CASCADE_STAGES = (
    (
        "registered",
        _("In care"),
        _(
            "Clients in the programme on the period's last day: consented on or before it, and not deceased, "
            "stopped or transferred out by then."
        ),
        None,
        "f.outcome_end = 'active'",
    ),
    (
        "on_art",
        _("On ART"),
        _("Of them, on ART on that day (WHO ART.1): a refill by then and not lost to follow-up ({ltfu} or more)."),
        "registered",
        "f.on_end = 1",
    ),
    (
        "on_time",
        _("Supplied on the last day"),
        _("Of those on ART, the ones whose last refill's supply had not run out on that day."),
        "on_art",
        "f.on_end = 1 AND f.supplied_end = 1",
    ),
    (
        "vl_tested",
        _("VL tested (12 months)"),
        _("Of those on ART, the ones with a viral load sample in the 12 months up to that day."),
        "on_art",
        "f.on_end = 1 AND f.vl12_tested = 1",
    ),
    (
        "suppressed",
        _("Suppressed"),
        _("Of those tested, the ones whose most recent result in those 12 months is below 1000 copies/mL."),
        "vl_tested",
        "f.on_end = 1 AND f.vl12_tested = 1 AND f.vl12_below = 1",
    ),
)
CASCADE_FLOWS = (
    (
        "ltfu",
        _("Lost to follow-up in the period"),
        _(
            "Clients who became lost to follow-up on a day in the period ({ltfu} past a refill's due date with no "
            "refill in between), whether or not they came back later, unless they had died, stopped or "
            "transferred out before that day. Unlike ART.2's lost to follow-up, it counts every client and "
            "those who returned."
        ),
        "f.lost_in_period = 1",
    ),
    (
        "returned",
        _("Returned to treatment in the period"),
        _("Clients who picked up a refill in the period while lost to follow-up (after {ltfu} without one)."),
        "f.returned_in_period = 1",
    ),
)


def cascade(user, scope, *, groups=None) -> dict:
    """The care cascade as of the period's end and the period's flows (one statement)."""
    if groups is None:
        groups = _counts(user, scope, _cascade_columns(), cascade=True)
    counts = {key: _total(groups, f"c:{key}") for key in [s[0] for s in CASCADE_STAGES] + [f[0] for f in CASCADE_FLOWS]}
    words = ltfu_words(ltfu_days_of(user, scope))
    stages = []
    base = counts["registered"]
    for key, label, definition, within, _predicate in CASCADE_STAGES:
        count = counts[key]
        parent = counts[within] if within else None
        stages.append(
            {
                "key": key,
                "label": str(label),
                "count": count,
                "percent": round(100 * count / base) if base else 0,
                "of_previous": round(100 * count / parent) if parent else None,
                "definition": str(definition).format(ltfu=words),
            }
        )
    flows = [
        {"key": key, "label": str(label), "count": counts[key], "definition": str(definition).format(ltfu=words)}
        for key, label, definition, _predicate in CASCADE_FLOWS
    ]
    return {"stages": stages, "flows": flows}
