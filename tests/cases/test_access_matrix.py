"""Every role × every endpoint of the registry × own / other group / other site objects.

The expected field sets are written out here, as the contract of SPEC §7/§8.1, rather than
imported from the policy module they check.
"""

import datetime

import pytest

FULL_CLIENT_FIELDS = {
    "id",
    "code",
    "site",
    "full_name",
    "nickname",
    "sex",
    "date_of_birth",
    "phone",
    "address",
    "nik",
    "hiv_diagnosis_date",
    "art_start_date",
    "art_facility",
    "regimen",
    "status",
    "consent_date",
    "consent_sms",
    "consent_share",
    "consent_withdrawn_on",
    "family_disclosure",
    "pregnant",
    "assigned_social_worker",
    "companion",
    "support_groups",
    "possible_duplicate",
    "closed_on",
    "closure_reason",
    "version",
    "next_refill_due",
    "days_late",
    "arv_state",
    "last_visit_date",
    "open_referrals",
}
# The duplicate flag is for supervisors and admins (SPEC §12.5): no oracle for anyone else.
WORKER_CLIENT_FIELDS = FULL_CLIENT_FIELDS - {"possible_duplicate"}
VOLUNTEER_CLIENT_FIELDS = FULL_CLIENT_FIELDS - {"nik", "address", "possible_duplicate"}
# One client also shows the history of its status (SPEC §12.7); list rows do not.
FULL_CLIENT_DETAIL = FULL_CLIENT_FIELDS | {"status_history"}
WORKER_CLIENT_DETAIL = WORKER_CLIENT_FIELDS | {"status_history"}
VOLUNTEER_CLIENT_DETAIL = VOLUNTEER_CLIENT_FIELDS | {"status_history"}
USER_FIELDS = {
    "id",
    "username",
    "role",
    "site",
    "support_groups",
    "facility",
    "first_name",
    "last_name",
    "email",
    "phone",
    "is_active",
}
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


@pytest.fixture
def world(request, client_a, client_b, colleague, other_volunteer, facility_staff, admin_user):
    """Every persona and both clients exist before any request is made."""
    return {"a": client_a, "b": client_b}


def persona(request, name):
    return request.getfixturevalue(name)


# --- clients ---------------------------------------------------------------------------------

CLIENT_DETAIL = {
    # persona: (client_a status, fields), (client_b status, fields)
    "admin_user": ((200, FULL_CLIENT_DETAIL), (200, FULL_CLIENT_DETAIL)),
    "supervisor": ((200, FULL_CLIENT_DETAIL), (404, None)),
    "worker": ((200, WORKER_CLIENT_DETAIL), (404, None)),
    "colleague": ((404, None), (404, None)),
    "volunteer": ((200, VOLUNTEER_CLIENT_DETAIL), (404, None)),
    "other_volunteer": ((404, None), (404, None)),
    "facility_staff": ((404, None), (404, None)),
    "outsider_supervisor": ((404, None), (200, FULL_CLIENT_DETAIL)),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_client_detail_status_and_fields(request, world, as_user, who):
    api = as_user(persona(request, who))
    for key, (status, fields) in zip("ab", CLIENT_DETAIL[who], strict=False):
        r = api.get(f"/api/v1/clients/{world[key].pk}/")
        assert r.status_code == status, (who, key, r.content)
        if fields is not None:
            assert set(r.json()) == fields, (who, key)


def test_not_found_is_the_same_for_missing_and_out_of_reach(world, as_user, colleague):
    api = as_user(colleague)
    hidden = api.get(f"/api/v1/clients/{world['a'].pk}/")
    missing = api.get("/api/v1/clients/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


CLIENT_LIST = {
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
def test_client_list_scope_and_fields(request, world, as_user, who):
    r = as_user(persona(request, who)).get("/api/v1/clients/")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    codes = {row["code"] for row in body["results"]}
    assert codes == {world[k].code for k in CLIENT_LIST[who]}
    expected_fields = {"volunteer": VOLUNTEER_CLIENT_FIELDS, "worker": WORKER_CLIENT_FIELDS}.get(
        who, FULL_CLIENT_FIELDS
    )
    for row in body["results"]:
        assert set(row) == expected_fields


CLIENT_PATCH = {
    # persona: status on client_a, status on client_b
    "admin_user": (200, 200),
    "supervisor": (200, 404),
    "worker": (200, 404),
    "colleague": (404, 404),
    "volunteer": (200, 404),
    "other_volunteer": (404, 404),
    "facility_staff": (404, 404),
    "outsider_supervisor": (404, 200),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_client_patch(request, world, as_user, who):
    api = as_user(persona(request, who))
    for key, status in zip("ab", CLIENT_PATCH[who], strict=False):
        client = world[key]
        r = api.patch(f"/api/v1/clients/{client.pk}/", {"nickname": f"Nama {who}"}, format="json")
        assert r.status_code == status, (who, key, r.content)
        client.refresh_from_db()
        assert (client.nickname == f"Nama {who}") == (status == 200)


def test_volunteer_changes_only_contact_fields(world, as_user, volunteer):
    client = world["a"]
    api = as_user(volunteer)
    r = api.patch(
        f"/api/v1/clients/{client.pk}/",
        {"phone": "+6281299990000", "regimen": "XYZ", "status": "deceased", "full_name": "Lain"},
        format="json",
    )
    # Fields they may not write are refused by name, and nothing is applied.
    assert r.status_code == 400 and set(r.json()) == {"regimen", "status", "full_name"}, r.content
    client.refresh_from_db()
    assert (client.phone, client.regimen, client.status, client.full_name) == (
        "+6281240000001",
        "",
        "active",
        "Siti Rahmawati",
    )
    r = api.patch(f"/api/v1/clients/{client.pk}/", {"phone": "+6281299990000"}, format="json")
    assert r.status_code == 200, r.content
    client.refresh_from_db()
    assert client.phone == "+6281299990000"
    # The status changes through its action only, for everyone (SPEC §12.1).
    r = api.patch(f"/api/v1/clients/{client.pk}/", {"status": "deceased"}, format="json")
    assert r.status_code == 400 and "status/" in r.json()["status"][0]


def test_social_worker_cannot_reassign(world, as_user, worker, colleague):
    client = world["a"]
    r = as_user(worker).patch(f"/api/v1/clients/{client.pk}/", {"assigned_social_worker": colleague.pk}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["assigned_social_worker"]
    assert "supervisor" in r.json()["assigned_social_worker"][0]
    client.refresh_from_db()
    assert client.assigned_social_worker == worker


def _new_client_payload(**extra):
    payload = {
        "full_name": "Yohanis Tomagola",
        "sex": "M",
        "date_of_birth": "1988-03-02",
        "consent_date": "2026-02-01",
    }
    payload.update(extra)
    return payload


CLIENT_CREATE = {
    # persona: (status at own site, status at site B given explicitly)
    "admin_user": (201, 201),
    "supervisor": (201, 400),
    "worker": (201, 400),
    "colleague": (201, 400),
    "volunteer": (201, 400),
    "other_volunteer": (201, 400),
    "facility_staff": (403, 403),
    "outsider_supervisor": (201, 201),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_client_create(request, world, as_user, site_a, site_b, group_a1, group_a2, who):
    user = persona(request, who)
    api = as_user(user)
    own_site = user.site or site_a
    groups = [g.pk for g in user.support_groups] if who.endswith("volunteer") else []
    for site, status in zip((own_site, site_b), CLIENT_CREATE[who], strict=False):
        r = api.post("/api/v1/clients/", _new_client_payload(site=site.pk, support_groups=groups), format="json")
        assert r.status_code == status, (who, site.code, r.content)
        if status == 201:
            assert r.json()["code"].startswith(f"{site.code}-")
        if status == 400:
            assert "site" in r.json() or "support_groups" in r.json()


def test_created_client_stays_in_creators_reach(as_user, worker, volunteer, group_a1):
    r = as_user(worker).post("/api/v1/clients/", _new_client_payload(), format="json")
    assert r.status_code == 201, r.content
    assert r.json()["assigned_social_worker"] == worker.pk
    assert as_user(worker).get(f"/api/v1/clients/{r.json()['id']}/").status_code == 200

    r = as_user(volunteer).post(
        "/api/v1/clients/", _new_client_payload(full_name="Fatma", support_groups=[group_a1.pk]), format="json"
    )
    assert r.status_code == 201, r.content
    assert as_user(volunteer).get(f"/api/v1/clients/{r.json()['id']}/").status_code == 200


def test_volunteer_must_register_in_own_group(as_user, volunteer, group_a2):
    api = as_user(volunteer)
    r = api.post("/api/v1/clients/", _new_client_payload(), format="json")
    assert r.status_code == 400 and "support_groups" in r.json()
    r = api.post("/api/v1/clients/", _new_client_payload(support_groups=[group_a2.pk]), format="json")
    assert r.status_code == 400 and "support_groups" in r.json()


SHARE = {
    # persona: status sharing client_a with colleague
    "admin_user": 201,
    "supervisor": 201,
    "worker": 403,
    "colleague": 404,
    "volunteer": 403,
    "other_volunteer": 404,
    "facility_staff": 404,
    "outsider_supervisor": 404,
}


@pytest.mark.parametrize("who", PERSONAS)
def test_client_share(request, world, as_user, colleague, who):
    r = as_user(persona(request, who)).post(
        f"/api/v1/clients/{world['a'].pk}/share/",
        {"user": colleague.pk, "until": str(datetime.date.today() + datetime.timedelta(days=30)), "can_edit": False},
        format="json",
    )
    assert r.status_code == SHARE[who], (who, r.content)


# --- organisation ------------------------------------------------------------------------------

SITES_VISIBLE = {
    "admin_user": {"TTE", "MKS"},
    "supervisor": {"TTE"},
    "worker": {"TTE"},
    "colleague": {"TTE"},
    "volunteer": {"TTE"},
    "other_volunteer": {"TTE"},
    "facility_staff": set(),
    "outsider_supervisor": {"MKS"},
}


@pytest.mark.parametrize("who", PERSONAS)
def test_sites(request, world, as_user, site_a, site_b, who):
    api = as_user(persona(request, who))
    r = api.get("/api/v1/sites/")
    assert r.status_code == 200
    assert {row["code"] for row in r.json()["results"]} == SITES_VISIBLE[who]
    for site in (site_a, site_b):
        expected = 200 if site.code in SITES_VISIBLE[who] else 404
        assert api.get(f"/api/v1/sites/{site.pk}/").status_code == expected
    r = api.post("/api/v1/sites/", {"name": "Sentra Baru", "code": "NEW", "timezone": "Asia/Jakarta"}, format="json")
    assert r.status_code == (201 if who == "admin_user" else 403)


GROUPS_VISIBLE = {
    "admin_user": {"KDS Sahabat", "LKS Harapan", "KDS Anging Mammiri"},
    "supervisor": {"KDS Sahabat", "LKS Harapan"},
    "worker": {"KDS Sahabat", "LKS Harapan"},
    "colleague": {"KDS Sahabat", "LKS Harapan"},
    "volunteer": {"KDS Sahabat"},
    "other_volunteer": {"LKS Harapan"},
    "facility_staff": set(),
    "outsider_supervisor": {"KDS Anging Mammiri"},
}


@pytest.mark.parametrize("who", PERSONAS)
def test_support_groups(request, world, as_user, group_a1, group_b1, site_a, who):
    api = as_user(persona(request, who))
    r = api.get("/api/v1/support-groups/")
    assert r.status_code == 200
    assert {row["name"] for row in r.json()["results"]} == GROUPS_VISIBLE[who]
    assert set(r.json()["results"][0]) == {"id", "site", "kind", "name", "coordinator"} if GROUPS_VISIBLE[who] else True
    for group in (group_a1, group_b1):
        expected = 200 if group.name in GROUPS_VISIBLE[who] else 404
        assert api.get(f"/api/v1/support-groups/{group.pk}/").status_code == expected
    r = api.post("/api/v1/support-groups/", {"site": site_a.pk, "kind": "LKS", "name": "LKS Baru"}, format="json")
    assert r.status_code == (201 if who == "admin_user" else 403), (who, r.content)


@pytest.mark.parametrize("who", PERSONAS)
def test_facilities(request, world, as_user, facility_a, site_b, who):
    from tests.factories import FacilityFactory

    facility_b = FacilityFactory(site=site_b, name="Puskesmas Makassar")
    provincial = FacilityFactory(site=None, name="RS Provinsi")
    api = as_user(persona(request, who))
    visible = {
        "admin_user": {facility_a, facility_b, provincial},
        "facility_staff": {facility_a},
        "outsider_supervisor": {facility_b, provincial},
    }.get(who, {facility_a, provincial})
    r = api.get("/api/v1/facilities/")
    assert r.status_code == 200
    assert {row["id"] for row in r.json()["results"]} == {f.pk for f in visible}
    for row in r.json()["results"]:
        assert set(row) == {"id", "name", "kind", "services", "site", "contact_phone", "address"}
    for facility in (facility_a, facility_b, provincial):
        expected = 200 if facility in visible else 404
        assert api.get(f"/api/v1/facilities/{facility.pk}/").status_code == expected
    r = api.patch(f"/api/v1/facilities/{facility_a.pk}/", {"name": "Klinik"}, format="json")
    assert r.status_code == (200 if who == "admin_user" else 404 if facility_a not in visible else 403)


# --- users -------------------------------------------------------------------------------------

USERS_VISIBLE = {
    "admin_user": {
        "admin",
        "supervisor_a",
        "worker_a",
        "colleague_a",
        "volunteer_a1",
        "volunteer_a2",
        "clinic_a",
        "supervisor_b",
        "worker_b",
    },
    "supervisor": {"supervisor_a", "worker_a", "colleague_a", "volunteer_a1", "volunteer_a2", "clinic_a"},
    "outsider_supervisor": {"supervisor_b", "worker_b"},
}


@pytest.mark.parametrize("who", PERSONAS)
def test_users_list_and_me(request, world, as_user, who):
    user = persona(request, who)
    api = as_user(user)
    r = api.get("/api/v1/users/")
    assert r.status_code == 200
    assert {row["username"] for row in r.json()["results"]} == USERS_VISIBLE.get(who, {user.username})
    for row in r.json()["results"]:
        assert set(row) == USER_FIELDS
    me = api.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert "password" not in me.json()


USER_CREATE = {
    # persona: (a volunteer of site A, a supervisor of site A)
    "admin_user": (201, 201),
    "supervisor": (201, 400),
    "worker": (403, 403),
    "colleague": (403, 403),
    "volunteer": (403, 403),
    "other_volunteer": (403, 403),
    "facility_staff": (403, 403),
    "outsider_supervisor": (400, 400),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_user_create(request, world, as_user, site_a, group_a1, who):
    api = as_user(persona(request, who))
    new_volunteer = {
        "username": f"baru_{who}",
        "password": "Pendamping-baru-99",
        "role": "volunteer",
        "site": site_a.pk,
        "support_groups": [group_a1.pk],
        "first_name": "Rahma",
    }
    new_supervisor = {**new_volunteer, "username": f"sup_{who}", "role": "supervisor", "support_groups": []}
    for payload, status in zip((new_volunteer, new_supervisor), USER_CREATE[who], strict=False):
        r = api.post("/api/v1/users/", payload, format="json")
        assert r.status_code == status, (who, payload["role"], r.content)


@pytest.mark.parametrize("who", PERSONAS)
def test_user_update(request, world, as_user, worker, outsider_worker, who):
    api = as_user(persona(request, who))
    expected = {
        "admin_user": (200, 200),
        "supervisor": (200, 404),
        "outsider_supervisor": (404, 200),
        "worker": (403, 404),
    }.get(who, (404, 404))
    for target, status in zip((worker, outsider_worker), expected, strict=False):
        r = api.patch(f"/api/v1/users/{target.pk}/", {"phone": "+6281211112222"}, format="json")
        assert r.status_code == status, (who, target.username, r.content)


# --- transfers between sites (SPEC §12.3) -----------------------------------------------------------

TRANSFER_FIELDS = {
    "id",
    "client",
    "client_code",
    "from_site",
    "to_site",
    "reason",
    "client_requested",
    "status",
    "requested_by",
    "requested_at",
    "decided_by",
    "decided_at",
    "decline_reason",
    "assigned_social_worker",
    "accepted_on",
}
TRANSFER = {
    # persona: (ask to move client_a to site B, sees the transfer, decline it)
    "admin_user": (201, True, 200),
    "supervisor": (201, True, 403),
    "worker": (403, False, 404),
    "colleague": (404, False, 404),
    "volunteer": (403, False, 404),
    "other_volunteer": (404, False, 404),
    "facility_staff": (404, False, 404),
    "outsider_supervisor": (404, True, 200),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_transfers(request, world, as_user, supervisor, site_b, who):
    from cases.models import Client
    from transfers import services as transfer_services

    client = world["a"]
    Client.objects.filter(pk=client.pk).update(consent_share=True)
    api = as_user(persona(request, who))
    ask, sees, decline = TRANSFER[who]
    r = api.post(f"/api/v1/clients/{client.pk}/transfer/", {"to_site": site_b.pk, "reason": "Pindah"}, format="json")
    assert r.status_code == ask, (who, r.content)
    if ask == 201:
        assert set(r.json()) == TRANSFER_FIELDS
        transfer_id = r.json()["id"]
    else:
        transfer_id = transfer_services.transfer_request(
            actor=supervisor, client=client, to_site=site_b, reason="Pindah"
        ).pk
    rows = api.get("/api/v1/transfers/").json()["results"]
    assert [row["id"] for row in rows] == ([transfer_id] if sees else []), who
    for row in rows:
        assert set(row) == TRANSFER_FIELDS
    r = api.post(f"/api/v1/transfers/{transfer_id}/decline/", {"reason": "Penuh"}, format="json")
    assert r.status_code == decline, (who, r.content)
