"""The supervisor's caseload review: per social worker, and the site's care cascade."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from cases import access
from reports import caseload

from .common import page


@page
def caseload_review(request):
    user = request.user
    if not caseload.may_review_caseload(user):
        raise Http404
    sites = access.sites_visible_to(user).order_by("code")
    site_id = request.GET.get("site", "")
    site = sites.filter(pk=site_id).first() if site_id.isdigit() else None
    site = site or (user.site if user.site_id else sites.first())
    if site is None:
        raise Http404
    today = timezone.localdate(timezone=site.tzinfo)
    context = {
        "site": site,
        "sites": sites if access.is_admin(user) else None,
        "workers": caseload.caseload_by_worker(user, site=site, today=today),
        "cascade": caseload.cascade(user, site=site, today=today),
    }
    return render(request, "web/caseload.html", context)
