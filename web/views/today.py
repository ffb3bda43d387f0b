"""'Hari ini': what each role should do today."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import access, audit, selectors
from cases.arv import services as arv_services
from cases.exceptions import Conflict
from cases.models import AccessKind, Role, Tracing, TracingStatus
from cases.selectors import ArvState
from casework import selectors as casework_selectors
from outreach import access as outreach_access
from outreach.models import OPEN_INCIDENT_STATUSES
from outreach.selectors import clients_visit_due
from reports import access as reports_access

from .common import page, site_today

LIST_LIMIT = 20
ROW_FIELDS = ("id", "code", "nickname", "arv_state", "days_late", "next_refill_due", "last_visit_date")


def late_refills(user):
    """Clients in `user`'s reach whose refill is late or lapsed, most late first."""
    return (
        selectors.client_rows(access.clients_visible_to(user))
        .filter(arv_state__in=(ArvState.LATE, ArvState.LTFU))
        .order_by("-days_late", "code")
        .values(*ROW_FIELDS)[:LIST_LIMIT]
    )


def today(request):
    """Signed in: the day's work; otherwise the public welcome page with a sign-in link."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    return _today(request)


@page
def _today(request):
    user = request.user
    role = access.role_of(user)
    context = {"role": role, "today": site_today(user)}
    if role == Role.FACILITY_STAFF:
        return render(request, "web/today.html", context)
    context["incidents"] = (
        outreach_access.incidents_visible_to(user)
        .filter(status__in=OPEN_INCIDENT_STATUSES)
        .order_by("resolve_due_at")
        .only("id", "kind", "urgency", "status", "resolve_due_at")[:LIST_LIMIT]
    )
    context["late"] = late_refills(user)
    if role == Role.SOCIAL_WORKER:
        context["visits_due"] = clients_visit_due(user, today=context["today"]).values(
            "id", "code", "nickname", "next_visit_date"
        )[:LIST_LIMIT]
        context["tracings"] = (
            access.records_visible_to(user, Tracing)
            .filter(status=TracingStatus.OPEN)
            .filter(Q(claimed_by__isnull=True) | Q(claimed_by=user))
            .order_by("opened_on", "id")
            .values("id", "client_id", "client__code", "client__nickname", "opened_on", "claimed_by_id")[:LIST_LIMIT]
        )
    if role in (Role.SOCIAL_WORKER, Role.VOLUNTEER):
        # Plan actions given to them; a worker's reviews and assessments falling due too.
        context["due"] = casework_selectors.due_this_week(user, today=context["today"], site=user.site)
    context["may_review_caseload"] = reports_access.may_review_caseload(user)
    # Every client the page names is a read: all of them in one insert.
    for name in ("late", "visits_due", "tracings"):
        if name in context:
            context[name] = list(context[name])
    shown = [row["id"] for row in context["late"]] + [row["id"] for row in context.get("visits_due", ())]
    shown += [row["client_id"] for row in context.get("tracings", ())]
    due = context.get("due", {})
    shown += [row["client_id"] for row in (*due.get("actions", ()), *due.get("reviews", ()))]
    shown += [row["id"] for row in due.get("assessments", ())]
    audit.log_client_reads(dict.fromkeys(shown), kind=AccessKind.LIST, what="today")
    return render(request, "web/today.html", context)


@require_POST
@page
def tracing_claim(request, pk):
    tracing = access.record_for_user(request.user, Tracing, pk)
    if not access.can_work_tracing(request.user, tracing):
        raise PermissionDenied
    try:
        arv_services.tracing_claim(actor=request.user, tracing=tracing)
    except Conflict as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("The tracing task is yours."))
    return redirect("home")
