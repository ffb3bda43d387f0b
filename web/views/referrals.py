"""Referrals: the sender's boxes and the facility inbox, a new draft, one referral and its steps.

Every read and step asks referrals.access and goes through referrals.services, as the API
does: out of reach is 404, in reach but not allowed is 403, an illegal step a clear message.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.exceptions import Conflict
from cases.models import Client
from referrals import access, links, selectors, services
from referrals.models import Referral, ReferralEvent

from ..forms import REFERRAL_ACTION_FORMS, ReferralFilterForm, ReferralForm, apply_service_errors
from ..labels import field_label
from .common import page

PAGE_SIZE = 30
ACTION_LABELS = {
    "send": gettext_lazy("Send to the facility"),
    "accept": gettext_lazy("Accept"),
    "decline": gettext_lazy("Decline"),
    "complete": gettext_lazy("Close with outcome"),
    "cancel": gettext_lazy("Cancel referral"),
}
# What a page loads of the client: the minimum a facility may learn (SPEC §7), nothing more.
CLIENT_FIELDS = ("client__id", "client__code", "client__nickname", "client__sex", "client__date_of_birth")
# Shown in the heading, as the client line, or not on the page at all.
_NOT_LISTED = {"id", "client", "client_summary", "status", "overdue", "version", "events", "facility_link"}


def _is_facility_inbox(user):
    """Staff of a facility who send nothing: their page is what was sent to their facility."""
    return user.facility_id is not None and not access.can_create_referral(user)


def _page_number(request):
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) <= 10**6 else 1


@page
def referral_list(request):
    user = request.user
    form = ReferralFilterForm(request.GET or None)
    facility_inbox = _is_facility_inbox(user)
    rows = access.referrals_visible_to(user)
    data = form.cleaned_data if form.is_valid() else {}
    if facility_inbox:
        # The API's `box=inbox`: what was sent to my facility.
        rows = rows.filter(to_facility_id=user.facility_id)
    elif data.get("box", "outbox") in ("", "outbox"):
        rows = rows.filter(from_user=user)  # the API's `box=outbox`: what I sent or drafted
    if data.get("status"):
        rows = rows.filter(status=data["status"])
    rows = selectors.with_overdue(rows)
    if data.get("overdue"):
        rows = rows.filter(overdue=True)
    if form.is_bound and not form.is_valid():
        rows = rows.none()
    rows = rows.select_related("client", "to_facility").only(
        "id", "status", "service", "urgency", "due_date", "sent_at", "created_at", "to_facility__name", *CLIENT_FIELDS
    )
    referrals = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE).get_page(_page_number(request))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "referrals": referrals,
        "query": query.urlencode(),
        "facility_inbox": facility_inbox,
        "can_create": access.can_create_referral(user),
    }
    return render(request, "web/referrals/referral_list.html", context)


@page
def referral_create(request):
    user = request.user
    if not access.can_create_referral(user):
        raise Http404
    client = None
    if "client" in request.GET:
        try:
            client = access.clients_referable_by(user).only("id", "code", "nickname").get(pk=request.GET["client"])
        except (ValueError, TypeError, Client.DoesNotExist):
            raise Http404 from None
    form = ReferralForm(request.POST or None, user=user, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_create(actor=user, **form.cleaned_data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Referral saved as a draft. Check it, then send it."))
            return redirect("referral-detail", pk=referral.pk)
    return render(request, "web/referrals/referral_form.html", {"form": form, "client": client})


@page
def referral_services(request):
    """The service field of a new referral for the facility chosen (htmx swaps it in)."""
    if not access.can_create_referral(request.user):
        raise Http404
    initial = {"to_facility": request.GET.get("to_facility", ""), "service": request.GET.get("service", "")}
    form = ReferralForm(user=request.user, initial=initial)
    if initial["service"] not in {code for code, _label in form.fields["service"].widget.choices}:
        form.initial["service"] = ""  # the new facility does not offer it: choose again
    return render(request, "web/referrals/_service_field.html", {"field": form["service"]})


def _referral_row(user, pk):
    """The referral as the API shows it (404 if out of reach), loading only what `user` may read."""
    referral = access.referral_for_user(user, pk)
    readable = access.referral_readable_fields(user)
    related = ["to_facility"]
    only = [f.name for f in Referral._meta.concrete_fields] + list(CLIENT_FIELDS) + ["to_facility__name"]
    events = ReferralEvent.objects.order_by("at", "id")
    if "from_user" in readable:
        related += ["from_user", "from_group"]
        only += ["from_user__username", "from_user__first_name", "from_user__last_name", "from_group__name"]
        actor = ("actor__username", "actor__first_name", "actor__last_name")
        events = events.select_related("actor").only("referral_id", "status", "via_link", "at", "note", *actor)
    row = (
        selectors.with_overdue(Referral.objects.filter(pk=referral.pk))
        .select_related("client", *related)
        .only(*only)
        .prefetch_related(Prefetch("events", queryset=events))
        .get()
    )
    return row, readable


def _display(referral, name):
    value = getattr(referral, name)
    field = Referral._meta.get_field(name)
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if field.choices:
        return getattr(referral, f"get_{name}_display")()
    if hasattr(value, "get_full_name"):
        return value.get_full_name() or value.username
    if field.is_relation and value is not None:
        return value.name
    return value


def _render_detail(request, referral, readable, *, sides=None, bound=None):
    sides = sides or access.referral_sides(request.user, referral)
    forms = []
    for name in services.referral_steps_open(referral, sides=sides):
        form_class = REFERRAL_ACTION_FORMS[name]
        form = bound if bound is not None and bound.action == name else form_class(auto_id=f"id_{name}_%s")
        forms.append({"action": name, "label": ACTION_LABELS[name], "form": form})
    client = referral.client
    context = {
        "referral": referral,
        "client_link": "client" in readable,
        "summary": selectors.client_as_facility_sees(client),
        "fields": [
            (field_label(Referral, name), _display(referral, name)) for name in readable if name not in _NOT_LISTED
        ],
        "show_actors": "from_user" in readable,
        # The slip carries the facility link: for the sending side, once sent and until cancelled.
        "slip": sides["sender"] and "facility_link" in readable and bool(links.token_for(referral)),
        "action_forms": forms,
    }
    return render(request, "web/referrals/referral_detail.html", context)


@page
def referral_detail(request, pk):
    referral, readable = _referral_row(request.user, pk)
    return _render_detail(request, referral, readable)


@require_POST
@page
def referral_act(request, pk, action):
    user = request.user
    if action not in services.TRANSITIONS:
        raise Http404
    referral = access.referral_for_user(user, pk)
    if not access.may_act_for(user, referral, services.TRANSITIONS[action][2]):
        raise PermissionDenied
    form = REFERRAL_ACTION_FORMS[action](request.POST, auto_id=f"id_{action}_%s")
    form.action = action
    if form.is_valid():
        try:
            referral = services.referral_transition(action=action, referral=referral, actor=user, **form.cleaned_data)
        except Conflict as e:
            messages.error(request, str(e))
            return redirect("referral-detail", pk=referral.pk)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            done = {"id": referral.pk, "status": referral.get_status_display()}
            messages.success(request, _("Referral #%(id)s is now %(status)s.") % done)
            return redirect("referral-detail", pk=referral.pk)
    row, readable = _referral_row(user, pk)
    sides = access.referral_sides(user, row)
    if action not in services.referral_steps_open(row, sides=sides):
        # Someone moved it meanwhile: the form asked for no longer applies.
        messages.error(request, _("This step is no longer possible; nothing was changed."))
        return redirect("referral-detail", pk=referral.pk)
    return _render_detail(request, row, readable, sides=sides, bound=form)
