"""Every persona × the empowerment endpoints: programmes of site A (group A1) and site B.
The expected answers are written out here as the contract, not read from the policy."""

import datetime

import pytest

from cases.models import AccessLog
from empowerment.models import Enrolment, Programme, ProgrammeSession

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
PROGRAMME_FIELDS = {"id", "site", "kind", "name", "start_date", "end_date", "facilitator", "partner", "support_group"}
SESSION_FIELDS = {"id", "programme", "date", "topic", "attendees", "others"}
ENROLMENT_FIELDS = {
    "id",
    "programme",
    "client",
    "enrolled_on",
    "outcome",
    "outcome_on",
    "business_started",
    "income_before",
    "income_after",
    "employed",
    "version",
}


@pytest.fixture
def world(
    client_a, client_b, colleague, other_volunteer, facility_staff, admin_user, session_a, enrolment_b, programme_b
):
    return {"programme_a": session_a.programme, "session_a": session_a, "programme_b": programme_b}


def persona(request, name):
    return request.getfixturevalue(name)


PROGRAMME_LIST = {
    "admin_user": {"a", "b"},
    "supervisor": {"a"},
    "worker": {"a"},
    "colleague": {"a"},
    "volunteer": {"a"},
    "other_volunteer": set(),
    "facility_staff": set(),
    "outsider_supervisor": {"b"},
}


@pytest.mark.parametrize("who", PERSONAS)
def test_programme_list_and_detail(request, world, as_user, who):
    api = as_user(persona(request, who))
    r = api.get("/api/v1/programmes/")
    assert r.status_code == 200
    names = {row["name"] for row in r.json()["results"]}
    expected = {world[f"programme_{k}"].name for k in PROGRAMME_LIST[who]}
    assert names == expected
    for row in r.json()["results"]:
        assert set(row) == PROGRAMME_FIELDS
    detail = api.get(f"/api/v1/programmes/{world['programme_a'].pk}/")
    assert detail.status_code == (200 if "a" in PROGRAMME_LIST[who] else 404), who


PROGRAMME_PATCH = {
    "admin_user": 200,
    "supervisor": 200,
    "worker": 200,
    "colleague": 200,
    "volunteer": 403,  # sees its group's programme, records sessions, does not change it
    "other_volunteer": 404,
    "facility_staff": 404,
    "outsider_supervisor": 404,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_programme_patch(request, world, as_user, who):
    programme = world["programme_a"]
    r = as_user(persona(request, who)).patch(
        f"/api/v1/programmes/{programme.pk}/", {"partner": f"Mitra {who}"}, format="json"
    )
    assert r.status_code == PROGRAMME_PATCH[who], (who, r.content)
    programme.refresh_from_db()
    assert (programme.partner == f"Mitra {who}") == (r.status_code == 200)


PROGRAMME_CREATE = {
    # persona: status at their own site (default), status naming site A explicitly
    "admin_user": (400, 201),  # no site of their own: must name one
    "supervisor": (201, 201),
    "worker": (201, 201),
    "colleague": (201, 201),
    "volunteer": (403, 403),
    "other_volunteer": (403, 403),
    "facility_staff": (403, 403),
    "outsider_supervisor": (201, 400),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_programme_create(request, world, as_user, site_a, who):
    api = as_user(persona(request, who))
    body = {"kind": "skills", "name": "Pelatihan barista", "start_date": "2026-11-01", "partner": "Kopi Gamalama"}
    own, at_a = PROGRAMME_CREATE[who]
    r = api.post("/api/v1/programmes/", body, format="json")
    assert r.status_code == own, (who, r.content)
    r = api.post("/api/v1/programmes/", {**body, "site": site_a.pk}, format="json")
    assert r.status_code == at_a, (who, r.content)
    if at_a == 400:
        assert "site" in r.json()


def test_facilitator_and_group_come_from_the_programmes_site(world, as_user, supervisor, outsider_worker, group_b1):
    api = as_user(supervisor)
    body = {"kind": "skills", "name": "Menjahit", "start_date": "2026-11-01"}
    r = api.post("/api/v1/programmes/", {**body, "facilitator": outsider_worker.pk}, format="json")
    assert r.status_code == 400 and "facilitator" in r.json()
    r = api.post("/api/v1/programmes/", {**body, "support_group": group_b1.pk}, format="json")
    assert r.status_code == 400 and "support_group" in r.json()
    r = api.post("/api/v1/programmes/", {**body, "end_date": "2026-10-01"}, format="json")
    assert r.status_code == 400 and "end_date" in r.json()
    assert not Programme.objects.filter(name="Menjahit").exists()


SESSION_DETAIL = {
    # persona: status, attendees shown (client keys)
    "admin_user": (200, {"a"}),
    "supervisor": (200, {"a"}),
    "worker": (200, {"a"}),
    "colleague": (200, set()),  # the site's session, but client_a is not in their reach
    "volunteer": (200, {"a"}),
    "other_volunteer": (404, None),
    "facility_staff": (404, None),
    "outsider_supervisor": (404, None),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_session_detail_shows_only_attendees_in_reach(request, world, as_user, client_a, who):
    r = as_user(persona(request, who)).get(f"/api/v1/sessions/{world['session_a'].pk}/")
    status, attendees = SESSION_DETAIL[who]
    assert r.status_code == status, who
    if status == 200:
        body = r.json()
        assert set(body) == SESSION_FIELDS
        assert set(body["attendees"]) == ({client_a.pk} if attendees else set())
        assert body["others"] == {"family": 2, "community": 0, "health_workers": 1}


SESSION_CREATE = {
    "admin_user": 201,
    "supervisor": 201,
    "worker": 201,
    "colleague": 201,
    "volunteer": 201,  # their group's programme
    "other_volunteer": 400,  # not their group's: the programme is not one they can name
    "facility_staff": 403,
    "outsider_supervisor": 400,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_session_create(request, world, as_user, who):
    programme = world["programme_a"]
    body = {
        "programme": programme.pk,
        "date": str(programme.start_date + datetime.timedelta(days=1)),
        "topic": "Pemasaran",
        "others": {"family": 1, "community": 3},
    }
    r = as_user(persona(request, who)).post("/api/v1/sessions/", body, format="json")
    assert r.status_code == SESSION_CREATE[who], (who, r.content)
    if r.status_code == 400:
        assert "programme" in r.json()
    made = ProgrammeSession.objects.filter(topic="Pemasaran")
    assert made.exists() == (r.status_code == 201)
    if r.status_code == 201:
        assert made.get().others == {"family": 1, "community": 3, "health_workers": 0}


ENROLMENT_LIST = {
    "admin_user": {"a", "b"},
    "supervisor": {"a"},
    "worker": {"a"},
    "colleague": set(),
    "volunteer": {"a"},
    "other_volunteer": set(),
    "facility_staff": set(),
    "outsider_supervisor": {"b"},
}


@pytest.mark.parametrize("who", PERSONAS)
def test_enrolment_list_is_scoped_to_clients_in_reach_and_logged(request, world, as_user, client_a, client_b, who):
    user = persona(request, who)
    r = as_user(user).get("/api/v1/enrolments/")
    assert r.status_code == 200
    clients = {row["client"] for row in r.json()["results"]}
    expected = {c.pk for k, c in (("a", client_a), ("b", client_b)) if k in ENROLMENT_LIST[who]}
    assert clients == expected
    for row in r.json()["results"]:
        assert set(row) == ENROLMENT_FIELDS
    logged = set(
        AccessLog.objects.filter(user=user, object_type="cases.client.enrolment").values_list("client_id", flat=True)
    )
    assert logged == expected


ENROLMENT_CREATE = {
    "admin_user": 201,
    "supervisor": 201,
    "worker": 201,
    "colleague": 400,  # client_a is not theirs to enrol
    "volunteer": 403,
    "other_volunteer": 403,
    "facility_staff": 403,
    "outsider_supervisor": 400,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_enrolment_create(request, world, as_user, client_a, who):
    programme = world["programme_a"]
    Enrolment.objects.filter(client=client_a).delete()
    body = {"programme": programme.pk, "client": client_a.pk, "enrolled_on": str(programme.start_date)}
    r = as_user(persona(request, who)).post("/api/v1/enrolments/", body, format="json")
    assert r.status_code == ENROLMENT_CREATE[who], (who, r.content)
    assert Enrolment.objects.filter(client=client_a).exists() == (r.status_code == 201)


ENROLMENT_PATCH = {
    "admin_user": 200,
    "supervisor": 200,
    "worker": 200,
    "colleague": 404,
    "volunteer": 403,
    "other_volunteer": 404,
    "facility_staff": 404,
    "outsider_supervisor": 404,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_enrolment_outcome(request, world, as_user, client_a, who):
    enrolment = Enrolment.objects.get(client=client_a)
    day = str(enrolment.enrolled_on + datetime.timedelta(days=30))
    r = as_user(persona(request, who)).patch(
        f"/api/v1/enrolments/{enrolment.pk}/",
        {"outcome": "completed", "outcome_on": day, "business_started": True, "income_after": "500k-1M"},
        format="json",
    )
    assert r.status_code == ENROLMENT_PATCH[who], (who, r.content)
    enrolment.refresh_from_db()
    assert (enrolment.outcome == "completed") == (r.status_code == 200)
