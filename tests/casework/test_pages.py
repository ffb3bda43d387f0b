"""The cycle's pages on the phone: the assessment screen by screen, the plan's checklist,
Today's "due this week", the sign-off queue, closing and reopening, the scores chart."""

import datetime
import re

import pytest
from django.test import Client as BrowserClient

from casework.models import DOMAIN_GROUPS, Action, Assessment, Plan, Review

from .conftest import site_today

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_as():
    def _as(user):
        c = BrowserClient()
        c.force_login(user)
        return c

    return _as


def _screen(step, values, day):
    """The POST of screen `step` with every domain of it (and before) at its value."""
    data = {"step": step, "assessed_on": day.isoformat()}
    for n, (_key, _label, domains) in enumerate(DOMAIN_GROUPS[: step + 1]):
        for domain in domains:
            data[f"score_{domain}"] = values.get(domain, 2)
            data[f"note_{domain}"] = "catatan" if n == step else ""
    return data


def test_assessment_one_screen_per_group(page_as, worker, client_a):
    c = page_as(worker)
    url = f"/clients/{client_a.pk}/assessment/"
    day = site_today(client_a.site)
    body = c.get(url).content.decode()
    assert 'name="score_arv_adherence"' in body and 'name="score_economic"' not in body
    # A screen without its scores stays, with the message at the domain.
    r = c.post(url, {"step": 0, "assessed_on": day.isoformat()})
    assert r.status_code == 200 and "score_arv_adherence_error" in r.content.decode()
    r = c.post(url, _screen(0, {"arv_adherence": 1}, day))
    body = r.content.decode()
    assert r.status_code == 200 and 'name="score_family_support"' in body
    assert re.search(r'<input type="hidden" name="score_arv_adherence" value="1"', body)
    r = c.post(url, _screen(1, {"arv_adherence": 1}, day))
    assert 'name="score_economic"' in r.content.decode()
    assert not Assessment.objects.exists()  # nothing saved before the last screen
    r = c.post(url, _screen(2, {"arv_adherence": 1, "legal": 4}, day))
    assert r.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.kind == "initial" and assessment.scores["arv_adherence"] == 1
    assert assessment.scores["legal"] == 4 and assessment.notes["economic"] == "catatan"


def test_second_assessment_is_a_review_with_its_note(page_as, worker, client_a, assessment_a):
    c = page_as(worker)
    url = f"/clients/{client_a.pk}/assessment/"
    day = site_today(client_a.site)
    r = c.post(url, _screen(2, {"arv_adherence": 3}, day))
    assert r.status_code == 200 and "review_note_error" in r.content.decode()
    r = c.post(url, {**_screen(2, {"arv_adherence": 3}, day), "review_note": "Membaik"})
    assert r.status_code == 302
    review = Review.objects.get()
    assert review.assessment.kind == "review" and review.note == "Membaik"


def test_plan_page_start_goal_action_and_tick(page_as, worker, volunteer, client_a, assessment_a):
    c = page_as(worker)
    url = f"/clients/{client_a.pk}/plan/"
    assert "Start a plan" in c.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert c.post(url, {"what": "start"}).status_code == 302
    plan = Plan.objects.get()
    assert c.post(url, {"what": "goal", "goal-domain": "housing", "goal-description": "Kos aman"}).status_code == 302
    goal = plan.goals.get()
    due = site_today(client_a.site) + datetime.timedelta(days=2)
    r = c.post(url, {"what": "action", "goal": goal.pk, "action-description": "Cari kos", "action-owner": volunteer.pk})
    assert r.status_code == 200 and "action-due_date_error" in r.content.decode()  # kept, with its error
    r = c.post(
        url,
        {
            "what": "action",
            "goal": goal.pk,
            "action-description": "Cari kos",
            "action-owner": volunteer.pk,
            "action-due_date": due.isoformat(),
        },
    )
    assert r.status_code == 302
    action = Action.objects.get()
    # The volunteer sees the checklist and ticks their own action, but adds nothing.
    v = page_as(volunteer)
    assert "Cari kos" in v.get(url).content.decode()
    assert v.post(url, {"what": "goal", "goal-domain": "legal", "goal-description": "x"}).status_code == 403
    body = v.get("/").content.decode()
    assert "Cari kos" in body  # due this week on their Today
    r = v.post(f"/actions/{action.pk}/tick/", {"next": "/"})
    assert r.status_code == 302 and r.url == "/"
    action.refresh_from_db()
    assert action.status == "done"
    r = v.post(f"/actions/{action.pk}/tick/", {"next": "https://example.com/"})
    assert r.url == f"/clients/{client_a.pk}/plan/"  # never off the site


def test_today_shows_reviews_and_assessments_due(page_as, worker, client_a, assessment_a, supervisor):
    from tests.factories import make_client

    body = page_as(worker).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Due this week" in body and client_a.code in body and "Case review" in body
    # A client of 25 days without an assessment: due within the week.
    newer = make_client(actor=supervisor, full_name="Rina", assigned_social_worker=worker)
    type(newer).objects.filter(pk=newer.pk).update(created_at=newer.created_at - datetime.timedelta(days=25))
    body = page_as(worker).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert newer.code in body


def test_review_queue_and_sign_off(page_as, supervisor, worker, review_a, client_a):
    assert page_as(worker).get("/reviews/").status_code == 404
    c = page_as(supervisor)
    body = c.get("/reviews/").content.decode()
    assert client_a.code in body and f"/reviews/{review_a.pk}/sign-off/" in body
    assert c.post(f"/reviews/{review_a.pk}/sign-off/").status_code == 302
    review_a.refresh_from_db()
    assert review_a.signed_off_by == supervisor
    assert f"/reviews/{review_a.pk}/sign-off/" not in c.get("/reviews/").content.decode()


def test_close_and_reopen_pages(page_as, worker, client_a):
    c = page_as(worker)
    url = f"/clients/{client_a.pk}/close/"
    day = site_today(client_a.site)
    r = c.post(url, {"reason": "goals_met", "closed_on": (day + datetime.timedelta(days=1)).isoformat()})
    assert r.status_code == 200 and "closed_on_error" in r.content.decode()
    assert c.post(url, {"reason": "goals_met", "closed_on": day.isoformat(), "note": "Mandiri"}).status_code == 302
    client_a.refresh_from_db()
    assert client_a.closure_reason == "goals_met"
    assert c.post(url, {"note": "Kembali minta pendampingan"}).status_code == 302
    client_a.refresh_from_db()
    assert client_a.closed_on is None


def test_client_page_shows_scores_over_time_without_inline_style(page_as, worker, client_a, reassessment_a):
    body = page_as(worker).get(f"/clients/{client_a.pk}/").content.decode()
    row = re.search(r'<tr data-domain="arv_adherence">.*?</tr>', body, re.S).group(0)
    # Assessed 1 then 3: two points, the second higher (smaller y), and the latest badge 3, +2.
    # Coordinates are plain numbers whatever the language (no decimal comma in SVG).
    points = re.findall(r'<circle class="score-(\d)" cx="([\d.]+)" cy="(\d+)"', row)
    assert [(s, int(y)) for s, _x, y in points] == [("1", 34), ("3", 14)]
    assert "<polyline" in row and "+2" in row
    assert " style=" not in body and "<style" not in body


@pytest.mark.parametrize("persona", ["colleague", "outsider_supervisor", "facility_staff", "other_volunteer"])
def test_out_of_reach_is_404(request, page_as, persona, client_a, action_a):
    c = page_as(request.getfixturevalue(persona))
    for path in ("assessment/", "plan/", "close/"):
        assert c.get(f"/clients/{client_a.pk}/{path}").status_code == 404, path
    assert c.post(f"/actions/{action_a.pk}/tick/").status_code == 404


def test_volunteer_may_not_assess_or_close(page_as, volunteer, client_a):
    c = page_as(volunteer)
    assert c.get(f"/clients/{client_a.pk}/assessment/").status_code == 403
    assert c.get(f"/clients/{client_a.pk}/close/").status_code == 403
