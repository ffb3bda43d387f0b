"""Clients: the list, one client with its timeline, and the forms that write about them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import access, audit, selectors, services
from cases.arv import services as arv_services
from cases.exceptions import Conflict
from cases.models import AccessKind, Client, OutcomeStatus, SupportGroup
from empowerment.models import Outcome, ProgrammeKind
from outreach import services as outreach_services
from outreach.models import IncidentKind, IncidentStatus, ServiceKind, VisitKind
from referrals import access as referral_access
from reports.timeline import client_timeline

from ..forms import (
    AssignForm,
    ClientSearchForm,
    RefillForm,
    StatusForm,
    VisitForm,
    apply_service_errors,
    client_form_class,
)
from ..labels import field_label
from . import casework as casework_pages
from .common import page

PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 20
LIST_FIELDS = ("id", "code", "nickname", "status", "arv_state", "days_late", "last_visit_date")


def _page_number(request):
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) <= 10**6 else 1


@page
def client_list(request):
    form = ClientSearchForm(request.GET or None)
    # The API's list: the same scope and the same row figures.
    rows = selectors.client_rows(access.clients_visible_to(request.user))
    if form.is_valid():
        rows = selectors.clients_matching(rows, form.cleaned_data["q"])
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["arv_state"]:
            rows = rows.filter(arv_state=form.cleaned_data["arv_state"])
    elif form.is_bound:
        rows = rows.none()
    paginator = Paginator(rows.order_by("code").values(*LIST_FIELDS), PAGE_SIZE)
    clients = paginator.get_page(_page_number(request))
    clients.object_list = audit.log_rows(clients.object_list, kind=AccessKind.LIST)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "clients": clients,
        "query": query.urlencode(),
        "can_create": access.can_create_client(request.user),
        "can_import": access.may_import_clients(request.user),
        "can_break_glass": access.can_break_glass(request.user),
    }
    return render(request, "web/client_list.html", context)


def _client_row(user, pk):
    """The client as the API shows it (404 if out of reach), with what the page names."""
    client = access.client_for_user(user, pk)
    return (
        selectors.client_rows(Client.objects.filter(pk=client.pk))
        .select_related("site", "art_facility", "assigned_social_worker", "companion")
        .prefetch_related(Prefetch("support_groups", queryset=SupportGroup.objects.only("id", "name")))
        .get()
    )


def _display(client, name):
    field = Client._meta.get_field(name)
    if name == "support_groups":
        return ", ".join(g.name for g in client.support_groups.all())
    if field.choices:
        return getattr(client, f"get_{name}_display")()
    value = getattr(client, name)
    if field.is_relation and value is not None:
        return value.get_full_name() or value.username if hasattr(value, "username") else str(value)
    return value


# Labels for the codes timeline events carry.
_EVENT_LABELS = {
    "visit": {"kind": dict(VisitKind.choices)},
    "incident": {"kind": dict(IncidentKind.choices), "status": dict(IncidentStatus.choices)},
    "service": {"service": dict(ServiceKind.choices)},
    "status": {"status": dict(OutcomeStatus.choices)},
    "enrolment": {"programme_kind": dict(ProgrammeKind.choices), "outcome": dict(Outcome.choices)},
    **casework_pages.EVENT_LABELS,
}


def _labelled(events):
    for event in events:
        for name, labels in _EVENT_LABELS.get(event["type"], {}).items():
            event[name] = labels.get(event[name], event[name])
    return events


# Shown in the heading or not at all on the page.
_NOT_LISTED = {"id", "code", "version", "full_name"}


@page
def client_detail(request, pk):
    user = request.user
    client = _client_row(user, pk)
    audit.log_client_read(client)  # every read of a client's detail is logged, as in the API
    readable = access.client_readable_fields(user)
    fields = [(field_label(Client, name), _display(client, name)) for name in readable if name not in _NOT_LISTED]
    number = _page_number(request)
    total, events = client_timeline(user, client, offset=(number - 1) * TIMELINE_PAGE_SIZE, limit=TIMELINE_PAGE_SIZE)
    records = access.clients_for_records(user).filter(pk=client.pk).exists()
    context = {
        "client": client,
        "full_name": client.full_name if "full_name" in readable else "",
        "fields": fields,
        "events": _labelled(events),
        "timeline_page": number,
        "timeline_has_next": number * TIMELINE_PAGE_SIZE < total,
        "can_edit": access.clients_editable_by(user).filter(pk=client.pk).exists(),
        "can_record": records,
        "can_refer": referral_access.clients_referable_by(user).filter(pk=client.pk).exists(),
        "can_assign": access.can_assign(user, client),
        "can_change_status": access.can_change_status(user, client),
        "can_view_log": access.can_view_access_log(user, client),
    }
    context["casework"] = casework_pages.client_summary(user, client, can_edit=context["can_edit"])
    if context["can_assign"]:
        context["assign_form"] = AssignForm(user=user, client=client)
    return render(request, "web/client_detail.html", context)


@page
def client_create(request):
    user = request.user
    if not access.can_create_client(user):
        raise Http404
    form_class = client_form_class(user)
    form = form_class(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        data.pop("version", None)
        try:
            client = services.client_register(actor=user, **data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Client %(code)s registered.") % {"code": client.code})
            return redirect("client-detail", pk=client.pk)
    return render(request, "web/client_form.html", {"form": form, "client": None})


@page
def client_edit(request, pk):
    user = request.user
    client = access.client_for_change(user, pk)
    form_class = client_form_class(user, client)
    form = form_class(request.POST or None, instance=client, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                actor=user, client=client, version=form.cleaned_data.get("version"), **form.service_fields()
            )
        except ValidationError as e:
            apply_service_errors(form, e)
        except Conflict as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Changes saved."))
            return redirect("client-detail", pk=client.pk)
    # The form shows the client's data: a read of its detail.
    audit.log_client_read(client, what="form")
    return render(request, "web/client_form.html", {"form": form, "client": client})


def _client_for_records(user, pk):
    """A client `user` may record visits and refills for; 404 if out of reach, 403 if read-only."""
    client = access.client_for_user(user, pk)
    if not access.clients_for_records(user).filter(pk=client.pk).exists():
        raise PermissionDenied
    return client


def _record_view(request, pk, *, form_class, service, template, done):
    user = request.user
    client = _client_for_records(user, pk)
    form = form_class(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            service(actor=user, client=client, **form.cleaned_data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, done)
            return redirect("client-detail", pk=client.pk)
    return render(request, template, {"form": form, "client": client})


@page
def visit_create(request, pk):
    return _record_view(
        request,
        pk,
        form_class=VisitForm,
        service=outreach_services.visit_record,
        template="web/visit_form.html",
        done=_("Visit recorded."),
    )


@page
def refill_create(request, pk):
    return _record_view(
        request,
        pk,
        form_class=RefillForm,
        service=arv_services.refill_record,
        template="web/refill_form.html",
        done=_("Refill recorded."),
    )


@page
def client_status(request, pk):
    """Record a dated outcome from the client's page (SPEC §12.1)."""
    user = request.user
    client = access.client_for_action(user, pk, access.can_change_status)
    form = StatusForm(request.POST or None, user=user, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_status_change(actor=user, client=client, **form.cleaned_data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Status of %(code)s changed.") % {"code": client.code})
            return redirect("client-detail", pk=client.pk)
    history = client.status_events.select_related("recorded_by").order_by("-effective_date", "-id")
    return render(request, "web/status_form.html", {"form": form, "client": client, "history": history})


@require_POST
@page
def client_assign(request, pk):
    user = request.user
    client = access.client_for_action(user, pk, access.can_assign)
    form = AssignForm(request.POST, user=user, client=client)
    if form.is_valid():
        try:
            services.client_assign(actor=user, client=client, social_worker=form.cleaned_data["social_worker"])
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        except Conflict as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("Client %(code)s reassigned.") % {"code": client.code})
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect("client-detail", pk=client.pk)
