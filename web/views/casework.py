"""The case-management cycle on the phone: the assessment one screen per group of domains,
the plan as a checklist of actions, closing and reopening a case, and the supervisors'
review sign-off queue."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import access as cases_access
from cases import audit
from cases.exceptions import Conflict
from cases.models import ClosureReason
from casework import access, selectors, services
from casework.models import DOMAIN_GROUPS, ActionStatus, Assessment, AssessmentKind, Domain, Review

from ..casework_forms import ActionForm, AssessmentStepForm, CloseForm, GoalForm, ReopenForm
from ..forms import apply_service_errors
from .common import page, site_today

# Labels for the codes the cycle's timeline events carry (web.views.clients).
EVENT_LABELS = {
    "assessment": {"kind": dict(AssessmentKind.choices)},
    "action": {"status": dict(ActionStatus.choices), "goal_domain": dict(Domain.choices)},
    "closure": {"reason": dict(ClosureReason.choices)},
}


def _writable_client(user, pk):
    """The client `pk` whose cycle `user` writes: 404 out of reach, 403 if only readable."""
    client = cases_access.client_for_action(user, pk, access.may_write_casework)
    return client


def _step(request):
    raw = request.POST.get("step", "0")
    return int(raw) if raw.isdigit() and int(raw) < len(DOMAIN_GROUPS) else 0


@page
def assessment_create(request, pk):
    """Each screen posts its answers with the earlier ones; the last one records."""
    user = request.user
    client = _writable_client(user, pk)
    reviewing = Assessment.objects.filter(client=client).exists()
    step = _step(request) if request.method == "POST" else 0
    form = AssessmentStepForm(
        request.POST if request.method == "POST" else None,
        step=step,
        reviewing=reviewing,
        initial={"assessed_on": site_today(user)},
    )
    if request.method == "POST" and form.is_valid():
        if not form.last:
            # The next screen, carrying what was answered so far.
            form = AssessmentStepForm(step=step + 1, reviewing=reviewing, initial=form.cleaned_data)
        else:
            try:
                with transaction.atomic():
                    assessment = services.assessment_record(actor=user, client=client, **form.service_data())
                    if reviewing:
                        services.review_record(
                            actor=user, client=client, assessment=assessment, note=form.cleaned_data["review_note"]
                        )
            except ValidationError as e:
                apply_service_errors(form, e)
            else:
                messages.success(request, _("Review recorded.") if reviewing else _("Assessment recorded."))
                return redirect("client-detail", pk=client.pk)
    _key, group_label, _domains = DOMAIN_GROUPS[form.step]
    context = {
        "client": client,
        "form": form,
        "group_label": group_label,
        "step_number": form.step + 1,
        "steps": len(DOMAIN_GROUPS),
        "reviewing": reviewing,
    }
    return render(request, "web/casework/assessment_form.html", context)


@page
def client_plan(request, pk):
    """The current plan: goals with their actions to tick; writers add goals and actions."""
    user = request.user
    client = cases_access.client_for_user(user, pk)
    if not access.clients_plans_readable_by(user).filter(pk=client.pk).exists():
        raise Http404
    audit.log_client_read(client, what="plan")
    can_write = access.may_write_casework(user, client)
    plan = selectors.current_plan(user, client)
    goal_form = GoalForm(prefix="goal")
    action_form = ActionForm(prefix="action", owners=access.owners_of(client)) if can_write else None
    failed_goal = None
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        what = request.POST.get("what")
        try:
            if what == "start":
                services.plan_create(actor=user, client=client)
                messages.success(request, _("Plan started: add its goals."))
                return redirect("client-plan", pk=client.pk)
            if what == "goal" and plan is not None:
                goal_form = GoalForm(request.POST, prefix="goal")
                if goal_form.is_valid():
                    services.goal_create(actor=user, plan=plan, **goal_form.cleaned_data)
                    messages.success(request, _("Goal added."))
                    return redirect("client-plan", pk=client.pk)
            if what == "action" and plan is not None:
                goal = next((g for g in plan.goals.all() if str(g.pk) == request.POST.get("goal")), None)
                action_form = ActionForm(request.POST, prefix="action", owners=access.owners_of(client))
                failed_goal = goal.pk if goal else None
                if goal is not None and action_form.is_valid():
                    services.action_create(actor=user, goal=goal, **action_form.cleaned_data)
                    messages.success(request, _("Action added."))
                    return redirect("client-plan", pk=client.pk)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
    context = {
        "client": client,
        "plan": plan,
        "can_write": can_write,
        "goal_form": goal_form,
        "action_form": action_form,
        "failed_goal": failed_goal,
        "user_id": user.pk,
    }
    return render(request, "web/casework/plan.html", context)


@require_POST
@page
def action_tick(request, pk):
    """Tick an action done, or back to open."""
    user = request.user
    action = access.action_for_user(user, pk)
    if not access.may_change_action(user, action):
        raise PermissionDenied
    status = ActionStatus.OPEN if action.status == ActionStatus.DONE else ActionStatus.DONE
    try:
        services.action_update(actor=user, action=action, status=status)
    except (ValidationError, Conflict) as e:
        messages.error(request, " ".join(getattr(e, "messages", [str(e)])))
    else:
        messages.success(request, _("Action done.") if status == ActionStatus.DONE else _("Action open again."))
    # Back to the page it was ticked on (the plan, or Today), never off the site.
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("client-plan", pk=action.client_id)


@page
def client_close(request, pk):
    """Close the case with its reason, or reopen a closed one; the history below."""
    user = request.user
    client = _writable_client(user, pk)
    closed = client.closed_on is not None
    form_class = ReopenForm if closed else CloseForm
    form = form_class(request.POST or None, initial={"closed_on": site_today(user)})
    if request.method == "POST" and form.is_valid():
        try:
            if closed:
                services.client_reopen(actor=user, client=client, **form.cleaned_data)
            else:
                services.client_close(actor=user, client=client, **form.cleaned_data)
        except ValidationError as e:
            apply_service_errors(form, e)
        except Conflict as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Case reopened.") if closed else _("Case closed."))
            return redirect("client-detail", pk=client.pk)
    audit.log_client_read(client, what="form")
    history = access.closures_visible_to(user).filter(client=client).select_related("closed_by", "reopened_by")
    context = {"client": client, "form": form, "closed": closed, "history": history}
    return render(request, "web/casework/close_form.html", context)


@page
def review_queue(request):
    """Reviews awaiting a supervisor's sign-off, oldest first."""
    user = request.user
    if not access.may_sign_off_at_all(user):
        raise Http404
    reviews = list(
        access.reviews_awaiting_sign_off(user)
        .select_related("client", "reviewed_by", "assessment")
        .order_by("created_at", "id")[:100]
    )
    audit.client_reads_logger(what="review")([r.client_id for r in reviews])
    return render(request, "web/casework/review_queue.html", {"reviews": reviews, "user_id": user.pk})


@require_POST
@page
def review_sign_off(request, pk):
    user = request.user
    review: Review = access.review_for_user(user, pk)
    if not access.may_sign_off(user, review):
        raise PermissionDenied
    try:
        services.review_sign_off(actor=user, review=review)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    except Conflict as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Review of %(code)s signed off.") % {"code": review.client.code})
    return redirect("review-queue")


# --- on the client page --------------------------------------------------------------------------

CHART_WIDTH, CHART_TOP, CHART_STEP = 120, 4, 10  # score 4 at the top (y 4), 1 at y 34


def _chart_row(domain, label, history):
    """One domain's line: SVG points (x, y, score) spread over the chart's width."""
    n = len(history)
    points = []
    for i, (_day, score) in enumerate(history):
        x = CHART_WIDTH / 2 if n == 1 else 6 + i * (CHART_WIDTH - 12) / (n - 1)
        # As text: the page's locale would write a decimal comma, which SVG does not read.
        points.append((f"{x:.1f}", str(CHART_TOP + (4 - score) * CHART_STEP), score))
    scores = [score for _day, score in history]
    return {
        "domain": domain,
        "label": label,
        "scores": scores,
        "points": points,
        "polyline": " ".join(f"{x},{y}" for x, y, _s in points),
        "latest": scores[-1],
        "change": scores[-1] - scores[0],
    }


def client_summary(user, client, *, can_edit):
    """The client page's part of the cycle: what `user` may do, and each domain's scores over
    time (None if the user reads nothing of the cycle). `client` is one `user` reads and
    `can_edit` whether they may change it, as the page already asked cases.access: the cycle's
    rules follow from them and the role (casework.access), with no query of their own."""
    if not access.may_read_plans_at_all(user):
        return None
    can_write = can_edit and access.may_write_casework_at_all(user)
    summary = {"can_read_plan": True, "can_write": can_write, "history": []}
    summary["can_read_assessments"] = access.may_write_casework_at_all(user)
    if summary["can_read_assessments"]:
        history = selectors.score_history(user, client)
        if history[0][2]:
            summary["history"] = [_chart_row(*row) for row in history]
            days = [day for day, _score in history[0][2]]
            summary["assessments"], summary["latest_on"] = len(days), days[-1]
            if client.closed_on is None:
                summary["review_due"] = selectors.months_after(days[-1], client.site.review_months)
    return summary
