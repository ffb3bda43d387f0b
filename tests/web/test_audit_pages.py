"""The accountability pages: a client's access log for the site's supervisors, emergency
access by code with a reason, and its review list (SPEC §7)."""

import pytest

from cases.models import AccessLog, ClientUserObjectPermission, Notification

pytestmark = pytest.mark.django_db


def test_supervisor_reads_a_clients_access_log(page_as, worker, supervisor, client_a, django_assert_max_num_queries):
    page_as(worker).get(f"/clients/{client_a.pk}/")  # a read to find in the log
    c = page_as(supervisor)
    for _ in range(3):  # more entries must not mean more queries
        page_as(worker).get(f"/clients/{client_a.pk}/")
    with django_assert_max_num_queries(8):
        r = c.get(f"/clients/{client_a.pk}/access-log/")
    assert r.status_code == 200
    body = r.content.decode()
    assert worker.get_full_name() in body or worker.username in body
    assert AccessLog.objects.filter(client_id=client_a.pk, action="read", user=worker).count() == 4
    assert body.count("<tr>") >= 1 + 4  # heading row and the worker's reads
    assert f"/clients/{client_a.pk}/access-log/" in c.get(f"/clients/{client_a.pk}/").content.decode()


@pytest.mark.parametrize(
    "persona, status",
    [
        ("admin_user", 200),
        ("worker", 403),  # reaches the client, not its log
        ("volunteer", 403),
        ("facility_staff", 404),
        ("outsider_supervisor", 404),
        ("colleague", 404),
    ],
)
def test_who_reads_the_access_log(request, page_as, client_a, persona, status):
    r = page_as(request.getfixturevalue(persona)).get(f"/clients/{client_a.pk}/access-log/")
    assert r.status_code == status
    if persona == "worker":
        assert (
            "access-log"
            not in page_as(request.getfixturevalue(persona)).get(f"/clients/{client_a.pk}/").content.decode()
        )


def test_emergency_access_by_code_with_a_reason(page_as, colleague, client_a, supervisor):
    c = page_as(colleague)
    assert c.get(f"/clients/{client_a.pk}/").status_code == 404
    r = c.post("/emergency-access/", {"code": client_a.code.lower(), "reason": "Klien dibawa ke IGD tanpa pendamping"})
    assert r.status_code == 302 and r.url == f"/clients/{client_a.pk}/"
    assert c.get(f"/clients/{client_a.pk}/").status_code == 200
    entry = AccessLog.objects.get(action="break_glass")
    assert (entry.user, entry.client_id, entry.reason) == (
        colleague,
        client_a.pk,
        "Klien dibawa ke IGD tanpa pendamping",
    )
    assert Notification.objects.filter(kind="break_glass", recipient_user=supervisor).count() == 1

    review = page_as(supervisor).get("/emergency-access/review/")
    assert review.status_code == 200
    body = review.content.decode()
    assert client_a.code in body and "Klien dibawa ke IGD tanpa pendamping" in body


def test_emergency_access_form_errors_keep_what_was_typed(page_as, colleague, client_a, client_b):
    c = page_as(colleague)
    r = c.post("/emergency-access/", {"code": client_a.code, "reason": "cepat"})
    assert r.status_code == 200
    assert 'id="id_reason_error"' in r.content.decode() and "cepat" in r.content.decode()
    # Another site's client is as unknown as a code that does not exist.
    for code in (client_b.code, "TTE-1999-9999"):
        r = c.post("/emergency-access/", {"code": code, "reason": "Klien dibawa ke IGD tanpa pendamping"})
        assert r.status_code == 200
        assert 'id="id_code_error"' in r.content.decode()
    assert not ClientUserObjectPermission.objects.filter(kind="break_glass").exists()
    assert not AccessLog.objects.filter(action="break_glass").exists()


def test_own_client_opens_without_emergency_access(page_as, worker, client_a):
    r = page_as(worker).post("/emergency-access/", {"code": client_a.code, "reason": "Klien dibawa ke IGD"})
    assert r.status_code == 302 and r.url == f"/clients/{client_a.pk}/"
    assert not AccessLog.objects.filter(action="break_glass").exists()


@pytest.mark.parametrize("persona", ["volunteer", "facility_staff", "admin_user"])
def test_emergency_access_is_for_social_workers_and_supervisors(request, page_as, persona, client_a):
    c = page_as(request.getfixturevalue(persona))
    assert c.get("/emergency-access/").status_code == 404
    assert c.post("/emergency-access/", {"code": client_a.code, "reason": "Klien dibawa ke IGD"}).status_code == 404


@pytest.mark.parametrize("persona, status", [("worker", 403), ("volunteer", 403), ("admin_user", 200)])
def test_who_reviews_emergency_access(request, page_as, persona, status):
    assert page_as(request.getfixturevalue(persona)).get("/emergency-access/review/").status_code == status


def test_review_shows_only_the_supervisors_site(page_as, outsider_supervisor, colleague, client_a):
    page_as(colleague).post("/emergency-access/", {"code": client_a.code, "reason": "Klien dibawa ke IGD sekarang"})
    assert AccessLog.objects.filter(action="break_glass").count() == 1
    body = page_as(outsider_supervisor).get("/emergency-access/review/").content.decode()
    assert client_a.code not in body and "Klien dibawa ke IGD" not in body
