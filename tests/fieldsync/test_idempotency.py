"""`Idempotency-Key` on the field's creates (SPEC §12.6): replay, conflict, concurrency."""

import datetime
import threading
import uuid

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Refill, TracingAttempt
from fieldsync.models import IdempotencyKey
from fieldsync.services import purge_idempotency_keys
from outreach.models import HomeVisit
from tests.factories import UserFactory, lapse, make_client


def visit_payload(client, **extra):
    return {
        "client": client.pk,
        "visited_at": (timezone.now() - datetime.timedelta(hours=2)).isoformat(),
        "kind": "home_visit",
        "missed_doses_7d": 1,
        "pills_left": 20,
        "plan": "Kunjungan ulang",
        **extra,
    }


def post(api, url, body, key):
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_and_body_answers_the_original_and_records_once(as_user, worker, client_a):
    api, key, body = as_user(worker), str(uuid.uuid4()), visit_payload(client_a)
    first = post(api, "/api/v1/visits/", body, key)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    again = post(api, "/api/v1/visits/", body, key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert HomeVisit.objects.filter(client=client_a).count() == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.user, stored.key, stored.status_code) == (worker, key, 201)


def test_replay_answers_what_was_created_even_after_a_correction(as_user, worker, client_a):
    api, key, body = as_user(worker), "offline-entry-1", visit_payload(client_a)
    first = post(api, "/api/v1/visits/", body, key).json()
    patched = api.patch(f"/api/v1/visits/{first['id']}/", {"plan": "Rujuk"}, format="json")
    assert patched.status_code == 200, patched.content
    assert post(api, "/api/v1/visits/", body, key).json()["plan"] == "Kunjungan ulang"
    assert HomeVisit.objects.get().plan == "Rujuk"


def test_same_key_with_another_body_is_409(as_user, worker, client_a):
    api, key = as_user(worker), str(uuid.uuid4())
    assert post(api, "/api/v1/visits/", visit_payload(client_a), key).status_code == 201
    r = post(api, "/api/v1/visits/", visit_payload(client_a, plan="Lain"), key)
    assert r.status_code == 409
    assert "Idempotency-Key" in r.json()["detail"]
    assert HomeVisit.objects.count() == 1


def test_same_key_on_another_endpoint_is_409(as_user, worker, client_a, facility_a):
    api, key = as_user(worker), str(uuid.uuid4())
    assert post(api, "/api/v1/visits/", visit_payload(client_a), key).status_code == 201
    refill = {
        "client": client_a.pk,
        "facility": facility_a.pk,
        "pickup_date": str(timezone.localdate()),
        "days_supplied": 30,
    }
    assert post(api, "/api/v1/refills/", refill, key).status_code == 409
    assert not Refill.objects.exists()


def test_keys_belong_to_their_user(as_user, worker, supervisor, client_a):
    key, body = str(uuid.uuid4()), visit_payload(client_a)
    assert post(as_user(worker), "/api/v1/visits/", body, key).status_code == 201
    r = post(as_user(supervisor), "/api/v1/visits/", body, key)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r
    assert HomeVisit.objects.count() == 2
    assert set(IdempotencyKey.objects.values_list("user__username", flat=True)) == {"worker_a", "supervisor_a"}


def test_without_a_key_every_post_records(as_user, worker, client_a):
    api, body = as_user(worker), visit_payload(client_a)
    assert api.post("/api/v1/visits/", body, format="json").status_code == 201
    assert api.post("/api/v1/visits/", body, format="json").status_code == 201
    assert HomeVisit.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_a_refused_entry_keeps_no_key_and_may_be_sent_again(as_user, worker, client_a):
    api, key = as_user(worker), str(uuid.uuid4())
    bad = post(api, "/api/v1/visits/", visit_payload(client_a, missed_doses_7d=50), key)
    assert bad.status_code == 400 and "missed_doses_7d" in bad.json()
    assert not IdempotencyKey.objects.exists()
    assert post(api, "/api/v1/visits/", visit_payload(client_a), key).status_code == 201


def test_an_entry_for_a_client_out_of_reach_is_refused_and_not_kept(as_user, colleague, client_a):
    r = post(as_user(colleague), "/api/v1/visits/", visit_payload(client_a), str(uuid.uuid4()))
    assert r.status_code == 400 and "client" in r.json()
    assert not IdempotencyKey.objects.exists() and not HomeVisit.objects.exists()


@pytest.mark.parametrize("key", ["", " ", "kunci dengan spasi", "x" * 256, "kunci\u00e9"])
def test_a_malformed_key_is_400(as_user, worker, client_a, key):
    r = as_user(worker).post("/api/v1/visits/", visit_payload(client_a), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 400
    assert "Idempotency-Key" in r.json()
    assert not HomeVisit.objects.exists()


def test_a_structured_field_string_is_the_same_key(as_user, worker, client_a):
    api, body = as_user(worker), visit_payload(client_a)
    assert post(api, "/api/v1/visits/", body, "abc-123").status_code == 201
    assert post(api, "/api/v1/visits/", body, '"abc-123"')["Idempotent-Replayed"] == "true"
    assert HomeVisit.objects.count() == 1


def test_refill_replay_records_once(as_user, worker, client_a, facility_a):
    api, key = as_user(worker), str(uuid.uuid4())
    body = {
        "client": client_a.pk,
        "facility": facility_a.pk,
        "pickup_date": str(timezone.localdate()),
        "days_supplied": 30,
    }
    first = post(api, "/api/v1/refills/", body, key)
    assert first.status_code == 201, first.content
    again = post(api, "/api/v1/refills/", body, key)
    assert (again.status_code, again.json()) == (201, first.json())
    assert Refill.objects.filter(client=client_a).count() == 1


@pytest.fixture
def tracing(client_a, worker, facility_a):
    return lapse(client_a, actor=worker, facility=facility_a)


def test_tracing_attempt_replay_records_once(as_user, worker, tracing):
    api, key = as_user(worker), str(uuid.uuid4())
    url, body = (
        f"/api/v1/tracing/{tracing.pk}/attempts/",
        {"method": "phone", "outcome": "not_found", "note": "Tidak aktif"},
    )
    first = post(api, url, body, key)
    assert first.status_code == 201, first.content
    again = post(api, url, body, key)
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, first.json(), "true")
    assert TracingAttempt.objects.filter(tracing=tracing).count() == 1
    assert post(api, url, {**body, "outcome": "wrong_contact"}, key).status_code == 409


def test_a_replay_costs_one_query_and_its_read(as_user, worker, client_a, django_assert_max_num_queries):
    api, key, body = as_user(worker), str(uuid.uuid4()), visit_payload(client_a)
    assert post(api, "/api/v1/visits/", body, key).status_code == 201
    # The stored answer, and the access log's one insert: the answer names the client.
    with django_assert_max_num_queries(2):
        assert post(api, "/api/v1/visits/", body, key).status_code == 201


def test_old_keys_are_purged(settings, as_user, worker, client_a):
    settings.IDEMPOTENCY_KEY_DAYS = 30
    api = as_user(worker)
    post(api, "/api/v1/visits/", visit_payload(client_a), "old")
    post(api, "/api/v1/visits/", visit_payload(client_a, plan="Baru"), "new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - datetime.timedelta(days=31))
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def _concurrently(count, send):
    """Run send(i) in `count` threads released together; returns the responses."""
    barrier = threading.Barrier(count)
    responses, errors = [None] * count, []

    def run(i):
        try:
            barrier.wait()
            responses[i] = send(i)
        except Exception as e:  # collected and asserted by the caller
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return responses


@pytest.fixture
def field(site_a):
    worker = UserFactory(role="social_worker", site=site_a)
    supervisor = UserFactory(role="supervisor", site=site_a)
    return worker, make_client(actor=supervisor, full_name="Rina", assigned_social_worker=worker)


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_record_once_and_all_get_the_original(field):
    worker, client = field
    key, body = str(uuid.uuid4()), visit_payload(client)
    responses = _concurrently(6, lambda i: post(_api(worker), "/api/v1/visits/", body, key))
    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(1 for r in responses if r.has_header("Idempotent-Replayed")) == 5
    assert HomeVisit.objects.filter(client=client).count() == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_same_key_other_bodies_one_wins_the_rest_409(field):
    worker, client = field
    key = str(uuid.uuid4())
    responses = _concurrently(
        5, lambda i: post(_api(worker), "/api/v1/visits/", visit_payload(client, plan=f"Rencana {i}"), key)
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    [visit] = HomeVisit.objects.filter(client=client)
    [winner] = [r for r in responses if r.status_code == 201]
    assert winner.json()["plan"] == visit.plan


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_refused_lets_the_duplicate_run(field):
    """A request that fails while a duplicate waits on the key leaves the key free for it."""
    worker, client = field
    key = str(uuid.uuid4())
    bodies = [visit_payload(client, missed_doses_7d=50), visit_payload(client)]
    responses = _concurrently(2, lambda i: post(_api(worker), "/api/v1/visits/", bodies[i], key))
    codes = sorted(r.status_code for r in responses)
    # The invalid body never holds the key: either order ends with the valid one recorded.
    assert codes in ([201, 400], [201, 409]) and HomeVisit.objects.count() == 1
