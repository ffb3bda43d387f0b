import datetime
import threading

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import access, services
from cases.models import Client, ClientUserObjectPermission, GrantKind
from tests.factories import UserFactory, make_client


def detail(api, client):
    return api.get(f"/api/v1/clients/{client.pk}/")


# --- grants follow assignment and membership -------------------------------------------------------


def test_reassignment_revokes_access_at_once(as_user, client_a, supervisor, worker, colleague):
    assert detail(as_user(worker), client_a).status_code == 200
    assert detail(as_user(colleague), client_a).status_code == 404

    r = as_user(supervisor).patch(
        f"/api/v1/clients/{client_a.pk}/", {"assigned_social_worker": colleague.pk}, format="json"
    )
    assert r.status_code == 200, r.content

    assert detail(as_user(worker), client_a).status_code == 404
    assert detail(as_user(colleague), client_a).status_code == 200
    assert as_user(worker).get("/api/v1/clients/").json()["count"] == 0
    # The guardian rows say the same: exactly one assignment grant, to the new worker.
    grants = ClientUserObjectPermission.objects.filter(content_object=client_a, kind=GrantKind.ASSIGNMENT)
    assert {g.user_id for g in grants} == {colleague.pk}


def test_client_assign_service(client_a, supervisor, worker, colleague):
    services.client_assign(actor=supervisor, client=client_a, social_worker=colleague)
    assert not access.clients_visible_to(worker).filter(pk=client_a.pk).exists()
    assert access.clients_visible_to(colleague).filter(pk=client_a.pk).exists()


def test_reassign_to_someone_of_another_site_is_refused(as_user, client_a, supervisor, outsider_worker):
    r = as_user(supervisor).patch(
        f"/api/v1/clients/{client_a.pk}/", {"assigned_social_worker": outsider_worker.pk}, format="json"
    )
    assert r.status_code == 400
    assert "assigned_social_worker" in r.json()


def test_volunteer_leaving_the_group_loses_access(as_user, client_a, supervisor, other_volunteer, group_a1, group_a2):
    # other_volunteer joins group A1: reach at once; leaves it: gone at once.
    r = as_user(supervisor).patch(
        f"/api/v1/users/{other_volunteer.pk}/", {"support_groups": [group_a1.pk, group_a2.pk]}, format="json"
    )
    assert r.status_code == 200, r.content
    assert detail(as_user(other_volunteer), client_a).status_code == 200
    r = as_user(supervisor).patch(
        f"/api/v1/users/{other_volunteer.pk}/", {"support_groups": [group_a2.pk]}, format="json"
    )
    assert r.status_code == 200
    assert detail(as_user(other_volunteer), client_a).status_code == 404


def test_client_leaving_the_group_removes_group_access(
    as_user, client_a, supervisor, worker, group_a1, group_a2, site_a
):
    member = UserFactory(role="volunteer", site=site_a, support_groups=[group_a1])
    assert detail(as_user(member), client_a).status_code == 200
    r = as_user(worker).patch(f"/api/v1/clients/{client_a.pk}/", {"support_groups": [group_a2.pk]}, format="json")
    assert r.status_code == 200, r.content
    assert detail(as_user(member), client_a).status_code == 404


def test_reach_hooks_run_only_when_the_groups_change(monkeypatch, client_a, worker, group_a1, group_a2):
    """The client form always sends the groups: an unchanged set changes no one's reach, so
    the hand-over hooks (tracing, casework actions) do not run."""
    from cases.services import registry

    ran = []
    monkeypatch.setattr(registry, "REACH_CHANGED_HOOKS", [lambda actor, client: ran.append(client.pk)])
    groups = list(client_a.support_groups.all())
    services.client_update(actor=worker, client=client_a, nickname="Tetap", support_groups=groups)
    assert ran == []
    services.client_update(actor=worker, client=client_a, support_groups=[group_a2])
    assert ran == [client_a.pk]


def test_withdrawn_consent_removes_volunteer_access_at_once(as_user, client_a, worker, volunteer):
    r = as_user(worker).patch(
        f"/api/v1/clients/{client_a.pk}/", {"consent_withdrawn_on": str(timezone.localdate())}, format="json"
    )
    assert r.status_code == 200, r.content
    assert detail(as_user(volunteer), client_a).status_code == 404
    assert as_user(volunteer).get("/api/v1/clients/").json()["count"] == 0
    # Staff keep following the client.
    assert detail(as_user(worker), client_a).status_code == 200


def test_deactivated_user_reaches_nothing(client_a, worker):
    worker.is_active = False
    worker.save()
    assert not access.clients_visible_to(worker).exists()


# --- sharing -----------------------------------------------------------------------------------------


def test_share_read_only_until_a_date(as_user, client_a, supervisor, colleague):
    until = timezone.localdate() + datetime.timedelta(days=7)
    r = as_user(supervisor).post(
        f"/api/v1/clients/{client_a.pk}/share/", {"user": colleague.pk, "until": str(until)}, format="json"
    )
    assert r.status_code == 201, r.content
    api = as_user(colleague)
    assert detail(api, client_a).status_code == 200
    assert api.get("/api/v1/clients/").json()["count"] == 1
    # Read only: they see it, so a change is refused with 403 rather than hidden.
    assert api.patch(f"/api/v1/clients/{client_a.pk}/", {"nickname": "x"}, format="json").status_code == 403


def test_share_with_edit(as_user, client_a, supervisor, colleague):
    until = timezone.localdate() + datetime.timedelta(days=1)
    r = as_user(supervisor).post(
        f"/api/v1/clients/{client_a.pk}/share/",
        {"user": colleague.pk, "until": str(until), "can_edit": True},
        format="json",
    )
    assert r.status_code == 201
    r = as_user(colleague).patch(f"/api/v1/clients/{client_a.pk}/", {"nickname": "Ti"}, format="json")
    assert r.status_code == 200


def test_share_ends_after_its_date(as_user, client_a, supervisor, colleague):
    services.client_share(actor=supervisor, client=client_a, user=colleague, until=timezone.localdate(), can_edit=True)
    assert detail(as_user(colleague), client_a).status_code == 200
    # Move the end into the past, as time passing would.
    ClientUserObjectPermission.objects.filter(kind=GrantKind.SHARE).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert detail(as_user(colleague), client_a).status_code == 404
    assert as_user(colleague).get("/api/v1/clients/").json()["count"] == 0
    # The periodic task removes the expired rows; the assignment grant stays.
    assert services.client_shares_expire() == 2
    assert ClientUserObjectPermission.objects.filter(content_object=client_a, kind=GrantKind.ASSIGNMENT).count() == 2


def test_share_validation(as_user, client_a, supervisor, volunteer, outsider_worker):
    api = as_user(supervisor)
    url = f"/api/v1/clients/{client_a.pk}/share/"
    assert api.post(url, {"user": volunteer.pk, "until": "2099-01-01"}, format="json").status_code == 400
    r = api.post(url, {"user": outsider_worker.pk, "until": "2099-01-01"}, format="json")
    assert r.status_code == 400 and "user" in r.json()
    r = api.post(url, {"user": volunteer.pk, "until": "2000-01-01"}, format="json")
    assert r.status_code == 400
    r = api.post(url, {"until": "kemarin"}, format="json")
    assert r.status_code == 400 and set(r.json()) == {"user", "until"}


# --- codes and duplicates --------------------------------------------------------------------------


def test_codes_are_per_site_and_sequential(supervisor, outsider_supervisor, site_a, site_b):
    year = timezone.localdate(timezone=site_a.tzinfo).year
    a1 = make_client(actor=supervisor, full_name="Satu")
    a2 = make_client(actor=supervisor, full_name="Dua")
    b1 = make_client(actor=outsider_supervisor, full_name="Tiga")
    assert (a1.code, a2.code, b1.code) == (f"TTE-{year}-0001", f"TTE-{year}-0002", f"MKS-{year}-0001")


def test_duplicate_flag_same_nik(supervisor):
    first = make_client(actor=supervisor, full_name="Ahmad", nik="8271010101900001")
    other = make_client(actor=supervisor, full_name="Someone Else", nik="8271010101900002")
    second = make_client(actor=supervisor, full_name="Ahmad Rumra", nik="8271010101900001")
    first.refresh_from_db()
    other.refresh_from_db()
    assert (first.possible_duplicate, second.possible_duplicate, other.possible_duplicate) == (True, True, False)


def test_duplicate_flag_same_name_and_birth_date(supervisor):
    first = make_client(actor=supervisor, full_name="Nurhayati", date_of_birth=datetime.date(1985, 4, 1))
    same_name_other_day = make_client(actor=supervisor, full_name="Nurhayati", date_of_birth=datetime.date(1985, 4, 2))
    second = make_client(actor=supervisor, full_name="  NURHAYATI. ", date_of_birth=datetime.date(1985, 4, 1))
    first.refresh_from_db()
    same_name_other_day.refresh_from_db()
    assert first.possible_duplicate and second.possible_duplicate
    assert not same_name_other_day.possible_duplicate


def test_duplicates_are_not_looked_for_at_other_sites(supervisor, outsider_supervisor):
    """The flag would tell site A's supervisor that someone is a client of site B."""
    there = make_client(actor=outsider_supervisor, full_name="Andi Baso", nik="8271010101900003")
    here = make_client(actor=supervisor, full_name="Andi Baso", nik="8271010101900003")
    there.refresh_from_db()
    assert (here.possible_duplicate, there.possible_duplicate) == (False, False)


def test_duplicate_flag_shows_in_api_and_filter(as_user, supervisor):
    make_client(actor=supervisor, full_name="Ani", nik="8271010101900009")
    make_client(actor=supervisor, full_name="Ani S", nik="8271010101900009")
    make_client(actor=supervisor, full_name="Budi")
    r = as_user(supervisor).get("/api/v1/clients/?possible_duplicate=true")
    assert {row["full_name"] for row in r.json()["results"]} == {"Ani", "Ani S"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registration_never_collides(site_a):
    supervisor = UserFactory(role="supervisor", site=site_a)
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    codes, errors = [], []

    def register(i):
        try:
            barrier.wait()
            codes.append(make_client(actor=supervisor, full_name=f"Klien {i}").code)
        except Exception as e:  # collected and asserted below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    year = timezone.localdate(timezone=site_a.tzinfo).year
    assert sorted(codes) == [f"TTE-{year}-{n:04d}" for n in range(1, threads_count + 1)]
    assert Client.objects.count() == threads_count


# --- validation ----------------------------------------------------------------------------------------

VALID = {"full_name": "Mariam", "sex": "F", "date_of_birth": "1992-07-09", "consent_date": "2026-03-01"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"nik": "12345"}, "nik"),
        ({"nik": "82710101019000AB"}, "nik"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "not a date"}, "date_of_birth"),
        ({"consent_date": "2999-01-01"}, "consent_date"),
        ({"sex": "X"}, "sex"),
        ({"phone": "call me"}, "phone"),
        ({"status": "gone"}, "status"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": None}, "full_name"),
        ({"site": 999999}, "site"),
        ({"site": "abc"}, "site"),
        ({"art_facility": 999999}, "art_facility"),
        ({"support_groups": "1"}, "support_groups"),
        ({"hiv_diagnosis_date": "1980-01-01"}, "hiv_diagnosis_date"),
        ({"hiv_diagnosis_date": "2020-01-01", "art_start_date": "2019-01-01"}, "art_start_date"),
        ({"consent_withdrawn_on": "2026-01-01"}, "consent_withdrawn_on"),
        ({"sex": "M", "pregnant": True}, "pregnant"),
    ],
)
def test_bad_input_answers_400_with_field_messages(as_user, supervisor, change, field):
    r = as_user(supervisor).post("/api/v1/clients/", {**VALID, **change}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json(), r.json()
    assert all(isinstance(m, str) for m in r.json()[field])
    assert not Client.objects.exists()


def test_missing_fields_are_named(as_user, supervisor):
    r = as_user(supervisor).post("/api/v1/clients/", {}, format="json")
    assert r.status_code == 400
    assert {"full_name", "sex", "date_of_birth", "consent_date"} <= set(r.json())


def test_malformed_json_is_400(as_user, supervisor):
    r = as_user(supervisor).post("/api/v1/clients/", "{not json", content_type="application/json")
    assert r.status_code == 400


def test_stale_version_answers_409_and_changes_nothing(as_user, client_a, worker):
    api = as_user(worker)
    version = detail(api, client_a).json()["version"]
    assert (
        api.patch(f"/api/v1/clients/{client_a.pk}/", {"nickname": "A", "version": version}, format="json").status_code
        == 200
    )
    r = api.patch(f"/api/v1/clients/{client_a.pk}/", {"nickname": "B", "version": version}, format="json")
    assert r.status_code == 409
    client_a.refresh_from_db()
    assert client_a.nickname == "A"
    assert client_a.version == version + 1


def test_bad_filter_values_answer_400(as_user, supervisor, client_a):
    api = as_user(supervisor)
    assert api.get("/api/v1/clients/?status=unknown").status_code == 400
    assert api.get("/api/v1/clients/?group=abc").status_code == 400
    assert api.get("/api/v1/clients/?possible_duplicate=maybe").status_code == 400
    assert api.get("/api/v1/clients/?group=99999999999999999999").status_code == 400
    assert api.get("/api/v1/clients/?assigned_to=-1").status_code == 400
    assert api.get("/api/v1/clients/99999999999999999999/").status_code == 404
    assert api.get("/api/v1/sites/99999999999999999999/").status_code == 404


# --- list: filters, search, pagination, query budget -----------------------------------------------


def test_filters_and_search(as_user, supervisor, worker, colleague, group_a1, client_a):
    make_client(actor=supervisor, full_name="Hasan Umasugi", nickname="Acan", assigned_social_worker=colleague)
    make_client(actor=supervisor, full_name="Rini", status="ltfu", assigned_social_worker=worker)
    api = as_user(supervisor)

    def names(query):
        r = api.get(f"/api/v1/clients/?{query}")
        assert r.status_code == 200, r.content
        return {row["full_name"] for row in r.json()["results"]}

    assert names("status=ltfu") == {"Rini"}
    assert names(f"assigned_to={worker.pk}") == {"Siti Rahmawati", "Rini"}
    assert names(f"group={group_a1.pk}") == {"Siti Rahmawati"}
    assert names("q=umasugi") == {"Hasan Umasugi"}
    assert names("q=acan") == {"Hasan Umasugi"}
    assert names(f"q={client_a.code.lower()}") == {"Siti Rahmawati"}


def test_pagination(as_user, supervisor):
    for i in range(7):
        make_client(actor=supervisor, full_name=f"Klien {i}")
    r = as_user(supervisor).get("/api/v1/clients/?page_size=5")
    body = r.json()
    assert body["count"] == 7 and len(body["results"]) == 5 and body["next"] and body["previous"] is None
    r = as_user(supervisor).get("/api/v1/clients/?page_size=5&page=2")
    assert len(r.json()["results"]) == 2
    assert as_user(supervisor).get("/api/v1/clients/?page=9").status_code == 404


def _list_queries(api, url):
    cache.clear()  # measure the worst case: the sites' time zones not cached yet
    with CaptureQueriesContext(connection) as ctx:
        r = api.get(url)
    assert r.status_code == 200
    return len(ctx.captured_queries), r.json()


@pytest.mark.parametrize("who", ["supervisor", "worker", "volunteer", "admin_user"])
def test_client_list_query_count_is_constant(
    request, as_user, supervisor, worker, volunteer, group_a1, who, django_assert_max_num_queries
):
    user = request.getfixturevalue(who)
    api = as_user(user)
    for i in range(5):
        make_client(
            actor=supervisor,
            full_name=f"Klien {i}",
            assigned_social_worker=worker,
            companion=volunteer,
            support_groups=[group_a1],
        )
    # count + page + support-group prefetch + the sites' time zones (cold cache) + the
    # access log's one insert for the page (SPEC §10: at most 5); force_authenticate costs
    # no query.
    with django_assert_max_num_queries(5):
        few, body = _list_queries(api, "/api/v1/clients/")
    assert body["count"] == 5
    for i in range(45):
        make_client(
            actor=supervisor,
            full_name=f"Lagi {i}",
            assigned_social_worker=worker,
            companion=volunteer,
            support_groups=[group_a1],
        )
    with django_assert_max_num_queries(5):
        many, body = _list_queries(api, "/api/v1/clients/")
    assert body["count"] == 50 and len(body["results"]) == 50
    assert few == many


@pytest.mark.parametrize("who", ["worker", "volunteer"])
def test_personal_reach_pages_like_the_site(request, as_user, supervisor, worker, volunteer, group_a1, who):
    """A social worker's or volunteer's list reads its reach once, as ordered ids (cases.api.rows):
    the pages, their order, the count and every figure are what a supervisor reads of the
    same clients."""
    for i in range(7):
        make_client(
            actor=supervisor,
            full_name=f"Klien {i}",
            assigned_social_worker=worker,
            companion=volunteer,
            support_groups=[group_a1],
        )
    mine = as_user(request.getfixturevalue(who))
    site = as_user(supervisor)
    seen = []
    for page in (1, 2, 3):
        url = f"/api/v1/clients/?page_size=3&page={page}"
        body = mine.get(url).json()
        assert body["count"] == 7
        theirs = {row["id"]: row for row in site.get(url).json()["results"]}
        for row in body["results"]:
            assert {k: theirs[row["id"]][k] for k in row} == row
        seen += [row["code"] for row in body["results"]]
    assert seen == sorted(seen)  # by code, as every list
    assert len(seen) == len(set(seen)) == 7
    assert mine.get("/api/v1/clients/?page_size=3&page=4").status_code == 404
