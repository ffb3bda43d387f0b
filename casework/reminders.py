"""The cycle's part of the reminder engine (SPEC §12.2, §6), through the one outbox
(cases.outbox), each (subject, kind, recipient) at most once:

- `assessment_due`: a client registered 30 days ago or more with no assessment yet → the
  assigned social worker (subject: the client);
- `review_due`: the site's `review_months` have passed since the client's latest assessment
  → the assigned social worker (subject: that assessment, so each review period reminds once);
- `action_due`: an open action of a current plan reached its due date → its owner.

Closed cases and clients who died, moved or stopped are not reminded of.
"""

import calendar
import datetime

from django.db.models import Exists, OuterRef
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases import access as cases_access
from cases.models import Client, ClientStatus, NotificationKind
from cases.outbox import insert_notifications

from . import access
from .models import Action, ActionStatus, Assessment

ASSESSMENT_DUE_DAYS = 30
ASSESSMENT_SUBJECT = "casework.assessment_due"  # subject id: the client
REVIEW_SUBJECT = "casework.assessment"  # subject id: the latest assessment
ACTION_SUBJECT = "casework.action"
IN_CASE = (ClientStatus.ACTIVE, ClientStatus.LTFU)


def months_before(day, months) -> datetime.date:
    """`day` moved back `months` calendar months (the 31st becomes the month's last day)."""
    month0 = day.year * 12 + day.month - 1 - months
    year, month = divmod(month0, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_after(day, months) -> datetime.date:
    return months_before(day, -months)


def open_cases(site):
    return Client.objects.filter(site=site, closed_on__isnull=True, status__in=IN_CASE)


def assessment_due_clients(site, *, today):
    """Open cases registered `ASSESSMENT_DUE_DAYS` or more days before `today` (site days),
    with no assessment."""
    cutoff = datetime.datetime.combine(
        today - datetime.timedelta(ASSESSMENT_DUE_DAYS - 1), datetime.time.min, tzinfo=site.tzinfo
    )
    return (
        open_cases(site).filter(created_at__lt=cutoff).exclude(Exists(Assessment.objects.filter(client=OuterRef("pk"))))
    )


def latest_assessments(clients):
    """The latest assessment of each of `clients`."""
    later = Assessment.objects.filter(client=OuterRef("client"), assessed_on__gt=OuterRef("assessed_on"))
    same_day_later = Assessment.objects.filter(
        client=OuterRef("client"), assessed_on=OuterRef("assessed_on"), pk__gt=OuterRef("pk")
    )
    return (
        Assessment.objects.filter(client__in=clients.values("pk"))
        .exclude(Exists(later))
        .exclude(Exists(same_day_later))
    )


def review_due_assessments(site, *, until):
    """Latest assessments of open cases whose review falls on or before `until`."""
    return latest_assessments(open_cases(site)).filter(assessed_on__lte=months_before(until, site.review_months))


def scan_casework(*, site, today) -> dict:
    to_worker = {"recipient_user": "assigned_social_worker_id"}
    # Each message goes only to someone who reads the client now (cases.access.reads_client):
    # a worker reassigned away, or an owner left at the old site after a transfer, gets none.
    assessments_due = assessment_due_clients(site, today=today).filter(
        cases_access.reads_client("assigned_social_worker")
    )
    reviews_due = review_due_assessments(site, until=today).filter(
        cases_access.reads_client("client__assigned_social_worker", "client")
    )
    actions_due = Action.objects.filter(
        access.owner_reaches_client(),
        client__in=open_cases(site).values("pk"),
        goal__plan__ended_on__isnull=True,
        status=ActionStatus.OPEN,
        due_date__lte=today,
    )
    return {
        NotificationKind.ASSESSMENT_DUE: insert_notifications(
            assessments_due,
            kind=NotificationKind.ASSESSMENT_DUE,
            subject_type=ASSESSMENT_SUBJECT,
            subject="id",
            **to_worker,
        ),
        NotificationKind.REVIEW_DUE: insert_notifications(
            reviews_due,
            kind=NotificationKind.REVIEW_DUE,
            subject_type=REVIEW_SUBJECT,
            subject="id",
            recipient_user="client__assigned_social_worker_id",
            site="client__site_id",
        ),
        NotificationKind.ACTION_DUE: insert_notifications(
            actions_due,
            kind=NotificationKind.ACTION_DUE,
            subject_type=ACTION_SUBJECT,
            subject="id",
            recipient_user="owner_id",
            site="client__site_id",
        ),
    }


def _render_assessment_due(notification) -> str:
    client = Client.objects.only("code").get(pk=notification.subject_id)
    return _("Client %(code)s has no assessment yet, 30 days after registration: please assess.") % {
        "code": client.code
    }


def _render_review_due(notification) -> str:
    assessment = Assessment.objects.select_related("client__site").get(pk=notification.subject_id)
    due = months_after(assessment.assessed_on, assessment.client.site.review_months)
    return _("Client %(code)s: case review due on %(date)s (last assessed %(last)s).") % {
        "code": assessment.client.code,
        "date": date_format(due, "d/m/Y"),
        "last": date_format(assessment.assessed_on, "d/m/Y"),
    }


def _render_action_due(notification) -> str:
    action = Action.objects.select_related("client").get(pk=notification.subject_id)
    return _("Client %(code)s: plan action due on %(date)s: %(action)s") % {
        "code": action.client.code,
        "date": date_format(action.due_date, "d/m/Y"),
        "action": action.description,
    }


# subject type: (its renderer, where its client is: a message goes only to a reader of it)
RENDERERS = {
    ASSESSMENT_SUBJECT: (_render_assessment_due, (Client, "pk")),
    REVIEW_SUBJECT: (_render_review_due, (Assessment, "client_id")),
    ACTION_SUBJECT: (_render_action_due, (Action, "client_id")),
}
