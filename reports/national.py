"""The national view (SPEC §12.7 `reports/national/`): for the ministry comparing the centres
that replicate the programme, each site's figures side by side. Admins only; aggregates per
site, never a client's identity (no code, no name, no id)."""

import datetime
import zoneinfo

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import access as cases_access
from cases.models import Client, ClientStatus, Site
from empowerment.models import Programme

from . import empowerment, indicators

# Statuses that end care; the rest (active, lost to follow-up) are still the site's clients.
ENDED = (ClientStatus.DECEASED, ClientStatus.STOPPED, ClientStatus.TRANSFERRED_OUT)

DEFINITIONS = {
    "clients": _(
        "Clients who consented on or before the period's last day and are in care (not deceased, "
        "stopped or transferred out)."
    ),
    "on_art": _(
        "Clients on ART on the period's last day (WHO ART.1): a refill picked up by then whose supply "
        "ran out less than the site's LTFU days before it."
    ),
    **empowerment.DEFINITIONS,
}


def may_see_national(user) -> bool:
    return cases_access.is_admin(user)


def national_today() -> datetime.date:
    """Today for a view across time zones: the installation's own (settings.TIME_ZONE)."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def clients_on_art(day: datetime.date) -> dict:
    """{site id: clients on ART on `day`} over every site: WHO ART.1's rule, as the
    indicators report applies it (reports.indicators).

    # SWAP POINT: the national view asks only this function for its on-ART column.
    """
    return indicators.on_art_by_site(Client.objects.all(), day)


def national_report(start: datetime.date, end: datetime.date) -> dict:
    """Every site's row: clients in care, on ART, and the empowerment figures for the period."""
    sites = list(Site.objects.order_by("code").values("pk", "code", "name"))
    in_care = (
        Client.objects.filter(consent_date__lte=end)
        .exclude(status__in=ENDED)
        .order_by()
        .values_list("site")
        .annotate(n=Count("pk"))
    )
    clients = dict(in_care)
    on_art = clients_on_art(end)
    by_site = empowerment.figures_by_site(
        programmes=Programme.objects.all(), clients=Client.objects.all(), start=start, end=end
    )
    rows = []
    for site in sites:
        figures = by_site.get(site["pk"]) or empowerment.empty_figures()
        rows.append(
            {
                "site": site["pk"],
                "code": site["code"],
                "name": site["name"],
                "clients": clients.get(site["pk"], 0),
                "on_art": on_art.get(site["pk"], 0),
                **{name: figures[name] for name in empowerment.FIGURES},
                "reached_others_by_category": figures["others"],
            }
        )
    return {
        "period_from": start,
        "period_to": end,
        "sites": rows,
        "definitions": {k: str(v) for k, v in DEFINITIONS.items()},
    }
