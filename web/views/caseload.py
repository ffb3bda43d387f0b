"""The supervisor's caseload review: per social worker, the site's care cascade and the
rapid-response figures, for a period, with CSV/XLSX downloads of each report."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from rest_framework.exceptions import ValidationError

from cases import access
from cases.models import Role
from outreach.models import Urgency
from reports import caseload, incidents
from reports.scope import resolve

from .common import page

FILTERS = ("site", "group", "worker", "from", "to")


@page
def caseload_review(request):
    user = request.user
    if not caseload.may_review_caseload(user):
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
        scope = resolve(user, params)
    except ValidationError as e:
        errors = {field: " ".join(str(m) for m in messages) for field, messages in e.detail.items()}
        params = {k: v for k, v in params.items() if k == "site" and "site" not in errors}
        scope = resolve(user, params)
    site = scope.site
    chosen = {k: v for k, v in scope.as_dict().items() if k in ("site", "group", "worker") and v is not None}
    query = urlencode({**chosen, "from": f"{scope.start:%Y-%m-%d}", "to": f"{scope.end:%Y-%m-%d}"})
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
        "definitions": caseload.CASELOAD_DEFINITIONS,
        "cascade": caseload.cascade(user, scope),
        "incidents": incident_figures,
        "query": query,
    }
    return render(request, "web/caseload.html", context)
