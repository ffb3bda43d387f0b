import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.arv import services as arv_services
from outreach import services as outreach_services


def fill(client, actor, facility, n):
    """n events of each of three kinds for `client`, a day apart."""
    today = timezone.localdate()
    for i in range(n):
        arv_services.refill_record(
            actor=actor,
            client=client,
            facility=facility,
            pickup_date=today - datetime.timedelta(days=30 * (n - i)),
            days_supplied=30,
        )
        arv_services.viral_load_record(
            actor=actor, client=client, sample_date=today - datetime.timedelta(days=i), copies_per_ml=40 + i
        )
        outreach_services.visit_record(
            actor=actor,
            client=client,
            kind="home_visit",
            visited_at=timezone.now() - datetime.timedelta(days=i, hours=1),
        )


def test_timeline_is_ordered_and_typed(as_user, worker, client_a, facility_a, site_a, group_a1, volunteer):
    fill(client_a, worker, facility_a, 2)
    outreach_services.service_record(actor=worker, client=client_a, service="counselling", date=timezone.localdate())
    outreach_services.meeting_record(
        actor=volunteer, support_group=group_a1, date=timezone.localdate(), topic="Kelompok", attendees=[client_a]
    )
    outreach_services.incident_report(
        actor=worker, site=site_a, client=client_a, kind="eviction", urgency="high", description="x"
    )
    r = as_user(worker).get(f"/api/v1/clients/{client_a.pk}/timeline/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 9
    types = [e["type"] for e in body["results"]]
    assert sorted(set(types)) == ["incident", "meeting", "refill", "service", "viral_load", "visit"]
    times = [e["at"] for e in body["results"]]
    assert times == sorted(times, reverse=True)
    refill = next(e for e in body["results"] if e["type"] == "refill")
    assert set(refill) == {
        "type",
        "id",
        "at",
        "pickup_date",
        "days_supplied",
        "next_due",
        "facility",
        "missed_doses",
        "returned_to_treatment",
    }


def test_timeline_respects_reach(as_user, worker, colleague, client_a, facility_a, facility_staff):
    fill(client_a, worker, facility_a, 1)
    assert as_user(colleague).get(f"/api/v1/clients/{client_a.pk}/timeline/").status_code == 404
    assert as_user(facility_staff).get(f"/api/v1/clients/{client_a.pk}/timeline/").status_code == 404
    assert as_user(worker).get("/api/v1/clients/99999999999999999999/timeline/").status_code == 404


def test_timeline_pagination(as_user, worker, client_a, facility_a):
    fill(client_a, worker, facility_a, 4)  # 12 events
    api = as_user(worker)
    first = api.get(f"/api/v1/clients/{client_a.pk}/timeline/?page_size=5").json()
    third = api.get(f"/api/v1/clients/{client_a.pk}/timeline/?page_size=5&page=3").json()
    assert first["count"] == 12 and len(first["results"]) == 5 and first["next"] and first["previous"] is None
    assert len(third["results"]) == 2 and third["next"] is None
    assert api.get(f"/api/v1/clients/{client_a.pk}/timeline/?page=9").status_code == 404
    assert api.get(f"/api/v1/clients/{client_a.pk}/timeline/?page=abc").status_code == 404


def _count(api, url):
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["admin_user", "supervisor", "worker", "volunteer"])
def test_timeline_query_count_is_constant(
    request, as_user, worker, client_a, facility_a, who, django_assert_num_queries
):
    api = as_user(request.getfixturevalue(who))
    url = f"/api/v1/clients/{client_a.pk}/timeline/"
    fill(client_a, worker, facility_a, 2)  # 6 events
    # One statement (the client's reach, the policy's sets, the count and the page with each
    # event's fields) and the access-log insert; a token adds its own (SPEC §10: ≤ 5).
    with django_assert_num_queries(2):
        few = _count(api, url)
    fill(client_a, worker, facility_a, 16)  # 54 events, a page of 50
    with django_assert_num_queries(2):
        many = _count(api, url)
    assert few == many == 2


@pytest.mark.postgres
def test_timeline_statement_is_prepared_on_postgresql(as_user, supervisor, worker, client_a, facility_a):
    """PostgreSQL plans the timeline's statement once per connection (basodara.postgresql's
    prepared_cursor), not on every request; the statement still counts as a query."""
    fill(client_a, worker, facility_a, 2)
    api = as_user(supervisor)
    url = f"/api/v1/clients/{client_a.pk}/timeline/"
    first = api.get(url).json()
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url).json() == first
    timeline = [query["sql"] for query in ctx.captured_queries if "count(*) OVER ()" in query["sql"]]
    assert len(timeline) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%count(*) OVER ()%"])
        assert cursor.fetchone()[0] >= 1
