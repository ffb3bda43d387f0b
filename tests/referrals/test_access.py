"""Who reaches which referral (SPEC §7): every persona × list / detail / create / send / accept."""

import pytest

from referrals.models import ReferralStatus

URL = "/api/v1/referrals/"

SENDER_FIELDS = {
    "id",
    "client",
    "client_summary",
    "to_facility",
    "service",
    "reason",
    "urgency",
    "due_date",
    "status",
    "from_user",
    "from_group",
    "overdue",
    "outcome",
    "sent_at",
    "accepted_at",
    "closed_at",
    "created_at",
    "version",
    "events",
    "facility_link",
}
FACILITY_FIELDS = {
    "id",
    "client_summary",
    "to_facility",
    "service",
    "reason",
    "urgency",
    "due_date",
    "status",
    "overdue",
    "outcome",
    "sent_at",
    "accepted_at",
    "closed_at",
    "events",
}
CLIENT_SUMMARY_FIELDS = {"code", "nickname", "sex", "age"}

# persona: (sees client_a's referral to facility_a, may create/send for client_a, may accept)
MATRIX = {
    "admin_user": (True, True, True),
    "supervisor": (True, True, False),
    "worker": (True, True, False),
    "colleague": (False, False, False),
    "volunteer": (True, True, False),
    "other_volunteer": (False, False, False),
    "facility_staff": (True, False, True),
    "facility_c_staff": (False, False, False),
    "outsider_supervisor": (False, False, False),
}


@pytest.fixture
def world(sent_referral, client_b, colleague, other_volunteer, facility_c_staff, admin_user, outsider_supervisor):
    return sent_referral


@pytest.mark.parametrize("name", MATRIX)
def test_list_and_detail(request, as_user, world, name):
    sees, _, _ = MATRIX[name]
    api = as_user(request.getfixturevalue(name))
    listed = api.get(URL)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.data["results"]] == ([world.pk] if sees else [])
    detail = api.get(f"{URL}{world.pk}/")
    assert detail.status_code == (200 if sees else 404)
    if sees:
        expected = FACILITY_FIELDS if name == "facility_staff" else SENDER_FIELDS
        assert set(detail.data) == expected
        assert set(detail.data["client_summary"]) == CLIENT_SUMMARY_FIELDS
        assert detail.data["client_summary"]["code"] == world.client.code


@pytest.mark.parametrize("name", MATRIX)
def test_create(request, as_user, world, centre, name):
    _, may_send, _ = MATRIX[name]
    user = request.getfixturevalue(name)
    body = {"client": world.client_id, "to_facility": centre.pk, "service": "counselling", "reason": "Family"}
    response = as_user(user).post(URL, body, format="json")
    if may_send:
        assert response.status_code == 201, response.data
        assert response.data["from_user"] == user.pk
    elif name in ("facility_staff", "facility_c_staff"):
        assert response.status_code == 403
    else:
        # Out of reach: the client id is "not found" like any other.
        assert response.status_code == 400
        assert "client" in response.data


def test_volunteer_refers_from_their_group(as_user, volunteer, group_a1, client_a, centre):
    body = {"client": client_a.pk, "to_facility": centre.pk, "service": "counselling", "reason": "Stigma at home"}
    response = as_user(volunteer).post(URL, body, format="json")
    assert response.status_code == 201
    assert response.data["from_group"] == group_a1.pk


@pytest.mark.parametrize("name", MATRIX)
def test_send(request, as_user, world, make_referral, sharing_client_a, facility_a, name):
    sees, may_send, _ = MATRIX[name]
    draft = make_referral(client=sharing_client_a, facility=facility_a)
    response = as_user(request.getfixturevalue(name)).post(f"{URL}{draft.pk}/send/", {}, format="json")
    if may_send:
        assert response.status_code == 200
    elif name == "facility_staff":
        assert response.status_code == 404  # a draft is not granted to the facility
    else:
        assert response.status_code == (403 if sees else 404)
    draft.refresh_from_db()
    assert draft.status == (ReferralStatus.SENT if may_send else ReferralStatus.DRAFT)


@pytest.mark.parametrize("name", MATRIX)
def test_accept(request, as_user, world, name):
    sees, _, may_accept = MATRIX[name]
    response = as_user(request.getfixturevalue(name)).post(f"{URL}{world.pk}/accept/", {}, format="json")
    if may_accept:
        assert response.status_code == 200
    else:
        assert response.status_code == (403 if sees else 404)
    world.refresh_from_db()
    assert world.status == (ReferralStatus.ACCEPTED if may_accept else ReferralStatus.SENT)


def test_facility_staff_isolation(
    as_user,
    facility_staff,
    facility_c_staff,
    make_referral,
    sharing_client_a,
    client_a,
    facility_a,
    facility_c,
    client_b,
):
    ours = make_referral(client=sharing_client_a, facility=facility_a, status=ReferralStatus.SENT)
    theirs = make_referral(client=sharing_client_a, facility=facility_c, status=ReferralStatus.SENT)
    draft_to_us = make_referral(client=sharing_client_a, facility=facility_a)
    clinic = as_user(facility_staff)
    assert [r["id"] for r in clinic.get(URL).data["results"]] == [ours.pk]
    for other in (theirs, draft_to_us):
        assert clinic.get(f"{URL}{other.pk}/").status_code == 404
        assert clinic.post(f"{URL}{other.pk}/accept/", {}, format="json").status_code == 404
    # Every client detail stays out of reach, the referred client's too.
    for client in (client_a, client_b):
        assert clinic.get(f"/api/v1/clients/{client.pk}/").status_code == 404
    assert clinic.get("/api/v1/clients/").data["results"] == []
    assert [r["id"] for r in as_user(facility_c_staff).get(URL).data["results"]] == [theirs.pk]


def test_moved_staff_lose_the_old_facility_at_once(as_user, facility_staff, sent_referral, facility_c):
    facility_staff.facility = facility_c
    facility_staff.save()
    assert as_user(facility_staff).get(f"{URL}{sent_referral.pk}/").status_code == 404


def test_withdrawn_consent_ends_volunteer_access(as_user, volunteer, sent_referral):
    sent_referral.client.__class__.objects.filter(pk=sent_referral.client_id).update(consent_withdrawn_on="2026-02-01")
    assert as_user(volunteer).get(f"{URL}{sent_referral.pk}/").status_code == 404


def test_inbox_and_outbox(
    as_user, worker, supervisor, facility_staff, make_referral, sharing_client_a, facility_a, centre
):
    mine = make_referral(client=sharing_client_a, facility=facility_a, status=ReferralStatus.SENT)
    by_supervisor = make_referral(client=sharing_client_a, facility=centre, actor=supervisor, service="counselling")
    ids = lambda api, q: {r["id"] for r in api.get(f"{URL}?{q}").data["results"]}  # noqa: E731
    assert ids(as_user(worker), "box=outbox") == {mine.pk}
    assert ids(as_user(supervisor), "box=outbox") == {by_supervisor.pk}
    assert ids(as_user(facility_staff), "box=inbox") == {mine.pk}
    assert ids(as_user(worker), "box=inbox") == set()
    assert ids(as_user(supervisor), f"to_facility={centre.pk}") == {by_supervisor.pk}
    assert ids(as_user(supervisor), "status=draft&service=counselling") == {by_supervisor.pk}
    assert ids(as_user(supervisor), f"client={sharing_client_a.pk}&overdue=false") == {mine.pk, by_supervisor.pk}


def test_anonymous_is_refused(api, sent_referral):
    assert api.get(URL).status_code in (401, 403)
    assert api.get(f"/referrals/{sent_referral.pk}/slip/").status_code == 302
