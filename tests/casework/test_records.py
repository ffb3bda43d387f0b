"""The cycle through its services and API: what is recorded, what is refused, and the
access log of each write."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from cases.exceptions import Conflict
from cases.models import AccessAction, AccessLog, ClientStatus
from cases.security.crypto import decrypt
from casework import services
from casework.models import ActionStatus, Assessment, ClientClosure, Plan, SocialProtection

from .conftest import scores, site_today

pytestmark = pytest.mark.django_db


def test_first_assessment_is_initial_and_later_ones_review(assessment_a, reassessment_a):
    assert assessment_a.kind == "initial"
    assert reassessment_a.kind == "review"
    assert assessment_a.scores["arv_adherence"] == 1
    assert reassessment_a.scores["economic"] == 3


def test_assessment_api_needs_every_domain_scored_1_to_4(as_user, worker, client_a):
    api = as_user(worker)
    today = site_today(client_a.site).isoformat()
    missing = {k: v for k, v in scores().items() if k != "legal"}
    r = api.post(
        "/api/v1/assessments/", {"client": client_a.pk, "assessed_on": today, "scores": missing}, format="json"
    )
    assert r.status_code == 400 and "scores" in r.json()
    r = api.post(
        "/api/v1/assessments/",
        {"client": client_a.pk, "assessed_on": today, "scores": scores(legal=5)},
        format="json",
    )
    assert r.status_code == 400 and "scores" in r.json()
    r = api.post(
        "/api/v1/assessments/",
        {"client": client_a.pk, "assessed_on": today, "scores": scores(legal=4), "notes": {"legal": "Aman"}},
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "initial" and body["assessor"] == worker.pk
    assert body["scores"]["legal"] == 4 and body["notes"]["legal"] == "Aman"
    entry = AccessLog.objects.get(action=AccessAction.CREATE, object_type="casework.assessment")
    assert entry.client_id == client_a.pk and entry.user_id == worker.pk


def test_assessment_date_cannot_be_in_the_future(worker, client_a):
    with pytest.raises(ValidationError) as error:
        services.assessment_record(
            actor=worker,
            client=client_a,
            assessed_on=site_today(client_a.site) + datetime.timedelta(days=1),
            scores=scores(),
        )
    assert "assessed_on" in error.value.message_dict


def test_plan_goals_actions_through_the_api(as_user, worker, volunteer, client_a, assessment_a):
    api = as_user(worker)
    r = api.post("/api/v1/plans/", {"client": client_a.pk}, format="json")
    assert r.status_code == 201, r.content
    plan = r.json()["id"]
    assert api.post("/api/v1/plans/", {"client": client_a.pk}, format="json").status_code == 400
    r = api.post(
        "/api/v1/goals/", {"plan": plan, "domain": "economic", "description": "Punya penghasilan"}, format="json"
    )
    assert r.status_code == 201, r.content
    goal = r.json()["id"]
    due = (site_today(client_a.site) + datetime.timedelta(days=14)).isoformat()
    r = api.post(
        "/api/v1/actions/",
        {"goal": goal, "description": "Daftar KUBE", "owner": volunteer.pk, "due_date": due},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "open" and r.json()["client"] == client_a.pk
    r = api.get(f"/api/v1/plans/{plan}/")
    assert r.status_code == 200
    [goal_row] = r.json()["goals"]
    assert goal_row["actions"][0]["description"] == "Daftar KUBE"
    # A goal stays in its plan: its plan sent back unchanged is let through, another refused.
    r = api.patch(f"/api/v1/goals/{goal}/", {"plan": plan, "description": "Punya usaha"}, format="json")
    assert r.status_code == 200 and r.json()["description"] == "Punya usaha"
    r = api.patch(f"/api/v1/goals/{goal}/", {"plan": plan + 1}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["plan"]


def test_action_owner_must_reach_the_client(worker, other_volunteer, facility_staff, goal_a):
    for owner in (other_volunteer, facility_staff):
        with pytest.raises(ValidationError) as error:
            services.action_create(
                actor=worker, goal=goal_a, description="x", owner=owner, due_date=site_today(goal_a.client.site)
            )
        assert "owner" in error.value.message_dict


def test_volunteer_ticks_own_action_done_but_changes_nothing_else(as_user, volunteer, action_a):
    api = as_user(volunteer)
    r = api.patch(f"/api/v1/actions/{action_a.pk}/", {"description": "Lain"}, format="json")
    assert r.status_code == 400 and "description" in r.json()
    r = api.patch(f"/api/v1/actions/{action_a.pk}/", {"status": "done"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "done"
    assert r.json()["done_on"] == site_today(action_a.client.site).isoformat()
    action_a.refresh_from_db()
    assert action_a.status == ActionStatus.DONE and action_a.version == 2
    assert api.post("/api/v1/goals/", {}, format="json").status_code == 403


def test_action_links_to_records_of_the_same_client_only(worker, goal_a, client_b, outsider_worker):
    from outreach import services as outreach_services

    other = outreach_services.service_record(
        actor=outsider_worker, client=client_b, service="counselling", date=site_today(client_b.site)
    )
    with pytest.raises(ValidationError) as error:
        services.action_create(
            actor=worker,
            goal=goal_a,
            description="Konseling",
            owner=worker,
            due_date=site_today(goal_a.client.site),
            service_record=other,
        )
    assert "service_record" in error.value.message_dict


def test_review_needs_a_reassessment_and_is_signed_off_once(
    as_user, worker, supervisor, outsider_supervisor, assessment_a, reassessment_a, client_a
):
    api = as_user(worker)
    r = api.post("/api/v1/reviews/", {"client": client_a.pk, "assessment": assessment_a.pk, "note": "x"}, format="json")
    assert r.status_code == 400 and "assessment" in r.json()
    r = api.post(
        "/api/v1/reviews/",
        {"client": client_a.pk, "assessment": reassessment_a.pk, "note": "Membaik"},
        format="json",
    )
    assert r.status_code == 201, r.content
    review = r.json()["id"]
    assert r.json()["signed_off_by"] is None
    assert api.post(f"/api/v1/reviews/{review}/sign-off/").status_code == 403
    assert as_user(outsider_supervisor).post(f"/api/v1/reviews/{review}/sign-off/").status_code == 404
    r = as_user(supervisor).post(f"/api/v1/reviews/{review}/sign-off/")
    assert r.status_code == 200 and r.json()["signed_off_by"] == supervisor.pk
    assert as_user(supervisor).post(f"/api/v1/reviews/{review}/sign-off/").status_code == 409
    queue = as_user(supervisor).get("/api/v1/reviews/?awaiting_sign_off=true").json()
    assert queue["count"] == 0


def test_close_deceased_dates_the_status_ends_the_plan_and_reopen_keeps_history(as_user, worker, client_a, plan_a):
    api = as_user(worker)
    day = site_today(client_a.site) - datetime.timedelta(days=2)
    r = api.post(
        f"/api/v1/clients/{client_a.pk}/close/",
        {"reason": "deceased", "closed_on": day.isoformat(), "note": "Meninggal di RS"},
        format="json",
    )
    assert r.status_code == 201, r.content
    client_a.refresh_from_db()
    assert (client_a.closed_on, client_a.closure_reason, client_a.status) == (day, "deceased", ClientStatus.DECEASED)
    assert client_a.status_events.get().effective_date == day
    assert Plan.objects.get(pk=plan_a.pk).ended_on == day
    again = api.post(f"/api/v1/clients/{client_a.pk}/close/", {"reason": "other", "closed_on": day.isoformat()})
    assert again.status_code == 409
    # Nothing new is recorded on a closed case.
    with pytest.raises(ValidationError):
        services.assessment_record(actor=worker, client=client_a, assessed_on=day, scores=scores())
    assert api.post(f"/api/v1/clients/{client_a.pk}/reopen/", {"note": ""}, format="json").status_code == 400
    r = api.post(f"/api/v1/clients/{client_a.pk}/reopen/", {"note": "Salah catat"}, format="json")
    assert r.status_code == 200, r.content
    client_a.refresh_from_db()
    assert client_a.closed_on is None and client_a.closure_reason == ""
    closure = ClientClosure.objects.get(client=client_a)
    assert closure.reason == "deceased" and closure.reopen_note == "Salah catat" and closure.reopened_by == worker
    assert api.get(f"/api/v1/closures/?client={client_a.pk}").json()["count"] == 1
    assert api.post(f"/api/v1/clients/{client_a.pk}/reopen/", {"note": "x"}, format="json").status_code == 409
    logged = set(
        AccessLog.objects.filter(client_id=client_a.pk, action=AccessAction.UPDATE).values_list(
            "object_type", flat=True
        )
    )
    assert {"cases.client", "casework.clientclosure", "casework.plan"} <= logged


def test_close_moved_dates_transferred_out(worker, client_a):
    day = site_today(client_a.site)
    services.client_close(actor=worker, client=client_a, reason="moved", closed_on=day, note="Pindah ke Manado")
    client_a.refresh_from_db()
    assert client_a.status == ClientStatus.TRANSFERRED_OUT
    with pytest.raises(Conflict):
        services.client_close(actor=worker, client=client_a, reason="goals_met", closed_on=day)


def test_social_protection_bpjs_number_is_encrypted(as_user, worker, volunteer, client_a):
    api = as_user(worker)
    url = f"/api/v1/clients/{client_a.pk}/social-protection/"
    assert api.get(url).json()["version"] == 0
    r = api.put(url, {"bpjs_membership": "pbi", "bpjs_number": "123"}, format="json")
    assert r.status_code == 400 and "bpjs_number" in r.json()
    r = api.put(
        url,
        {"bpjs_membership": "pbi", "bpjs_number": "0001234567890", "has_ktp": True, "pkh_since": "2026-02-01"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["bpjs_number"] == "0001234567890" and r.json()["version"] == 1
    stored = SocialProtection.objects.filter(client=client_a).values_list("bpjs_number", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT bpjs_number FROM casework_socialprotection")
        [(raw,)] = cursor.fetchall()
    assert raw != "0001234567890" and decrypt(raw) == "0001234567890" == stored[0]
    r = api.patch(url, {"version": 0, "has_kk": True}, format="json")
    assert r.status_code == 409
    # Volunteers see nothing of it; facility staff neither.
    assert as_user(volunteer).get(url).status_code == 403


def test_assessment_list_logs_each_client_read(
    as_user, supervisor, assessment_a, reassessment_a, django_assert_max_num_queries
):
    api = as_user(supervisor)
    before = AccessLog.objects.filter(action=AccessAction.READ).count()
    # session/user, count, page, the one INSERT of the reads
    with django_assert_max_num_queries(4):
        r = api.get("/api/v1/assessments/")
    assert r.json()["count"] == 2
    assert AccessLog.objects.filter(action=AccessAction.READ).count() == before + 2
    assert Assessment.objects.count() == 2


def test_plan_list_query_budget(as_user, supervisor, action_a, django_assert_max_num_queries):
    api = as_user(supervisor)
    # count, page, goals, actions, the reads' INSERT
    with django_assert_max_num_queries(6):
        r = api.get("/api/v1/plans/")
    assert r.json()["results"][0]["goals"][0]["actions"][0]["id"] == action_a.pk


@pytest.mark.parametrize(
    "path", ["assessment", "plan", "goal", "action", "review", "clientclosure", "socialprotection"]
)
def test_admin_lists_are_read_only(client, admin_user, action_a, review_a, path):
    from tests.factories import PASSWORD

    assert client.login(username=admin_user.username, password=PASSWORD)
    r = client.get(f"/admin/casework/{path}/")
    assert r.status_code == 200
    assert b'value="delete_selected"' not in r.content
    assert client.get(f"/admin/casework/{path}/add/").status_code == 403


def test_client_shows_its_closure_and_refuses_writing_it(as_user, supervisor, worker, client_a):
    api = as_user(supervisor)
    day = site_today(client_a.site)
    services.client_close(actor=worker, client=client_a, reason="refused", closed_on=day)
    body = api.get(f"/api/v1/clients/{client_a.pk}/").json()
    assert (body["closed_on"], body["closure_reason"]) == (day.isoformat(), "refused")
    r = api.patch(f"/api/v1/clients/{client_a.pk}/", {"closed_on": None, "version": body["version"]}, format="json")
    assert r.status_code == 400 and "close/" in str(r.json()["closed_on"])
