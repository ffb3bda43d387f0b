"""Every page × role: reach, 404 outside it, forms that keep what was typed, query budgets."""

import datetime

import pytest
from django.utils import timezone

from cases.models import Notification, NotificationChannel, NotificationKind, NotificationStatus
from outreach import services as outreach_services
from outreach.models import HomeVisit, Incident, IncidentStatus
from tests.factories import PASSWORD, make_client

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_sign_in(client):
    for path in ("/clients/", "/incidents/", "/caseload/", "/notifications/", "/clients/1/"):
        r = client.get(path)
        assert r.status_code == 302 and r.url.startswith("/login/"), path
    assert client.get("/").status_code == 200  # the public welcome page


def test_login_success_and_clear_failure(client, worker):
    r = client.post("/login/", {"username": "worker_a", "password": "wrong"})
    assert r.status_code == 200
    assert 'class="alert alert-danger"' in r.content.decode()
    r = client.post("/login/", {"username": "worker_a", "password": PASSWORD})
    assert r.status_code == 302 and r.url == "/"


def test_logout_is_post_only(page_as, worker):
    c = page_as(worker)
    assert c.get("/logout/").status_code == 405
    assert c.post("/logout/").status_code == 302
    assert c.get("/clients/").status_code == 302


def test_today_for_social_worker(page_as, worker, late_client, django_assert_max_num_queries):
    c = page_as(worker)
    # session, user, site, unread count, visits due, late refills, tracing, incidents, and
    # due this week: actions given to them, reviews due, assessments due
    with django_assert_max_num_queries(13):
        r = c.get("/")
    assert r.status_code == 200
    body = r.content.decode()
    assert late_client.code in body
    assert r["Cache-Control"].startswith("max-age=0") and "no-store" in r["Cache-Control"]


@pytest.mark.parametrize(
    "persona", ["supervisor", "volunteer", "facility_staff", "admin_user", "colleague", "outsider_worker"]
)
def test_today_for_every_role(request, page_as, persona, late_client):
    user = request.getfixturevalue(persona)
    r = page_as(user).get("/")
    assert r.status_code == 200
    body = r.content.decode()
    if persona == "supervisor":
        assert "/caseload/" in body
    if persona in ("volunteer", "supervisor", "admin_user"):
        assert late_client.code in body
    if persona in ("colleague", "outsider_worker", "facility_staff"):
        assert late_client.code not in body


def test_client_list_scope_and_filters(page_as, worker, colleague, supervisor, late_client, site_a):
    other = make_client(actor=supervisor, full_name="Budi Santoso", nickname="Budi")
    body = page_as(worker).get("/clients/").content.decode()
    assert late_client.code in body and other.code not in body
    body = page_as(colleague).get("/clients/").content.decode()
    assert late_client.code not in body
    c = page_as(supervisor)
    body = c.get("/clients/", {"arv_state": "late"}).content.decode()
    assert late_client.code in body and other.code not in body
    body = c.get("/clients/", {"q": "Budi"}).content.decode()
    assert other.code in body and late_client.code not in body
    # The full name is not shown in lists.
    assert "Siti Rahmawati" not in c.get("/clients/").content.decode()
    assert c.get("/clients/", {"arv_state": "bogus"}).status_code == 200


@pytest.mark.parametrize("rows", [1, 12])
def test_client_list_query_budget(page_as, supervisor, rows, django_assert_max_num_queries):
    for i in range(rows):
        make_client(actor=supervisor, full_name=f"Klien {i}")
    c = page_as(supervisor)
    # session, user, site, site time zones, count, page rows, the access log's insert, unread count
    with django_assert_max_num_queries(8):
        r = c.get("/clients/")
    assert r.status_code == 200


def test_client_page_fields_by_role(page_as, worker, volunteer, late_client):
    body = page_as(worker).get(f"/clients/{late_client.pk}/").content.decode()
    assert "Siti Rahmawati" in body and "8271015705900001" in body
    body = page_as(volunteer).get(f"/clients/{late_client.pk}/").content.decode()
    assert "8271015705900001" not in body and "Jl. Pahlawan" not in body


@pytest.mark.parametrize("persona", ["colleague", "other_volunteer", "facility_staff", "outsider_supervisor"])
def test_client_pages_out_of_reach_are_404(request, page_as, persona, client_a):
    c = page_as(request.getfixturevalue(persona))
    for path in ("", "edit/", "visits/new/", "refills/new/"):
        assert c.get(f"/clients/{client_a.pk}/{path}").status_code == 404, path
    assert c.post(f"/clients/{client_a.pk}/assign/", {"social_worker": 1}).status_code == 404
    assert c.get("/clients/999999999999999999/").status_code == 404


def test_client_page_query_budget(page_as, worker, late_client, facility_a, django_assert_max_num_queries):
    for i in range(3):
        outreach_services.visit_record(
            actor=worker, client=late_client, kind="home_visit", visited_at=timezone.now() - datetime.timedelta(days=i)
        )
    # session, user, site, access check, row, groups, editable, records, timeline count + page
    # + one per event type, the access-log row, unread count, the assessments' scores
    c = page_as(worker)
    with django_assert_max_num_queries(18):
        r = c.get(f"/clients/{late_client.pk}/")
    assert r.status_code == 200
    assert r.content.decode().count("list-group-item") >= 4
    assert "no-store" in r["Cache-Control"]


def test_register_client_and_errors_keep_values(page_as, worker, site_a):
    c = page_as(worker)
    assert c.get("/clients/new/").status_code == 200
    data = {
        "full_name": "Rina Lestari",
        "nickname": "Rina",
        "sex": "M",
        "date_of_birth": "1995-02-03",
        "consent_date": "2026-01-05",
        "status": "active",
        "pregnant": "on",
        "family_disclosure": "unknown",
    }
    r = c.post("/clients/new/", data)
    assert r.status_code == 200
    body = r.content.decode()
    assert 'value="Rina Lestari"' in body
    assert 'id="id_pregnant_error"' in body and "is-invalid" in body
    assert 'aria-describedby="id_pregnant_error"' in body
    data.pop("pregnant")
    r = c.post("/clients/new/", data)
    assert r.status_code == 302


def test_facility_staff_cannot_register(page_as, facility_staff):
    assert page_as(facility_staff).get("/clients/new/").status_code == 404


def test_edit_client_with_stale_version_is_a_clear_conflict(page_as, worker, client_a):
    c = page_as(worker)
    r = c.get(f"/clients/{client_a.pk}/edit/")
    assert r.status_code == 200
    form = r.context["form"]
    assert "assigned_social_worker" not in form.fields
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: v for k, v in data.items() if v is not False}
    data["support_groups"] = [g.pk for g in client_a.support_groups.all()]
    data["nickname"] = "Sitti"
    data["version"] = client_a.version + 5
    r = c.post(f"/clients/{client_a.pk}/edit/", data)
    assert r.status_code == 200
    assert "changed by someone else" in r.content.decode() or "diubah" in r.content.decode()
    data["version"] = client_a.version
    r = c.post(f"/clients/{client_a.pk}/edit/", data)
    assert r.status_code == 302, r.context["form"].errors
    client_a.refresh_from_db()
    assert client_a.nickname == "Sitti"


def test_volunteer_edits_contact_fields_only(page_as, volunteer, client_a):
    r = page_as(volunteer).get(f"/clients/{client_a.pk}/edit/")
    assert set(r.context["form"].fields) == {"nickname", "phone", "version"}


def test_visit_form_kinds_and_errors(page_as, worker, volunteer, client_a):
    r = page_as(volunteer).get(f"/clients/{client_a.pk}/visits/new/")
    kinds = [v for v, _label in r.context["form"].fields["kind"].choices]
    assert set(kinds) == {"outreach", "phone"}
    c = page_as(worker)
    future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(
        f"/clients/{client_a.pk}/visits/new/", {"kind": "home_visit", "visited_at": future, "plan": "Datang lagi"}
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "Datang lagi" in body and 'id="id_visited_at_error"' in body
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    r = c.post(f"/clients/{client_a.pk}/visits/new/", {"kind": "home_visit", "visited_at": now})
    assert r.status_code == 302
    assert HomeVisit.objects.filter(client=client_a, visitor=worker).count() == 1


def test_refill_form(page_as, worker, client_a, facility_a):
    c = page_as(worker)
    today = timezone.localdate()
    r = c.post(
        f"/clients/{client_a.pk}/refills/new/",
        {
            "facility": facility_a.pk,
            "pickup_date": (today + datetime.timedelta(days=3)).isoformat(),
            "days_supplied": 30,
            "missed_doses": 0,
        },
    )
    assert r.status_code == 200 and 'id="id_pickup_date_error"' in r.content.decode()
    r = c.post(
        f"/clients/{client_a.pk}/refills/new/",
        {"facility": facility_a.pk, "pickup_date": today.isoformat(), "days_supplied": 30, "missed_doses": 0},
    )
    assert r.status_code == 302
    client_a.refresh_from_db()
    assert client_a.next_refill_due == today + datetime.timedelta(days=30)


def test_reassignment(page_as, supervisor, worker, colleague, client_a):
    assert page_as(worker).post(f"/clients/{client_a.pk}/assign/", {"social_worker": colleague.pk}).status_code == 403
    r = page_as(supervisor).post(f"/clients/{client_a.pk}/assign/", {"social_worker": colleague.pk})
    assert r.status_code == 302
    assert page_as(worker).get(f"/clients/{client_a.pk}/").status_code == 404
    assert page_as(colleague).get(f"/clients/{client_a.pk}/").status_code == 200


def _incident(actor, site, **fields):
    values = {"kind": "violence", "urgency": "critical", "reporter_name": "Ibu Ani", "description": "Diusir"}
    values.update(fields)
    return outreach_services.incident_report(actor=actor, site=site, **values)


def test_incident_board_and_moves(page_as, supervisor, worker, colleague, site_a):
    incident = _incident(supervisor, site_a, responders=[worker])
    body = page_as(colleague).get("/incidents/").content.decode()
    assert f"incident-{incident.pk}" in body and 'name="action"' not in body
    assert page_as(colleague).post(f"/incidents/{incident.pk}/move/", {"action": "acknowledge"}).status_code == 403
    c = page_as(worker)
    assert 'value="acknowledge"' in c.get("/incidents/").content.decode()
    assert c.post(f"/incidents/{incident.pk}/move/", {"action": "acknowledge"}).status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    r = c.post(f"/incidents/{incident.pk}/move/", {"action": "close"}, follow=True)
    assert r.status_code == 200 and 'class="alert alert-danger"' in r.content.decode()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED


def test_incident_out_of_reach(page_as, outsider_supervisor, facility_staff, supervisor, site_a):
    incident = _incident(supervisor, site_a)
    assert (
        page_as(outsider_supervisor).post(f"/incidents/{incident.pk}/move/", {"action": "acknowledge"}).status_code
        == 404
    )
    assert page_as(facility_staff).get("/incidents/new/").status_code == 404


def test_report_incident_form(page_as, volunteer, client_a):
    c = page_as(volunteer)
    r = c.post("/incidents/new/", {"kind": "violence", "urgency": "high", "description": "", "location": "Bastiong"})
    assert r.status_code == 200 and 'value="Bastiong"' in r.content.decode()
    r = c.post(
        "/incidents/new/", {"kind": "violence", "urgency": "high", "description": "Diancam", "client": client_a.pk}
    )
    assert r.status_code == 302
    assert Incident.objects.filter(client=client_a).exists()


@pytest.mark.parametrize("persona", ["worker", "volunteer", "facility_staff", "outsider_worker"])
def test_caseload_is_for_supervisors_only(request, page_as, persona):
    assert page_as(request.getfixturevalue(persona)).get("/caseload/").status_code == 404


def test_caseload_review(page_as, supervisor, admin_user, worker, late_client, django_assert_max_num_queries):
    c = page_as(supervisor)
    # session, user, site tz, groups, social workers, per-worker aggregate, cascade aggregate,
    # incidents, the four empowerment aggregates (programmes, sessions, enrolments, reached), unread count,
    # the case-management figures (open cases with plans, assessments for reviews, assessments for
    # domains, closures; the closure dates too when reviews fell due)
    with django_assert_max_num_queries(19):
        r = c.get("/caseload/")
    assert r.status_code == 200
    workers = r.context["workers"]
    assert [(w["worker_id"], w["clients"], w["late"]) for w in workers] == [(worker.pk, 1, 1)]
    assert r.context["cascade"]["stages"][0]["count"] == 1
    body = r.content.decode()
    for report in ("caseload", "cascade", "incidents"):
        assert f"/api/v1/reports/{report}/?site={late_client.site_id}&amp;from=" in body
    assert page_as(admin_user).get("/caseload/", {"site": late_client.site_id}).status_code == 200


def test_caseload_review_bad_filter_shows_at_its_field(page_as, supervisor, late_client):
    r = page_as(supervisor).get("/caseload/", {"from": "2026-05-01", "to": "2026-04-01"})
    assert r.status_code == 200
    assert 'id="f-from-error"' in r.content.decode()
    assert r.context["scope"].end >= r.context["scope"].start  # the default period instead


def _notify(user, text="Refill terlewat"):
    return Notification.objects.create(
        kind=NotificationKind.REFILL_MISSED,
        subject_type="client",
        subject_id=1,
        recipient_key=f"user:{user.pk}",
        recipient_user=user,
        channel=NotificationChannel.IN_APP,
        status=NotificationStatus.SENT,
        text=text,
        created_at=timezone.now(),
        deliver_after=timezone.now(),
    )


def test_notifications_badge_and_mark_read(page_as, worker, colleague):
    n = _notify(worker)
    c = page_as(worker)
    r = c.get("/notifications/")
    assert r.status_code == 200 and "Refill terlewat" in r.content.decode()
    assert 'text-bg-danger">1' in r.content.decode()
    assert page_as(colleague).post(f"/notifications/{n.pk}/read/").status_code == 404
    assert c.post(f"/notifications/{n.pk}/read/").status_code == 302
    n.refresh_from_db()
    assert n.read_at is not None
    assert 'text-bg-danger">1' not in c.get("/notifications/").content.decode()


def test_tracing_claim(page_as, worker, colleague, late_client):
    from cases.models import Tracing, TracingStatus

    late_client.refresh_from_db()
    tracing = Tracing.objects.create(
        client=late_client, refill=late_client.last_refill, opened_on=timezone.localdate(), status=TracingStatus.OPEN
    )
    assert page_as(colleague).post(f"/tracing/{tracing.pk}/claim/").status_code == 404
    assert page_as(worker).post(f"/tracing/{tracing.pk}/claim/").status_code == 302
    tracing.refresh_from_db()
    assert tracing.claimed_by == worker
