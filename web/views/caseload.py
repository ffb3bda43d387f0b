"""The supervisor's caseload review: per social worker, the site's care cascade and the
rapid-response figures, for a period, with CSV/XLSX downloads of each report."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from rest_framework.exceptions import ValidationError

from cases import access
from cases.models import Role
from casework import access as casework_access
from outreach.models import Urgency
from reports import access as reports_access
from reports import caseload, casework, empowerment, incidents, indicators, transfers
from reports.scope import resolve

from .common import page

FILTERS = ("site", "group", "worker", "from", "to")


def _scope(request):
    """The report scope the page's filters ask for, its query string, and the filters' errors
    (a bad filter falls back to the site and the default period, with its message)."""
    user = request.user
    if not reports_access.may_review_caseload(user):
        raise Http404
    sites = access.sites_visible_to(user).order_by("code")
    params = {k: v for k, v in request.GET.items() if k in FILTERS and v}
    if "site" not in params and not user.site_id:
        first = sites.first()
        if first is None:
            raise Http404
        params["site"] = str(first.pk)  # an admin starts with one site, not all at once
    errors = {}
    try:
        scope = resolve(user, params, as_of_end=True)  # the page shows the cascade and indicators
    except ValidationError as e:
        errors = {field: " ".join(str(m) for m in messages) for field, messages in e.detail.items()}
        params = {k: v for k, v in params.items() if k == "site" and "site" not in errors}
        scope = resolve(user, params)
    chosen = {k: v for k, v in scope.as_dict().items() if k in ("site", "group", "worker") and v is not None}
    query = urlencode({**chosen, "from": f"{scope.start:%Y-%m-%d}", "to": f"{scope.end:%Y-%m-%d}"})
    return scope, query, errors, sites


@page
def caseload_review(request):
    user = request.user
    scope, query, errors, sites = _scope(request)
    site = scope.site
    figures = indicators.page_figures(user, scope)  # one pass over the facts for both
    incident_figures = incidents.incident_report(user, scope)
    for row in incident_figures["by_urgency"]:
        row["urgency_label"] = Urgency(row["urgency"]).label  # the report speaks in codes
    context = {
        "site": site,
        "scope": scope,
        "errors": errors,
        "sites": sites if access.is_admin(user) else None,
        "groups": access.support_groups_visible_to(user).filter(site=site).order_by("name"),
        "social_workers": access.users_visible_to(user)
        .filter(role=Role.SOCIAL_WORKER, site=site, is_active=True)
        .order_by("username"),
        "workers": caseload.caseload_by_worker(user, scope),
        "definitions": caseload.caseload_definitions(user, scope),
        "indicators": figures[0],
        "cascade": figures[1],
        "incidents": incident_figures,
        "empowerment": empowerment.for_page(empowerment.empowerment_report(user, scope)),
        "transfers": transfers.transfer_report(user, scope) if transfers.may_see_transfer_report(user) else None,
        "casework": casework.for_page(casework.casework_report(user, scope)),
        "may_sign_off": casework_access.may_sign_off_at_all(user),
        "query": query,
    }
    return render(request, "web/caseload.html", context)


INDICATOR_PAGE_SIZE = 50


@page
def indicator_clients(request, indicator_id):
    """The clients behind one indicator's numerator or denominator: codes and nicknames,
    each read logged (SPEC §12.1)."""
    scope, query, errors, _sites = _scope(request)
    indicator = indicators.BY_ID.get(indicator_id)
    part = request.GET.get("part", "numerator")
    if indicator is None or part not in ("numerator", "denominator") or indicator.predicate(part) is None:
        raise Http404
    ids = indicators.indicator_client_ids(request.user, scope, indicator, part)
    page_obj = Paginator(ids, INDICATOR_PAGE_SIZE).get_page(request.GET.get("page"))
    clients = indicators.clients_behind(indicator, page_obj)
    context = {
        "indicator": indicator,
        "part": part,
        "scope": scope,
        "query": query,
        "errors": errors,
        "clients": clients,
        "page_obj": page_obj,
    }
    return render(request, "web/indicator_clients.html", context)
