"""The empowerment pages (Django's test client): who gets which page, taking attendance,
enrolling, outcomes, the supervisor's figures and the national view."""

import datetime

import pytest
from django.test import Client as BrowserClient

from cases.models import AccessLog
from empowerment.models import Enrolment, Programme, ProgrammeSession

from .conftest import site_today


@pytest.fixture
def page_as():
    def _as(user):
        c = BrowserClient()
        c.force_login(user)
        return c

    return _as


LIST_STATUS = {
    "admin_user": 200,
    "supervisor": 200,
    "worker": 200,
    "volunteer": 200,
    "facility_staff": 404,
    "outsider_supervisor": 200,
}


@pytest.mark.parametrize("who", LIST_STATUS)
def test_programme_list_and_detail_by_persona(request, page_as, session_a, admin_user, facility_staff, who):
    c = page_as(request.getfixturevalue(who))
    r = c.get("/programmes/")
    assert r.status_code == LIST_STATUS[who]
    sees = who in ("admin_user", "supervisor", "worker", "volunteer")
    if r.status_code == 200:
        assert (session_a.programme.name in r.content.decode()) == sees
    assert c.get(f"/programmes/{session_a.programme_id}/").status_code == (200 if sees else 404)


def test_supervisor_sees_the_figures_a_worker_does_not(page_as, supervisor, worker, session_a):
    body = page_as(supervisor).get("/programmes/").content.decode()
    assert 'id="empowerment-figures"' in body
    assert "/api/v1/reports/empowerment/?" in body
    assert 'id="empowerment-figures"' not in page_as(worker).get("/programmes/").content.decode()
    # and on the caseload review, the supervisor's page
    assert 'data-figure="sessions">1<' in page_as(supervisor).get("/caseload/").content.decode()


def test_programme_page_names_enrolled_clients_and_logs_the_reads(
    page_as, supervisor, session_a, client_a, django_assert_max_num_queries
):
    c = page_as(supervisor)
    # session, user, programme, enrolments, log insert, sessions, totals, enrolled count,
    # may manage, may record, unread count
    with django_assert_max_num_queries(12):
        r = c.get(f"/programmes/{session_a.programme_id}/")
    body = r.content.decode()
    assert client_a.code in body and "Siti" in body
    assert AccessLog.objects.filter(
        user=supervisor, object_type="cases.client.enrolment", client_id=client_a.pk
    ).exists()


def test_volunteer_takes_attendance(page_as, volunteer, programme_a, enrolment_a, client_a):
    c = page_as(volunteer)
    url = f"/programmes/{programme_a.pk}/sessions/new/"
    r = c.get(url)
    assert r.status_code == 200
    assert f'value="{client_a.pk}"' in r.content.decode()
    day = site_today(programme_a.site)
    r = c.post(url, {"date": day.isoformat(), "topic": "Membuat abon ikan", "attendees": [client_a.pk],
                     "others_family": "2", "others_community": "5", "others_health_workers": "0"})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    session = ProgrammeSession.objects.get(topic="Membuat abon ikan")
    assert list(session.attendees.all()) == [client_a]
    assert session.others == {"family": 2, "community": 5, "health_workers": 0}
    # and corrects it: client_a was not there after all
    r = c.post(f"/sessions/{session.pk}/attendance/", {"date": day.isoformat(), "topic": "Membuat abon ikan",
               "others_family": "2", "others_community": "6", "others_health_workers": "0"})  # fmt: skip
    assert r.status_code == 302
    session.refresh_from_db()
    assert (session.attendees.count(), session.others_community) == (0, 6)


@pytest.mark.parametrize(
    "change, field",
    [({"others_family": "-1"}, "others_family"), ({"date": "2099-01-01"}, "date"), ({"topic": ""}, "topic")],
)
def test_bad_attendance_shows_the_error_at_its_field(page_as, supervisor, programme_a, change, field):
    data = {"date": site_today(programme_a.site).isoformat(), "topic": "Rapat", "others_family": "0",
            "others_community": "0", "others_health_workers": "0", **change}  # fmt: skip
    r = page_as(supervisor).post(f"/programmes/{programme_a.pk}/sessions/new/", data)
    assert r.status_code == 200
    assert f'id="id_{field}_error"' in r.content.decode()
    assert not ProgrammeSession.objects.filter(topic="Rapat").exists()


def test_volunteer_may_not_enrol_or_record_outcomes(page_as, volunteer, programme_a, enrolment_a):
    c = page_as(volunteer)
    assert c.get(f"/programmes/{programme_a.pk}/enrol/").status_code == 403
    assert c.get(f"/enrolments/{enrolment_a.pk}/outcome/").status_code == 403
    assert c.get(f"/programmes/{programme_a.pk}/edit/").status_code == 403


def test_outsider_gets_404_everywhere(page_as, outsider_supervisor, session_a, enrolment_a):
    c = page_as(outsider_supervisor)
    for url in (
        f"/programmes/{session_a.programme_id}/",
        f"/programmes/{session_a.programme_id}/sessions/new/",
        f"/programmes/{session_a.programme_id}/enrol/",
        f"/sessions/{session_a.pk}/attendance/",
        f"/enrolments/{enrolment_a.pk}/outcome/",
    ):
        assert c.get(url).status_code == 404, url


def test_supervisor_creates_programme_enrols_and_records_outcome(page_as, supervisor, worker, group_a1, client_a):
    c = page_as(supervisor)
    start = client_a.consent_date
    r = c.post("/programmes/new/", {"kind": "skills", "name": "Pelatihan barista", "start_date": start.isoformat(),
                                    "facilitator": worker.pk, "partner": "Kopi Gamalama",
                                    "support_group": group_a1.pk})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    programme = Programme.objects.get(name="Pelatihan barista")
    r = c.post(f"/programmes/{programme.pk}/enrol/", {"client": client_a.pk, "enrolled_on": start.isoformat(),
                                                     "income_before": "none"})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    enrolment = Enrolment.objects.get(programme=programme)
    done = start + datetime.timedelta(days=40)
    r = c.post(f"/enrolments/{enrolment.pk}/outcome/", {"outcome": "completed", "outcome_on": done.isoformat(),
               "business_started": "false", "income_before": "none", "income_after": "1-2M",
               "employed": "true"})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    enrolment.refresh_from_db()
    assert (enrolment.outcome, enrolment.outcome_on, enrolment.business_started, enrolment.employed) == (
        "completed", done, False, True,
    )  # fmt: skip
    # an outcome before the enrolment: the friendly error, nothing changed
    r = c.post(f"/enrolments/{enrolment.pk}/outcome/", {"outcome": "dropped",
               "outcome_on": (start - datetime.timedelta(days=1)).isoformat(), "business_started": "unknown",
               "income_before": "none", "income_after": "", "employed": "unknown"})  # fmt: skip
    assert r.status_code == 200 and 'id="id_outcome_on_error"' in r.content.decode()


def test_programme_with_facilitator_of_another_site_is_refused(page_as, admin_user, site_a, outsider_worker):
    r = page_as(admin_user).post("/programmes/new/", {"site": site_a.pk, "kind": "education", "name": "Penyuluhan",
                                                      "start_date": "2026-11-01",
                                                      "facilitator": outsider_worker.pk})  # fmt: skip
    assert r.status_code == 200 and 'id="id_facilitator_error"' in r.content.decode()


def test_national_page_for_admins_only_and_without_identities(page_as, admin_user, supervisor, session_a, client_a):
    r = page_as(admin_user).get("/national/")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'data-site="TTE"' in body
    assert client_a.code not in body and client_a.full_name not in body
    assert page_as(supervisor).get("/national/").status_code == 404


def test_client_page_timeline_shows_programmes(page_as, worker, session_a, client_a):
    body = page_as(worker).get(f"/clients/{client_a.pk}/").content.decode()
    assert body.count(f'href="/programmes/{session_a.programme_id}/"') == 2  # the enrolment and the session
    assert "Pembukuan sederhana" in body
