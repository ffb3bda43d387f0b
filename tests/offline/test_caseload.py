"""The offline caseload (SPEC §12.6): the field worker's own clients, the minimum, logged."""

import datetime

import pytest
from django.utils import timezone

from cases.models import AccessLog
from outreach import services as outreach_services
from tests.factories import lapse, make_client

URL = "/api/v1/field/caseload/"
CLIENT_FIELDS = {"id", "code", "nickname", "next_refill_due", "next_visit_date", "last_visit_date", "open_tracing"}


@pytest.fixture
def late_with_tracing(client_a, worker, facility_a):
    lapse(client_a, actor=worker, facility=facility_a)
    return client_a


def test_worker_gets_exactly_the_minimum_of_their_own_clients(as_user, worker, late_with_tracing, client_b):
    r = as_user(worker).get(URL)
    assert r.status_code == 200, r.content
    data = r.json()
    assert set(data) == {"user", "synced_at", "today", "offline_days", "clients", "choices"}
    assert data["user"] == worker.pk and data["offline_days"] == 7
    [row] = data["clients"]
    assert set(row) == CLIENT_FIELDS
    assert row["code"] == late_with_tracing.code and row["nickname"] == "Siti"
    assert row["open_tracing"]["claimed_by_me"] is False
    assert row["next_refill_due"] is not None and row["last_visit_date"] is None
    # Nothing identifying or clinical beyond the minimum, anywhere in the answer.
    text = r.content.decode()
    for secret in ("8271015705900001", "Pahlawan", "+6281240000001", "Rahmawati"):
        assert secret not in text
    assert {"home_visit", "phone"} <= {value for value, _ in data["choices"]["visit_kinds"]}


def test_a_visit_shows_as_last_visit_and_next_visit(as_user, worker, client_a):
    now = timezone.now()
    outreach_services.visit_record(
        actor=worker,
        client=client_a,
        visited_at=now,
        kind="home_visit",
        next_visit_date=now.date() + datetime.timedelta(days=7),
    )
    [row] = as_user(worker).get(URL).json()["clients"]
    assert row["last_visit_date"] == str(timezone.localdate(now, client_a.site.tzinfo))
    assert row["next_visit_date"] == str(now.date() + datetime.timedelta(days=7))


def test_volunteer_gets_their_groups_clients_and_only_their_visit_kinds(as_user, volunteer, client_a):
    data = as_user(volunteer).get(URL).json()
    assert [row["id"] for row in data["clients"]] == [client_a.pk]
    assert {value for value, _ in data["choices"]["visit_kinds"]} == {"outreach", "phone"}


def test_others_get_none_of_client_a(as_user, colleague, other_volunteer, outsider_worker, client_a):
    assert as_user(colleague).get(URL).json()["clients"] == []
    assert as_user(other_volunteer).get(URL).json()["clients"] == []
    assert as_user(outsider_worker).get(URL).json()["clients"] == []


@pytest.mark.parametrize("persona", ["supervisor", "facility_staff", "admin_user"])
def test_other_roles_are_refused(request, as_user, persona, client_a):
    assert as_user(request.getfixturevalue(persona)).get(URL).status_code == 403


def test_anonymous_is_refused(api):
    assert api.get(URL).status_code in (401, 403)


def test_the_site_setting_decides_the_days(as_user, worker, site_a):
    site_a.offline_days = 3
    site_a.save(update_fields=["offline_days"])
    assert as_user(worker).get(URL).json()["offline_days"] == 3


def test_every_client_sent_is_logged_as_read(as_user, worker, client_a):
    before = AccessLog.objects.count()
    as_user(worker).get(URL)
    new = list(AccessLog.objects.order_by("id")[before:].values_list("action", "object_type", "client_id", "user_id"))
    assert new == [("read", "cases.client.field_caseload", client_a.pk, worker.pk)]


def test_query_budget_does_not_grow_with_the_caseload(
    as_user, worker, supervisor, late_with_tracing, django_assert_max_num_queries
):
    for n in range(15):
        make_client(actor=supervisor, nickname=f"K{n}", assigned_social_worker=worker)
    api = as_user(worker)
    # The user's site, the clients with their visit and tracing subqueries, the facilities,
    # the access-log insert (and its request context).
    with django_assert_max_num_queries(5):
        data = api.get(URL).json()
    assert len(data["clients"]) == 16
