"""Accountability pages: a client's access log, and emergency (break-glass) access with its
review by the site's supervisors (SPEC §7)."""

from datetime import timedelta

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import access, services
from cases.models import AccessLog

from ..forms import BreakGlassForm, apply_service_errors
from .clients import _page_number
from .common import page

PAGE_SIZE = 50


# What of a client a read entry names (cases.audit.log_client_read).
# (gettext_lazy by its own name: makemessages finds no other alias.)
_READ_PARTS = {
    "detail": gettext_lazy("details"),
    "timeline": gettext_lazy("timeline"),
    "fhir": gettext_lazy("FHIR export"),
    "list": gettext_lazy("list"),
    "form": gettext_lazy("edit form"),
    "write": gettext_lazy("after a change"),
    "admin": gettext_lazy("admin"),
    "today": gettext_lazy("today's work"),
    "referral": gettext_lazy("referral"),
    "share": gettext_lazy("share"),
    "transfer": gettext_lazy("transfer"),
}


def _record_label(object_type):
    """ "cases.client" → "client"; "cases.client.timeline" → "client (timeline)"."""
    app_label, _dot, rest = object_type.partition(".")
    model_name, _dot, part = rest.partition(".")
    try:
        label = str(apps.get_model(app_label, model_name)._meta.verbose_name)
    except LookupError:
        return object_type
    return f"{label} ({_READ_PARTS.get(part, part)})" if part else label


def _entries_page(request, entries):
    entries = Paginator(entries.select_related("user", "client").order_by("-at", "-id"), PAGE_SIZE).get_page(
        _page_number(request)
    )
    for entry in entries:
        entry.record_label = _record_label(entry.object_type)
    return entries


@page
def client_access_log(request, pk):
    """Who read or changed this client and its records: the site's supervisors and admins."""
    client = access.client_for_action(request.user, pk, access.can_view_access_log)
    entries = _entries_page(request, AccessLog.objects.filter(client_id=client.pk))
    return render(request, "web/access_log.html", {"client": client, "entries": entries})


@page
def break_glass_review(request):
    if not access.can_review_break_glass(request.user):
        raise PermissionDenied
    entries = _entries_page(request, access.break_glass_entries_visible_to(request.user))
    for entry in entries:
        entry.expires_at = entry.at + timedelta(hours=services.BREAK_GLASS_HOURS)
    return render(request, "web/break_glass_review.html", {"entries": entries})


@page
def break_glass_open(request):
    user = request.user
    if not access.can_break_glass(user):
        raise Http404
    form = BreakGlassForm(request.POST or None, initial={"code": request.GET.get("code", "")[:20]})
    if request.method == "POST" and form.is_valid():
        try:
            client = access.client_for_break_glass(user, code=form.cleaned_data["code"])
        except Http404:
            form.add_error("code", _("No client with this code at your site."))
        else:
            if access.reaches_client(user, client.pk):
                return redirect("client-detail", pk=client.pk)
            try:
                grant = services.client_break_glass(actor=user, client=client, reason=form.cleaned_data["reason"])
            except ValidationError as e:
                apply_service_errors(form, e)
            else:
                messages.warning(
                    request,
                    _("Emergency access to %(code)s until %(until)s. Your supervisors have been told.")
                    % {"code": client.code, "until": date_format(localtime(grant.expires_at), "SHORT_DATETIME_FORMAT")},
                )
                return redirect("client-detail", pk=client.pk)
    return render(request, "web/break_glass_form.html", {"form": form})
