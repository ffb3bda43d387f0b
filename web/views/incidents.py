"""The rapid-response board: open incidents against their targets, and their moves."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.exceptions import Conflict
from outreach import access as outreach_access
from outreach import services as outreach_services
from outreach.models import OPEN_INCIDENT_STATUSES, Incident
from outreach.services import INCIDENT_TRANSITIONS

from ..forms import IncidentActionForm, IncidentForm, apply_service_errors
from .common import page

ACTION_LABELS = {
    "acknowledge": gettext_lazy("Acknowledge"),
    "respond": gettext_lazy("Respond"),
    "resolve": gettext_lazy("Resolve"),
    "close": gettext_lazy("Close"),
    "cancel": gettext_lazy("Cancel incident"),
}


def _urgency_class(due, now):
    """Colour by how close the next target is: passed, within an hour, later."""
    left = (due - now).total_seconds()
    if left < 0:
        return "danger"
    if left < 3600:
        return "warning"
    return "success"


@page
def incident_board(request):
    user = request.user
    now = timezone.now()
    incidents = (
        outreach_access.incidents_visible_to(user)
        .filter(status__in=OPEN_INCIDENT_STATUSES)
        .select_related("client")
        .order_by("resolve_due_at", "id")
    )
    board = []
    for incident in incidents:
        # Until acknowledged the acknowledge target is the one that counts.
        due = incident.ack_due_at if incident.acknowledged_at is None else incident.resolve_due_at
        actions = []
        if outreach_access.may_move_incident(user, incident):
            actions = [a for a, (sources, _t, _s) in INCIDENT_TRANSITIONS.items() if incident.status in sources]
        board.append(
            {
                "incident": incident,
                "next_due": due,
                "overdue": due < now,
                "css": _urgency_class(due, now),
                "actions": [(a, ACTION_LABELS[a]) for a in actions],
            }
        )
    context = {"board": board, "can_report": outreach_access.can_report_incident(user)}
    return render(request, "web/incident_board.html", context)


@require_POST
@page
def incident_move(request, pk):
    user = request.user
    try:
        incident = outreach_access.incidents_visible_to(user).get(pk=pk)
    except (Incident.DoesNotExist, ValueError):
        raise Http404 from None
    if not outreach_access.may_move_incident(user, incident):
        raise PermissionDenied
    form = IncidentActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an action."))
        return redirect("incident-board")
    try:
        outreach_services.incident_transition(actor=user, incident=incident, **form.cleaned_data)
    except Conflict as e:
        messages.error(request, str(e))
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("Incident #%(id)s updated.") % {"id": incident.pk})
    return redirect("incident-board")


@page
def incident_report(request):
    user = request.user
    if not outreach_access.can_report_incident(user):
        raise Http404
    form = IncidentForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        site = data.pop("site", None) or user.site
        try:
            outreach_services.incident_report(actor=user, site=site, **data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Incident reported."))
            return redirect("incident-board")
    return render(request, "web/incident_form.html", {"form": form})
