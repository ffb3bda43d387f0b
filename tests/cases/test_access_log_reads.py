"""Every client row a user receives is a read, and bulk writes are logged (SPEC §12.5)."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client as BrowserClient

from cases import outbox
from cases.arv import services as arv_services
from cases.models import AccessLog, Client, Tracing
from tests.factories import make_client


@pytest.fixture
def page_as():
    def _as(user):
        c = BrowserClient()
        c.force_login(user)
        return c

    return _as


def reads(user, kind=None):
    qs = AccessLog.objects.filter(user=user, action="read")
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def test_a_list_page_logs_each_row_it_returns_as_a_list_read(as_user, supervisor, worker, group_a1, client_a):
    others = [make_client(actor=supervisor, full_name=f"Klien {i}", support_groups=[group_a1]) for i in range(3)]
    r = as_user(supervisor).get("/api/v1/clients/?page_size=2", REMOTE_ADDR="10.9.8.7")
    assert r.status_code == 200
    shown = {row["id"] for row in r.json()["results"]}
    logged = reads(supervisor, "list")
    assert set(logged.values_list("client_id", flat=True)) == shown and logged.count() == 2
    assert set(logged.values_list("object_type", "ip")) == {("cases.client.list", "10.9.8.7")}
    # The rest of the site, not sent, is not logged as read.
    assert not reads(supervisor).filter(client_id__in=[c.pk for c in others if c.pk not in shown]).exists()


def test_a_search_that_finds_nothing_logs_nothing(as_user, supervisor, client_a):
    as_user(supervisor).get("/api/v1/clients/?q=tidak-ada")
    assert not reads(supervisor).exists()


def test_the_answer_to_a_write_is_a_read(as_user, worker, client_a):
    r = as_user(worker).patch(f"/api/v1/clients/{client_a.pk}/", {"nickname": "Ti"}, format="json")
    assert r.status_code == 200
    assert reads(worker, "detail").filter(client_id=client_a.pk, object_type="cases.client.write").count() == 1


def test_a_registration_answer_is_a_read(as_user, worker, site_a):
    r = as_user(worker).post(
        "/api/v1/clients/",
        {"full_name": "Baru Sekali", "sex": "F", "date_of_birth": "1990-01-01", "consent_date": "2026-11-01"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert reads(worker, "detail").filter(client_id=r.json()["id"]).exists()


def test_web_list_and_edit_form_are_reads(page_as, worker, client_a):
    c = page_as(worker)
    assert c.get("/clients/").status_code == 200
    assert reads(worker, "list").filter(client_id=client_a.pk).count() == 1
    assert c.get(f"/clients/{client_a.pk}/edit/").status_code == 200
    assert reads(worker, "detail").filter(client_id=client_a.pk, object_type="cases.client.form").count() == 1


def test_today_page_logs_the_clients_it_names(page_as, worker, client_a, facility_a):
    arv_services.refill_record(
        actor=worker,
        client=client_a,
        facility=facility_a,
        pickup_date=datetime.date.today() - datetime.timedelta(days=40),
        days_supplied=30,
    )
    assert page_as(worker).get("/").status_code == 200
    assert reads(worker, "list").filter(client_id=client_a.pk, object_type="cases.client.today").exists()


def test_admin_pages_are_reads(admin_user, client_a):
    c = BrowserClient()
    c.force_login(admin_user)
    assert c.get("/admin/cases/client/").status_code == 200
    assert reads(admin_user, "list").filter(client_id=client_a.pk, object_type="cases.client.admin").count() == 1
    assert c.get(f"/admin/cases/client/{client_a.pk}/change/").status_code == 200
    assert reads(admin_user, "detail").filter(client_id=client_a.pk).count() == 1


@pytest.fixture
def lapsed(client_a, worker, facility_a):
    arv_services.refill_record(
        actor=worker, client=client_a, facility=facility_a, pickup_date=datetime.date(2026, 9, 1), days_supplied=30
    )
    return client_a


def test_the_scan_logs_the_tracing_it_opens_and_the_ltfu_it_marks(lapsed):
    outbox.run_all(today=datetime.date(2026, 10, 8))
    tracing = Tracing.objects.get(client=lapsed)
    assert AccessLog.objects.filter(
        action="create", object_type="cases.tracing", object_id=str(tracing.pk), client_id=lapsed.pk
    ).exists()
    outbox.run_all(today=datetime.date(2026, 10, 29))
    lapsed.refresh_from_db()
    assert lapsed.status == "ltfu"
    entry = AccessLog.objects.get(action="update", object_type="cases.client", client_id=lapsed.pk, fields=["status"])
    assert entry.user is None  # the engine, not a person
    before = AccessLog.objects.count()
    outbox.run_all(today=datetime.date(2026, 10, 29))
    assert AccessLog.objects.count() == before  # a second run changes and logs nothing


def test_a_refill_closing_tracing_and_a_claim_are_logged(lapsed, worker, facility_a):
    outbox.run_all(today=datetime.date(2026, 10, 8))
    tracing = Tracing.objects.get(client=lapsed)
    arv_services.tracing_claim(actor=worker, tracing=tracing)
    assert AccessLog.objects.filter(
        action="update", object_type="cases.tracing", object_id=str(tracing.pk), fields=["claimed_at", "claimed_by"]
    ).exists()
    arv_services.refill_record(
        actor=worker, client=lapsed, facility=facility_a, pickup_date=datetime.date(2026, 10, 9), days_supplied=30
    )
    assert AccessLog.objects.filter(
        action="update",
        object_type="cases.tracing",
        object_id=str(tracing.pk),
        fields=["close_reason", "closed_on", "status"],
    ).exists()


def test_a_final_tracing_outcome_logs_the_client_status(lapsed, worker):
    outbox.run_all(today=datetime.date(2026, 10, 8))
    tracing = Tracing.objects.get(client=lapsed)
    arv_services.tracing_record_attempt(actor=worker, tracing=tracing, method="home", outcome="deceased")
    assert Client.objects.get(pk=lapsed.pk).status == "deceased"
    assert AccessLog.objects.filter(
        action="update", object_type="cases.client", client_id=lapsed.pk, fields=["status"]
    ).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_truncate_of_the_access_log_is_refused(client_a):
    with connection.cursor() as cursor:
        cursor.execute("SET basodara.allow_access_log_truncate = off")
        try:
            with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
                cursor.execute("TRUNCATE cases_accesslog")
        finally:
            cursor.execute("SET basodara.allow_access_log_truncate = on")
    assert AccessLog.objects.exists()


# --- records that name clients (ClientReadsLogged) ---------------------------------------------


def test_a_record_list_logs_the_clients_its_rows_name_in_one_insert(as_user, worker, client_a, facility_a):
    today = datetime.date.today()
    for days in (60, 30):
        arv_services.refill_record(
            actor=worker,
            client=client_a,
            facility=facility_a,
            pickup_date=today - datetime.timedelta(days=days),
            days_supplied=30,
        )
    api = as_user(worker)
    r = api.get("/api/v1/refills/")
    assert r.status_code == 200 and len(r.json()["results"]) == 2
    # Two rows of one client: one read of that client, kind list.
    logged = reads(worker, "list")
    assert list(logged.values_list("client_id", "object_type")) == [(client_a.pk, "cases.client.refill")]
    refill = r.json()["results"][0]["id"]
    assert api.get(f"/api/v1/refills/{refill}/").status_code == 200
    assert reads(worker, "detail").filter(client_id=client_a.pk, object_type="cases.client.refill").count() == 1


def test_the_answer_to_a_record_write_is_a_read(as_user, worker, client_a, facility_a):
    r = as_user(worker).post(
        "/api/v1/refills/",
        {
            "client": client_a.pk,
            "facility": facility_a.pk,
            "pickup_date": str(datetime.date.today()),
            "days_supplied": 30,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert reads(worker, "detail").filter(client_id=client_a.pk, object_type="cases.client.refill").count() == 1


def test_a_meeting_logs_each_attendee_it_names_and_a_refusal_logs_nothing(
    as_user, volunteer, worker, group_a1, client_a
):
    api = as_user(volunteer)
    r = api.post(
        "/api/v1/meetings/",
        {"support_group": group_a1.pk, "date": str(datetime.date.today()), "topic": "ARV", "attendees": [client_a.pk]},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert list(reads(volunteer, "detail").values_list("client_id", "object_type")) == [
        (client_a.pk, "cases.client.meeting")
    ]
    # Refused (not found): nothing sent, nothing logged.
    assert as_user(worker).get("/api/v1/visits/999999/").status_code == 404
    assert not reads(worker).exists()
