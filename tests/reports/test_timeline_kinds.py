"""Every kind of event on a client's timeline, as each role that reads the client sees it.

client_a (site A, group A1, assigned to `worker`, accompanied by `volunteer`) gets one or
more records of each of the sixteen kinds, made through the services. The timeline must
show a role exactly what the policy modules let it see of each kind (the reference here is
the policy's own querysets, filtered to the client), each event as its record reads through
the ORM, in one statement plus the access-log entry.
"""

import datetime
import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from cases import access as cases_access
from cases import services as case_services
from cases.arv import services as arv_services
from cases.models import AccessLog, ClientStatusEvent, Refill, ViralLoad
from casework import access as casework_access
from casework import services as casework_services
from casework.models import DOMAINS
from empowerment import access as empowerment_access
from empowerment import services as empowerment_services
from outreach import access as outreach_access
from outreach import services as outreach_services
from referrals import access as referral_access
from referrals import services as referral_services
from reports.timeline import SOURCES, client_timeline
from transfers import services as transfer_services
from transfers.models import Transfer

ALL_KINDS = set(SOURCES)
# Volunteers read no assessment, review nor closure (casework.access); their incident is the
# one they respond to, their programme their group's (tested by ids below).
VOLUNTEER_KINDS = ALL_KINDS - {"assessment", "review", "closure"}
ROLES = ("admin_user", "supervisor", "worker", "volunteer")


def today(client):
    return timezone.localdate(timezone=client.site.tzinfo)


@pytest.fixture
def every_kind(client_a, worker, supervisor, volunteer, facility_a, site_a, site_b, group_a1):
    client = client_a
    day = datetime.timedelta(days=1)
    d = today(client)
    arv_services.refill_record(
        actor=worker, client=client, facility=facility_a, pickup_date=d - 40 * day, days_supplied=30
    )
    arv_services.viral_load_record(actor=worker, client=client, sample_date=d - 39 * day, copies_per_ml=40)
    outreach_services.visit_record(actor=worker, client=client, kind="home_visit", visited_at=timezone.now() - 38 * day)
    outreach_services.service_record(actor=worker, client=client, service="counselling", date=d - 37 * day)
    outreach_services.service_record(
        actor=worker, client=client, service="emergency_aid", date=d - 36 * day, amount=150000
    )
    outreach_services.meeting_record(
        actor=volunteer, support_group=group_a1, date=d - 35 * day, topic="Kelompok", attendees=[client]
    )
    # One incident the volunteer responds to, one they do not.
    for responders in ([volunteer], []):
        outreach_services.incident_report(
            actor=worker,
            site=site_a,
            client=client,
            kind="eviction",
            urgency="high",
            description="Diusir dari kos",
            responders=responders,
        )
    referral_services.referral_create(
        actor=worker, client=client, to_facility=facility_a, service="viral_load", reason="Tes ulang"
    )
    # The group's programme (the volunteer sees it) and a site-wide one (they do not).
    for name, group in (("KUBE Sahabat", group_a1), ("Sosialisasi Kelurahan", None)):
        programme = empowerment_services.programme_create(
            actor=supervisor,
            site=site_a,
            kind="economic" if group else "anti_stigma",
            name=name,
            start_date=d - 60 * day,
            support_group=group,
        )
        empowerment_services.enrolment_create(
            actor=supervisor, programme=programme, client=client, enrolled_on=d - 34 * day
        )
        empowerment_services.session_record(
            actor=supervisor, programme=programme, date=d - 33 * day, topic=f"Sesi {name}", attendees=[client]
        )
    scores = dict.fromkeys(DOMAINS, 2)
    first = casework_services.assessment_record(actor=worker, client=client, assessed_on=d - 32 * day, scores=scores)
    plan = casework_services.plan_create(actor=worker, client=client, started_on=first.assessed_on)
    goal = casework_services.goal_create(actor=worker, plan=plan, domain="arv_adherence", description="ARV teratur")
    casework_services.action_create(
        actor=worker, goal=goal, description="Alarm minum obat", owner=volunteer, due_date=d - 20 * day
    )
    second = casework_services.assessment_record(
        actor=worker, client=client, assessed_on=d - 10 * day, scores={**scores, "arv_adherence": 3}
    )
    casework_services.review_record(actor=worker, client=client, assessment=second, note="Membaik")
    client.__class__.objects.filter(pk=client.pk).update(consent_share=True)
    client.refresh_from_db()
    transfer_services.transfer_request(actor=supervisor, client=client, to_site=site_b, reason="Pindah")
    case_services.client_status_change(
        actor=worker, client=client, status="stopped", effective_date=d - 5 * day, reason="Berhenti"
    )
    casework_services.client_close(actor=worker, client=client, reason="refused", closed_on=d - 2 * day)
    client.refresh_from_db()
    return client


def reference(user, client):
    """{(type, id)} the policy modules let `user` see of `client`."""
    visible = {
        "refill": cases_access.records_visible_to(user, Refill).filter(client=client),
        "viral_load": cases_access.records_visible_to(user, ViralLoad).filter(client=client),
        "status": cases_access.records_visible_to(user, ClientStatusEvent).filter(client=client),
        "visit": outreach_access.visits_visible_to(user).filter(client=client),
        "service": outreach_access.services_visible_to(user).filter(client=client),
        "meeting": outreach_access.meetings_visible_to(user).filter(attendees=client),
        "incident": outreach_access.incidents_visible_to(user).filter(client=client),
        "referral": referral_access.referrals_visible_to(user).filter(client=client),
        "enrolment": empowerment_access.enrolments_visible_to(user).filter(client=client),
        "session": empowerment_access.sessions_visible_to(user).filter(attendees=client),
        "transfer": cases_access.records_visible_to(user, Transfer).filter(client=client),
        "assessment": casework_access.assessments_visible_to(user).filter(client=client),
        "plan": casework_access.plans_visible_to(user).filter(client=client),
        "action": casework_access.actions_visible_to(user).filter(client=client),
        "review": casework_access.reviews_visible_to(user).filter(client=client),
        "closure": casework_access.closures_visible_to(user).filter(client=client),
    }
    assert set(visible) == ALL_KINDS
    return {(kind, pk) for kind, rows in visible.items() for pk in rows.values_list("pk", flat=True)}


def as_orm_reads(kind, pk):
    """The event `kind` `pk` as the ORM reads its record, written by DRF's renderer."""
    model, _to_client, at, fields = SOURCES[kind]
    row = model.objects.values(*fields).get(pk=pk)
    moment = row[at]
    if not isinstance(moment, datetime.datetime):  # a day: midnight UTC, as the database casts it
        moment = datetime.datetime.combine(moment, datetime.time(), tzinfo=datetime.UTC)
    event = {"type": kind, "id": pk, "at": moment}
    event |= {name.removesuffix("_id").replace("__", "_"): value for name, value in row.items()}
    return json.loads(JSONRenderer().render(event))


@pytest.mark.parametrize("who", ROLES)
def test_each_role_sees_every_kind_it_may_and_nothing_else(
    request, as_user, every_kind, who, django_assert_num_queries
):
    user = request.getfixturevalue(who)
    url = f"/api/v1/clients/{every_kind.pk}/timeline/?page_size=100"
    # One statement (reach, policy and page) and the access-log entry; a token adds one.
    with django_assert_num_queries(2):
        body = as_user(user).get(url).json()
    seen = {(event["type"], event["id"]) for event in body["results"]}
    assert body["count"] == len(body["results"]) == len(seen)
    assert {kind for kind, _pk in seen} == (VOLUNTEER_KINDS if who == "volunteer" else ALL_KINDS)
    assert seen == reference(user, every_kind)
    if who == "volunteer":  # of two incidents and two programmes, the volunteer's own
        assert sum(kind == "incident" for kind, _pk in seen) == 1
        assert sum(kind == "enrolment" for kind, _pk in seen) == sum(kind == "session" for kind, _pk in seen) == 1
    else:
        assert sum(kind == "incident" for kind, _pk in seen) == 2


def test_each_event_is_its_record(as_user, supervisor, every_kind):
    body = as_user(supervisor).get(f"/api/v1/clients/{every_kind.pk}/timeline/?page_size=100").json()
    assert {event["type"] for event in body["results"]} == ALL_KINDS
    for event in body["results"]:
        assert event == as_orm_reads(event["type"], event["id"])
    times = [(event["at"], event["type"]) for event in body["results"]]
    assert [at for at, _type in times] == sorted((at for at, _type in times), reverse=True)
    amounts = [event["amount"] for event in body["results"] if event["type"] == "service"]
    assert sorted(amounts, key=lambda amount: amount is None) == [150000.0, None]


def test_the_pages_get_the_values_the_orm_gives(supervisor, every_kind):
    """The pages format dates, times and amounts themselves: they get dates, aware times and
    decimals, not their JSON text."""
    total, events = client_timeline(supervisor, every_kind, offset=0, limit=100)
    assert total == len(events)
    by_kind = {event["type"]: event for event in events}
    assert isinstance(by_kind["refill"]["pickup_date"], datetime.date)
    assert isinstance(by_kind["visit"]["visited_at"], datetime.datetime)
    assert by_kind["visit"]["visited_at"].tzinfo is not None
    assert isinstance(by_kind["closure"]["closed_on"], datetime.date)
    model, _to_client, _at, fields = SOURCES["service"]
    for event in (event for event in events if event["type"] == "service"):
        assert event["amount"] == model.objects.values_list("amount", flat=True).get(pk=event["id"])
        assert type(event["amount"]) is type(model.objects.values_list("amount", flat=True).get(pk=event["id"]))


@pytest.mark.parametrize("who", ROLES)
def test_pages_past_the_end_and_an_empty_timeline(
    request, as_user, client_a, worker, facility_a, who, django_assert_num_queries
):
    api = as_user(request.getfixturevalue(who))
    url = f"/api/v1/clients/{client_a.pk}/timeline/"
    # No event: the page has no row, a second statement tells the client is in reach.
    with django_assert_num_queries(3):
        body = api.get(url).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    arv_services.viral_load_record(actor=worker, client=client_a, sample_date=today(client_a), copies_per_ml=40)
    assert api.get(url).json()["count"] == 1
    assert api.get(f"{url}?page=2").status_code == 404


def test_out_of_reach_is_not_found_and_not_logged(as_user, colleague, other_volunteer, client_a, every_kind):
    before = AccessLog.objects.filter(object_type="cases.client.timeline").count()
    for user in (colleague, other_volunteer):
        assert as_user(user).get(f"/api/v1/clients/{client_a.pk}/timeline/").status_code == 404
    assert AccessLog.objects.filter(object_type="cases.client.timeline").count() == before
