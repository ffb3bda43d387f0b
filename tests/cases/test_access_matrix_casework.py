"""The case-management cycle (SPEC §12.2, §7): every persona × every resource of casework,
on client_a's records (site A) and client_b's (site B). Written out here as the contract,
not imported from casework.access."""

import datetime

import pytest
from django.utils import timezone

from casework import services
from casework.models import DOMAINS

PERSONAS = [
    "admin_user",
    "supervisor",
    "worker",
    "colleague",
    "volunteer",
    "other_volunteer",
    "facility_staff",
    "outsider_supervisor",
]
SCORES = dict.fromkeys(DOMAINS, 2)


def _today(site):
    return timezone.localdate(timezone=site.tzinfo)


def _cycle(*, worker, supervisor, owner, client):
    today = _today(client.site)
    first = services.assessment_record(
        actor=worker, client=client, assessed_on=today - datetime.timedelta(days=90), scores=SCORES
    )
    second = services.assessment_record(actor=worker, client=client, assessed_on=today, scores=SCORES)
    plan = services.plan_create(actor=worker, client=client, started_on=first.assessed_on)
    goal = services.goal_create(actor=worker, plan=plan, domain="housing", description="Tempat tinggal tetap")
    action = services.action_create(actor=worker, goal=goal, description="Cari kos", owner=owner, due_date=today)
    review = services.review_record(actor=worker, client=client, assessment=second, note="Stabil")
    return {
        "assessments": first.pk,
        "plans": plan.pk,
        "goals": goal.pk,
        "actions": action.pk,
        "reviews": review.pk,
    }


@pytest.fixture
def world(client_a, client_b, worker, supervisor, volunteer, outsider_worker, outsider_supervisor, colleague,
          other_volunteer, facility_staff, admin_user):  # fmt: skip
    return {
        "a": _cycle(worker=worker, supervisor=supervisor, owner=volunteer, client=client_a),
        "b": _cycle(worker=outsider_worker, supervisor=outsider_supervisor, owner=outsider_worker, client=client_b),
        "clients": {"a": client_a.pk, "b": client_b.pk},
    }


STAFF_A = {"a"}
# persona → which sides' records each resource shows.
READ = {
    "admin_user": {"assessments": {"a", "b"}, "plans": {"a", "b"}},
    "supervisor": {"assessments": STAFF_A, "plans": STAFF_A},
    "worker": {"assessments": STAFF_A, "plans": STAFF_A},
    "colleague": {"assessments": set(), "plans": set()},
    "volunteer": {"assessments": set(), "plans": STAFF_A},
    "other_volunteer": {"assessments": set(), "plans": set()},
    "facility_staff": {"assessments": set(), "plans": set()},
    "outsider_supervisor": {"assessments": {"b"}, "plans": {"b"}},
}
# Assessments, reviews and closures go together; plans, goals and actions too.
FAMILY = {
    "assessments": "assessments",
    "reviews": "assessments",
    "plans": "plans",
    "goals": "plans",
    "actions": "plans",
}


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("resource", ["assessments", "reviews", "plans", "goals", "actions"])
def test_lists_and_details(request, world, as_user, who, resource):
    api = as_user(request.getfixturevalue(who))
    expected = READ[who][FAMILY[resource]]
    # Each side has an initial assessment and a reassessment: the matrix follows the first.
    query = "?kind=initial" if resource == "assessments" else ""
    listed = {row["id"] for row in api.get(f"/api/v1/{resource}/{query}").json()["results"]}
    assert listed == {world[side][resource] for side in expected}, (who, resource)
    for side in "ab":
        status = api.get(f"/api/v1/{resource}/{world[side][resource]}/").status_code
        assert status == (200 if side in expected else 404), (who, resource, side)


# persona → status of creating an assessment for client_a.
CREATE_ASSESSMENT = {
    "admin_user": 201,
    "supervisor": 201,
    "worker": 201,
    "colleague": 400,  # client_a is no choice of theirs: "object does not exist"
    "volunteer": 403,
    "other_volunteer": 403,
    "facility_staff": 403,
    "outsider_supervisor": 400,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_create_assessment(request, world, as_user, who, client_a):
    api = as_user(request.getfixturevalue(who))
    body = {"client": client_a.pk, "assessed_on": _today(client_a.site).isoformat(), "scores": SCORES}
    r = api.post("/api/v1/assessments/", body, format="json")
    assert r.status_code == CREATE_ASSESSMENT[who], (who, r.content)


# persona → status of PATCHing client_a's action (owned by `volunteer`) done.
TICK_ACTION = {
    "admin_user": 200,
    "supervisor": 200,
    "worker": 200,
    "colleague": 404,
    "volunteer": 200,
    "other_volunteer": 404,
    "facility_staff": 404,
    "outsider_supervisor": 404,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_tick_action(request, world, as_user, who):
    api = as_user(request.getfixturevalue(who))
    r = api.patch(f"/api/v1/actions/{world['a']['actions']}/", {"status": "done"}, format="json")
    assert r.status_code == TICK_ACTION[who], (who, r.content)


# persona → status of signing off client_a's review (written by `worker`).
SIGN_OFF = {
    "admin_user": 200,
    "supervisor": 200,
    "worker": 403,
    "colleague": 404,
    "volunteer": 404,
    "other_volunteer": 404,
    "facility_staff": 404,
    "outsider_supervisor": 404,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_sign_off(request, world, as_user, who):
    api = as_user(request.getfixturevalue(who))
    r = api.post(f"/api/v1/reviews/{world['a']['reviews']}/sign-off/")
    assert r.status_code == SIGN_OFF[who], (who, r.content)


# persona → status of closing client_a's case; of reading its social protection.
CLOSE = {
    "admin_user": (201, 200),
    "supervisor": (201, 200),
    "worker": (201, 200),
    "colleague": (404, 404),
    "volunteer": (403, 403),
    "other_volunteer": (404, 404),
    "facility_staff": (404, 404),
    "outsider_supervisor": (404, 404),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_close_and_social_protection(request, world, as_user, who, client_a):
    api = as_user(request.getfixturevalue(who))
    close, read = CLOSE[who]
    r = api.post(
        f"/api/v1/clients/{client_a.pk}/close/",
        {"reason": "goals_met", "closed_on": _today(client_a.site).isoformat()},
        format="json",
    )
    assert r.status_code == close, (who, r.content)
    assert api.get(f"/api/v1/clients/{client_a.pk}/social-protection/").status_code == read, who
    assert api.get(f"/api/v1/closures/?client={client_a.pk}").json()["count"] == (1 if close == 201 else 0), who
