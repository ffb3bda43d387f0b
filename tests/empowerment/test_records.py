"""Sessions, attendance, enrolments and outcomes: the rules of the services, through the API."""

import datetime

import pytest

from cases.models import AccessLog
from empowerment import services
from empowerment.models import Attendance, Enrolment
from tests.factories import make_client

from .conftest import site_today


@pytest.fixture
def second_client(supervisor, group_a2):
    """A client of the other group: out of `volunteer`'s reach."""
    return make_client(actor=supervisor, full_name="Rina Umasugi", nickname="Rina", support_groups=[group_a2])


def test_volunteer_taking_attendance_keeps_clients_out_of_their_reach(
    as_user, volunteer, supervisor, programme_a, enrolment_a, client_a, second_client
):
    services.enrolment_create(
        actor=supervisor, programme=programme_a, client=second_client, enrolled_on=site_today(programme_a.site)
    )
    session = services.session_record(
        actor=supervisor,
        programme=programme_a,
        date=site_today(programme_a.site),
        topic="Produksi keripik",
        attendees=[client_a, second_client],
    )
    api = as_user(volunteer)
    # The volunteer sees only client_a among the attendees, and marks them absent.
    assert api.get(f"/api/v1/sessions/{session.pk}/").json()["attendees"] == [client_a.pk]
    r = api.patch(f"/api/v1/sessions/{session.pk}/", {"attendees": []}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["attendees"] == []
    assert set(session.attendance.values_list("client_id", flat=True)) == {second_client.pk}
    # Naming the client out of reach is an unknown id: 400, nothing changed.
    r = api.patch(f"/api/v1/sessions/{session.pk}/", {"attendees": [second_client.pk]}, format="json")
    assert r.status_code == 400 and "attendees" in r.json()


def test_attendees_must_be_enrolled(as_user, supervisor, programme_a, enrolment_a, second_client):
    r = as_user(supervisor).post(
        "/api/v1/sessions/",
        {"programme": programme_a.pk, "date": str(site_today(programme_a.site)), "topic": "x",
         "attendees": [second_client.pk]},
        format="json",
    )  # fmt: skip
    assert r.status_code == 400
    assert second_client.code in r.json()["attendees"][0]


def test_each_attendance_is_logged_with_its_client(as_user, volunteer, programme_a, enrolment_a, client_a):
    r = as_user(volunteer).post(
        "/api/v1/sessions/",
        {"programme": programme_a.pk, "date": str(site_today(programme_a.site)), "topic": "Kemasan",
         "attendees": [client_a.pk]},
        format="json",
    )  # fmt: skip
    assert r.status_code == 201, r.content
    entry = AccessLog.objects.get(object_type="empowerment.attendance", action="create")
    assert (entry.user, entry.client_id) == (volunteer, client_a.pk)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"date": "2099-01-01"}, "date"),
        ({"others": {"family": -1}}, "others"),
        ({"others": {"community": 10_001}}, "others"),
        ({"topic": ""}, "topic"),
    ],
)
def test_bad_sessions_are_400_with_the_field(as_user, supervisor, programme_a, body, field):
    payload = {"programme": programme_a.pk, "date": str(site_today(programme_a.site)), "topic": "Rapat", **body}
    r = as_user(supervisor).post("/api/v1/sessions/", payload, format="json")
    assert r.status_code == 400
    assert field in r.json()


def test_session_before_the_programme_started_is_refused(as_user, supervisor, programme_a):
    day = programme_a.start_date - datetime.timedelta(days=1)
    r = as_user(supervisor).post(
        "/api/v1/sessions/", {"programme": programme_a.pk, "date": str(day), "topic": "Awal"}, format="json"
    )
    assert r.status_code == 400 and "date" in r.json()


def test_outcome_needs_its_day_and_comes_after_enrolment(as_user, supervisor, enrolment_a):
    api = as_user(supervisor)
    url = f"/api/v1/enrolments/{enrolment_a.pk}/"
    r = api.patch(url, {"outcome": "dropped"}, format="json")
    assert r.status_code == 400 and "outcome_on" in r.json()
    before = enrolment_a.enrolled_on - datetime.timedelta(days=1)
    r = api.patch(url, {"outcome": "dropped", "outcome_on": str(before)}, format="json")
    assert r.status_code == 400 and "outcome_on" in r.json()
    r = api.patch(url, {"outcome": "dropped", "outcome_on": str(enrolment_a.enrolled_on)}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["version"] == 2
    # Reopened: back to ongoing, its day cleared.
    r = api.patch(url, {"outcome": ""}, format="json")
    assert r.status_code == 200, r.content
    assert (r.json()["outcome"], r.json()["outcome_on"]) == ("", None)


def test_stale_version_is_409(as_user, supervisor, worker, enrolment_a):
    url = f"/api/v1/enrolments/{enrolment_a.pk}/"
    assert as_user(worker).patch(url, {"employed": True, "version": 1}, format="json").status_code == 200
    r = as_user(supervisor).patch(url, {"employed": False, "version": 1}, format="json")
    assert r.status_code == 409
    enrolment_a.refresh_from_db()
    assert enrolment_a.employed is True


def test_economic_fields_only_for_economic_and_skills_programmes(as_user, supervisor, client_a):
    programme = services.programme_create(
        actor=supervisor, site=supervisor.site, kind="anti_stigma", name="Sosialisasi", start_date=client_a.consent_date
    )
    r = as_user(supervisor).post(
        "/api/v1/enrolments/",
        {"programme": programme.pk, "client": client_a.pk, "enrolled_on": str(client_a.consent_date),
         "business_started": True},
        format="json",
    )  # fmt: skip
    assert r.status_code == 400 and "business_started" in r.json()


def test_enrolment_rules(as_user, supervisor, programme_a, enrolment_a, client_a, client_b):
    api = as_user(supervisor)
    r = api.post(
        "/api/v1/enrolments/",
        {"programme": programme_a.pk, "client": client_a.pk, "enrolled_on": str(programme_a.start_date)},
        format="json",
    )
    assert r.status_code == 400 and "client" in r.json()  # enrolled once
    r = api.post(
        "/api/v1/enrolments/",
        {"programme": programme_a.pk, "client": client_b.pk, "enrolled_on": str(programme_a.start_date)},
        format="json",
    )
    assert r.status_code == 400 and "client" in r.json()  # another site's client: not one to name
    assert Enrolment.objects.count() == 1


def test_attendance_rows_are_unique(supervisor, programme_a, enrolment_a, client_a):
    session = services.session_record(
        actor=supervisor, programme=programme_a, date=site_today(programme_a.site), topic="x", attendees=[client_a]
    )
    services.session_update(actor=supervisor, session=session, attendees=[client_a, client_a])
    assert Attendance.objects.filter(session=session).count() == 1


def test_session_list_query_budget(
    as_user, supervisor, programme_a, enrolment_a, client_a, django_assert_max_num_queries
):
    for n in range(5):
        services.session_record(
            actor=supervisor, programme=programme_a, date=site_today(programme_a.site), topic=f"S{n}",
            attendees=[client_a],
        )  # fmt: skip
    # session + count + page + prefetch of attendees in reach
    with django_assert_max_num_queries(5):
        r = as_user(supervisor).get("/api/v1/sessions/")
    assert r.json()["count"] == 5
    assert all(row["attendees"] == [client_a.pk] for row in r.json()["results"])


def test_enrolment_list_query_budget(as_user, supervisor, programme_a, django_assert_max_num_queries):
    for n in range(5):
        c = make_client(actor=supervisor, full_name=f"Peserta {n}", date_of_birth=datetime.date(1990, 1, n + 1))
        services.enrolment_create(actor=supervisor, programme=programme_a, client=c, enrolled_on=c.consent_date)
    # session + count + page + the one INSERT logging the page's reads
    with django_assert_max_num_queries(5):
        r = as_user(supervisor).get("/api/v1/enrolments/")
    assert r.json()["count"] == 5


def test_programme_dates_cannot_leave_a_session_outside(as_user, supervisor, session_a):
    programme = session_a.programme
    url = f"/api/v1/programmes/{programme.pk}/"
    api = as_user(supervisor)
    r = api.patch(url, {"end_date": str(session_a.date - datetime.timedelta(days=1))}, format="json")
    assert r.status_code == 400 and "end_date" in r.json()
    r = api.patch(url, {"start_date": str(session_a.date + datetime.timedelta(days=1))}, format="json")
    assert r.status_code == 400 and "start_date" in r.json()
