"""assessment_due, review_due and action_due through the outbox, each at most once."""

import datetime

import pytest

from cases import outbox
from cases.models import Notification, NotificationKind
from casework import services
from casework.reminders import months_after, months_before

from .conftest import scores, site_today

pytestmark = pytest.mark.django_db


def _sent(kind):
    rows = Notification.objects.filter(kind=kind).order_by("id")
    return list(rows.values_list("recipient_user__username", "subject_id"))


def test_months_keep_the_day_or_take_the_months_last():
    assert months_before(datetime.date(2026, 5, 31), 3) == datetime.date(2026, 2, 28)
    assert months_after(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)
    assert months_before(datetime.date(2026, 1, 15), 1) == datetime.date(2025, 12, 15)


def test_assessment_due_30_days_after_registration_once(client_a, worker):
    registered = site_today(client_a.site)
    outbox.run_all(today=registered + datetime.timedelta(days=29))
    assert _sent(NotificationKind.ASSESSMENT_DUE) == []
    outbox.run_all(today=registered + datetime.timedelta(days=30))
    outbox.run_all(today=registered + datetime.timedelta(days=31))
    assert _sent(NotificationKind.ASSESSMENT_DUE) == [(worker.username, client_a.pk)]
    text = outbox.render(Notification.objects.get(kind=NotificationKind.ASSESSMENT_DUE))
    assert client_a.code in text


def test_no_assessment_due_once_assessed(client_a, assessment_a):
    outbox.run_all(today=site_today(client_a.site) + datetime.timedelta(days=40))
    assert _sent(NotificationKind.ASSESSMENT_DUE) == []


def test_review_due_after_the_sites_months_from_the_latest_assessment(client_a, worker, assessment_a):
    today = site_today(client_a.site)
    outbox.run_all(today=today)  # assessed 100 days ago; the site reviews every 3 months
    outbox.run_all(today=today)
    assert _sent(NotificationKind.REVIEW_DUE) == [(worker.username, assessment_a.pk)]
    again = services.assessment_record(actor=worker, client=client_a, assessed_on=today, scores=scores())
    outbox.run_all(today=today + datetime.timedelta(days=80))
    assert len(_sent(NotificationKind.REVIEW_DUE)) == 1
    outbox.run_all(today=months_after(today, 3))
    assert _sent(NotificationKind.REVIEW_DUE)[-1] == (worker.username, again.pk)


def test_site_review_months_move_the_review(client_a, assessment_a):
    client_a.site.review_months = 6
    client_a.site.save()
    outbox.run_all(today=site_today(client_a.site))
    assert _sent(NotificationKind.REVIEW_DUE) == []


def test_closed_cases_are_not_reminded(client_a, worker, assessment_a):
    services.client_close(actor=worker, client=client_a, reason="goals_met", closed_on=site_today(client_a.site))
    outbox.run_all(today=site_today(client_a.site) + datetime.timedelta(days=60))
    assert _sent(NotificationKind.REVIEW_DUE) == _sent(NotificationKind.ASSESSMENT_DUE) == []


def test_action_due_reaches_its_owner_once_and_not_when_done(action_a, volunteer, worker):
    due = action_a.due_date
    outbox.run_all(today=due - datetime.timedelta(days=1))
    assert _sent(NotificationKind.ACTION_DUE) == []
    outbox.run_all(today=due)
    outbox.run_all(today=due + datetime.timedelta(days=1))
    assert _sent(NotificationKind.ACTION_DUE) == [(volunteer.username, action_a.pk)]
    text = outbox.render(Notification.objects.get(kind=NotificationKind.ACTION_DUE))
    assert "Pasang alarm minum obat" in text
    other = services.action_create(
        actor=worker, goal=action_a.goal, description="Antar ke klinik", owner=worker, due_date=due
    )
    services.action_update(actor=worker, action=other, status="done")
    outbox.run_all(today=due + datetime.timedelta(days=2))
    assert len(_sent(NotificationKind.ACTION_DUE)) == 1
