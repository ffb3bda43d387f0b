"""Community-based empowerment on the phone: the programme list (with the supervisor's
figures for a period), a programme's page, taking attendance, enrolling clients and
recording outcomes; and the national view for admins."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError as DRFValidationError

from cases import access as cases_access
from cases import audit
from cases.exceptions import Conflict
from empowerment import access, services
from empowerment.models import ECONOMIC_KINDS
from reports import empowerment as empowerment_report
from reports import national as national_report
from reports.scope import PeriodQuery, period, resolve

from ..forms import apply_service_errors
from ..programme_forms import EnrolmentForm, OutcomeForm, ProgrammeForm, SessionForm
from .common import page


def _errors(e):
    return {field: " ".join(str(m) for m in messages) for field, messages in e.detail.items()}


def empowerment_figures(user, params):
    """(scope, figures with labels, errors, download query) for the supervisor's view; a bad
    filter shows at its field and the default period is shown instead."""
    params = {k: v for k, v in params.items() if k in ("site", "from", "to") and v}
    errors = {}
    try:
        scope = resolve(user, params)
    except DRFValidationError as e:
        errors = _errors(e)
        scope = resolve(user, {k: v for k, v in params.items() if k == "site" and "site" not in errors})
    report = empowerment_report.for_page(empowerment_report.empowerment_report(user, scope))
    query = {"from": f"{scope.start:%Y-%m-%d}", "to": f"{scope.end:%Y-%m-%d}"}
    if scope.site is not None:
        query["site"] = scope.site.pk
    return scope, report, errors, urlencode(query)


@page
def programme_list(request):
    user = request.user
    if not access.may_record_sessions_at_all(user):
        raise Http404
    programmes = (
        access.programmes_visible_to(user)
        .select_related("site", "support_group")
        .annotate(n_sessions=Count("sessions", distinct=True), n_enrolled=Count("enrolments", distinct=True))
        .order_by("-start_date", "-id")
    )
    context = {"programmes": programmes, "can_create": access.can_create_programme(user)}
    if empowerment_report.may_see_empowerment_page(user):
        scope, report, errors, query = empowerment_figures(user, request.GET)
        sites = cases_access.sites_visible_to(user).order_by("code") if cases_access.is_admin(user) else None
        context.update(scope=scope, report=report, errors=errors, query=query, sites=sites)
    return render(request, "web/programme_list.html", context)


@page
def programme_create(request):
    user = request.user
    if not access.can_create_programme(user):
        raise Http404
    form = ProgrammeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        site = data.pop("site", None) or user.site
        try:
            programme = services.programme_create(actor=user, site=site, **data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Programme created."))
            return redirect("programme-detail", programme.pk)
    return render(request, "web/programme_form.html", {"form": form})


@page
def programme_edit(request, pk):
    user = request.user
    programme = access.programme_for_user(user, pk)
    if not access.may_manage(user, programme):
        raise PermissionDenied
    form = ProgrammeForm(request.POST or None, instance=programme, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.programme_update(actor=user, programme=programme, **form.cleaned_data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Programme saved."))
            return redirect("programme-detail", programme.pk)
    return render(request, "web/programme_form.html", {"form": form, "programme": programme})


@page
def programme_detail(request, pk):
    user = request.user
    programme = access.programme_for_user(user, pk)
    enrolments = list(
        access.enrolments_visible_to(user)
        .filter(programme=programme)
        .select_related("client")
        .order_by("client__nickname", "client__code")
    )
    # The page names these clients: each is a read, logged in one insert.
    audit.client_reads_logger(what="enrolment")([e.client_id for e in enrolments])
    sessions = programme.sessions.annotate(
        n_attended=Count("attendance"),
        n_others=F("others_family") + F("others_community") + F("others_health_workers"),
    ).order_by("-date", "-id")
    totals = programme.sessions.aggregate(
        family=Sum("others_family"), community=Sum("others_community"), health_workers=Sum("others_health_workers")
    )
    context = {
        "programme": programme,
        "economic": programme.kind in ECONOMIC_KINDS,
        "enrolments": enrolments,
        "enrolled_total": programme.enrolments.count(),
        "sessions": sessions,
        "others_totals": {k: v or 0 for k, v in totals.items()},
        "can_manage": access.may_manage(user, programme),
        "can_record": access.may_record_sessions(user, programme),
    }
    return render(request, "web/programme_detail.html", context)


def _attendance_page(request, programme, session=None):
    user = request.user
    if not access.may_record_sessions(user, programme):
        raise PermissionDenied
    initial = None
    if session is not None:
        initial = {
            "date": session.date,
            "topic": session.topic,
            "attendees": list(access.attendees_visible_to(user, session).filter(programme_sessions=session)),
            **{f"others_{k}": v for k, v in session.others.items()},
        }
    form = SessionForm(request.POST or None, initial=initial, user=user, programme=programme)
    roster = list(form.fields["attendees"].queryset.values_list("pk", flat=True))
    audit.client_reads_logger(what="enrolment")(roster)
    if request.method == "POST" and form.is_valid():
        try:
            if session is None:
                services.session_record(actor=user, programme=programme, **form.service_data())
            else:
                services.session_update(actor=user, session=session, **form.service_data())
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Attendance saved."))
            return redirect("programme-detail", programme.pk)
    hidden = programme.enrolments.exclude(client_id__in=roster).count()
    context = {"form": form, "programme": programme, "session": session, "hidden_enrolled": hidden}
    return render(request, "web/session_form.html", context)


@page
def session_create(request, pk):
    return _attendance_page(request, access.programme_for_user(request.user, pk))


@page
def session_edit(request, pk):
    session = access.session_for_user(request.user, pk)
    return _attendance_page(request, session.programme, session)


@page
def enrolment_create(request, pk):
    user = request.user
    programme = access.programme_for_user(user, pk)
    if not access.may_manage(user, programme):
        raise PermissionDenied
    form = EnrolmentForm(request.POST or None, user=user, programme=programme)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_create(actor=user, programme=programme, **form.cleaned_data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Client enrolled."))
            return redirect("programme-detail", programme.pk)
    return render(request, "web/enrolment_form.html", {"form": form, "programme": programme})


@page
def enrolment_outcome(request, pk):
    user = request.user
    enrolment = access.enrolment_for_user(user, pk)
    programme = enrolment.programme
    if not access.may_manage(user, programme):
        raise PermissionDenied
    audit.log_client_read(enrolment.client, what="enrolment")
    form = OutcomeForm(request.POST or None, instance=enrolment, programme=programme)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not data["outcome"]:
            data["outcome_on"] = None  # still taking part: no day of an outcome
        try:
            services.enrolment_update(actor=user, enrolment=enrolment, **data)
        except (ValidationError, Conflict) as e:
            if isinstance(e, Conflict):
                form.add_error(None, str(e))
            else:
                apply_service_errors(form, e)
        else:
            messages.success(request, _("Outcome saved."))
            return redirect("programme-detail", programme.pk)
    context = {"form": form, "programme": programme, "enrolment": enrolment}
    return render(request, "web/outcome_form.html", context)


@page
def national(request):
    user = request.user
    if not national_report.may_see_national(user):
        raise Http404
    query = PeriodQuery(data={k: v for k, v in request.GET.items() if k in ("from", "to") and v})
    errors = {}
    data = {}
    if query.is_valid():
        data = query.validated_data
    else:
        errors = {field: " ".join(str(m) for m in messages) for field, messages in query.errors.items()}
    try:
        start, end = period(data, national_report.national_today())
    except DRFValidationError as e:
        errors = _errors(e)
        start, end = period({}, national_report.national_today())
    report = national_report.national_report(start, end)
    context = {
        "report": report,
        "start": start,
        "end": end,
        "errors": errors,
        "labels": empowerment_report.LABELS,
        "query": urlencode({"from": f"{start:%Y-%m-%d}", "to": f"{end:%Y-%m-%d}"}),
    }
    return render(request, "web/national.html", context)
