"""Reads of the cycle for the pages: what is due this week, a client's scores over time,
the current plan with its goals and actions. Each is one query (or a fixed few), scoped by
casework.access."""

import datetime

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from . import access
from .models import DOMAINS, Action, ActionStatus, Assessment, Domain, Goal, score_field
from .reminders import ASSESSMENT_DUE_DAYS, IN_CASE, latest_assessments, months_after, months_before

LIST_LIMIT = 20
WEEK = datetime.timedelta(days=7)


def actions_due(user, *, today):
    """Open actions of current plans given to `user`, due within the week (or late)."""
    return (
        access.actions_visible_to(user)
        .filter(owner=user, status=ActionStatus.OPEN, due_date__lte=today + WEEK, goal__plan__ended_on__isnull=True)
        .order_by("due_date", "id")
        .values("id", "client_id", "client__code", "client__nickname", "description", "due_date")[:LIST_LIMIT]
    )


def _open_caseload(user):
    """Open cases whose cycle `user` writes: a worker's own caseload, a supervisor's site."""
    return access.clients_casework_writable_by(user).filter(closed_on__isnull=True, status__in=IN_CASE)


def reviews_due(user, *, today, review_months):
    """Latest assessments of `user`'s open cases whose review falls within the week."""
    rows = (
        latest_assessments(_open_caseload(user))
        .filter(assessed_on__lte=months_before(today + WEEK, review_months))
        .order_by("assessed_on", "id")
        .values("id", "client_id", "client__code", "client__nickname", "assessed_on")[:LIST_LIMIT]
    )
    return [{**row, "due": months_after(row["assessed_on"], review_months)} for row in rows]


def assessments_due(user, *, today, tzinfo):
    """`user`'s open cases with no assessment whose 30 days since registration end within the week."""
    cutoff = datetime.datetime.combine(
        today + WEEK - datetime.timedelta(ASSESSMENT_DUE_DAYS - 1), datetime.time.min, tzinfo=tzinfo
    )
    rows = (
        _open_caseload(user)
        .filter(created_at__lt=cutoff)
        .exclude(Exists(Assessment.objects.filter(client=OuterRef("pk"))))
        .order_by("created_at", "id")
        .values("id", "code", "nickname", "created_at")[:LIST_LIMIT]
    )
    return [
        {**row, "due": timezone.localtime(row["created_at"], tzinfo).date() + datetime.timedelta(ASSESSMENT_DUE_DAYS)}
        for row in rows
    ]


def due_this_week(user, *, today, site):
    """For the Today page: actions given to `user`; for staff also the reviews and
    assessments of their caseload."""
    due = {"actions": list(actions_due(user, today=today))}
    if access.may_write_casework_at_all(user) and site is not None:
        due["reviews"] = reviews_due(user, today=today, review_months=site.review_months)
        due["assessments"] = assessments_due(user, today=today, tzinfo=site.tzinfo)
    return due


# --- one client ----------------------------------------------------------------------------------


def score_history(user, client):
    """[(domain, label, [(date, score), …] oldest first)] of the assessments `user` may read."""
    rows = list(
        access.assessments_visible_to(user)
        .filter(client=client)
        .order_by("assessed_on", "id")
        .values("assessed_on", *(score_field(d) for d in DOMAINS))
    )
    return [
        (domain, Domain(domain).label, [(row["assessed_on"], row[score_field(domain)]) for row in rows])
        for domain in DOMAINS
    ]


def current_plan(user, client):
    """The client's current plan, with its goals and their actions, if `user` may read it."""
    goals = Goal.objects.order_by("id").prefetch_related(
        Prefetch("actions", queryset=Action.objects.select_related("owner").order_by("due_date", "id"))
    )
    return (
        access.plans_visible_to(user)
        .filter(client=client, ended_on__isnull=True)
        .prefetch_related(Prefetch("goals", queryset=goals))
        .first()
    )
