"""Referral pages × role: reach, 404 outside it, the steps each side is offered, forms that
keep what was typed and put errors at their fields, query budgets."""

import datetime
import re

import pytest
from django.utils import timezone

from cases.models import Client, FacilityKind, Role
from referrals import services
from referrals.models import Referral, ReferralStatus
from tests.factories import FacilityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sharing_client_a(client_a):
    """client_a, consenting to sharing with outside facilities (a clinic may receive them)."""
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    client_a.refresh_from_db()
    return client_a


@pytest.fixture
def facility_c(site_a):
    return FacilityFactory(site=site_a, name="Puskesmas Kota", kind=FacilityKind.PUSKESMAS)


@pytest.fixture
def facility_c_staff(facility_c):
    """Staff of another facility: none of facility_a's referrals are theirs."""
    return UserFactory(username="clinic_c", role=Role.FACILITY_STAFF, site=facility_c.site, facility=facility_c)


@pytest.fixture
def make_referral(volunteer, facility_a, sharing_client_a):
    """A referral of client_a to facility_a by the volunteer, taken to `status`."""

    def _make(status=ReferralStatus.DRAFT, *, actor=None, facility=None, **fields):
        actor = actor or volunteer
        referral = services.referral_create(
            actor=actor,
            client=sharing_client_a,
            to_facility=facility or facility_a,
            service=fields.pop("service", "vct"),
            reason=fields.pop("reason", "Perlu tes VCT"),
            **fields,
        )
        steps = {
            ReferralStatus.DRAFT: [],
            ReferralStatus.SENT: ["send"],
            ReferralStatus.ACCEPTED: ["send", "accept"],
            ReferralStatus.COMPLETED: ["send", "accept", "complete"],
            ReferralStatus.CANCELLED: ["cancel"],
        }[status]
        for action in steps:
            referral = services.referral_transition(
                action=action, referral=referral, actor=actor, reason="r", outcome="o"
            )
        return referral

    return _make


def detail(page_as, user, referral):
    return page_as(user).get(f"/referrals/{referral.pk}/")


def shown_actions(body):
    return {a for a in services.ACTIONS if f'id="form-{a}"' in body}


def test_anonymous_is_sent_to_sign_in(client):
    for path in ("/referrals/", "/referrals/new/", "/referrals/1/"):
        r = client.get(path)
        assert r.status_code == 302 and r.url.startswith("/login/"), path
    r = client.post("/referrals/1/send/")
    assert r.status_code == 302 and r.url.startswith("/login/")


# persona: (status code, actions offered) for a sent referral of client_a to facility_a
SENT_MATRIX = {
    "volunteer": (200, {"cancel"}),
    "worker": (200, {"cancel"}),
    "supervisor": (200, {"cancel"}),
    "admin_user": (200, {"accept", "decline", "cancel"}),
    "facility_staff": (200, {"accept", "decline"}),
    "facility_c_staff": (404, set()),
    "colleague": (404, set()),
    "other_volunteer": (404, set()),
    "outsider_supervisor": (404, set()),
}


@pytest.mark.parametrize("persona", SENT_MATRIX)
def test_sent_referral_page_per_role(request, page_as, make_referral, persona):
    referral = make_referral(ReferralStatus.SENT)
    status, actions = SENT_MATRIX[persona]
    r = detail(page_as, request.getfixturevalue(persona), referral)
    assert r.status_code == status
    if status == 200:
        body = r.content.decode()
        assert shown_actions(body) == actions
        assert "no-store" in r["Cache-Control"]


# persona: (status code, actions offered) for a draft and for an accepted referral
@pytest.mark.parametrize(
    "persona, draft, accepted",
    [
        ("volunteer", (200, {"send", "cancel"}), (200, {"cancel"})),
        ("worker", (200, {"send", "cancel"}), (200, {"cancel"})),
        ("supervisor", (200, {"send", "cancel"}), (200, {"cancel"})),
        # Nothing reaches the facility before it is sent.
        ("facility_staff", (404, set()), (200, {"complete"})),
        ("facility_c_staff", (404, set()), (404, set())),
        ("outsider_supervisor", (404, set()), (404, set())),
    ],
)
def test_actions_follow_state_and_side(request, page_as, make_referral, persona, draft, accepted):
    user = request.getfixturevalue(persona)
    for referral, (status, actions) in (
        (make_referral(ReferralStatus.DRAFT), draft),
        (make_referral(ReferralStatus.ACCEPTED), accepted),
    ):
        r = detail(page_as, user, referral)
        assert r.status_code == status, referral.status
        if status == 200:
            assert shown_actions(r.content.decode()) == actions, referral.status


def test_closed_referral_offers_no_step(page_as, make_referral, volunteer, facility_staff):
    referral = make_referral(ReferralStatus.COMPLETED)
    for user in (volunteer, facility_staff):
        body = detail(page_as, user, referral).content.decode()
        assert shown_actions(body) == set()
        assert 'id="h-actions"' not in body


def test_facility_sees_only_the_minimum(page_as, make_referral, facility_staff, volunteer, sharing_client_a):
    referral = make_referral(ReferralStatus.SENT)
    body = detail(page_as, facility_staff, referral).content.decode()
    assert sharing_client_a.code in body and "Siti" in body and "Perlu tes VCT" in body
    for secret in ("Siti Rahmawati", "8271015705900001", "Jl. Pahlawan", "+6281240000001", "KDS Sahabat"):
        assert secret not in body, secret
    assert volunteer.username not in body  # not the sender
    assert f"/clients/{sharing_client_a.pk}/" not in body  # no way to the client page
    assert f"/referrals/{referral.pk}/slip/" not in body and "/r/" not in body  # no bearer link


def test_sender_sees_slip_once_sent_and_not_after_cancel(page_as, make_referral, volunteer, worker):
    draft = make_referral(ReferralStatus.DRAFT)
    assert f"/referrals/{draft.pk}/slip/" not in detail(page_as, volunteer, draft).content.decode()
    sent = make_referral(ReferralStatus.SENT)
    for user in (volunteer, worker):
        body = detail(page_as, user, sent).content.decode()
        assert f"/referrals/{sent.pk}/slip/" in body
        assert volunteer.username in body or volunteer.get_full_name() in body  # the sender is named
    cancelled = make_referral(ReferralStatus.CANCELLED)
    assert f"/referrals/{cancelled.pk}/slip/" not in detail(page_as, volunteer, cancelled).content.decode()


def test_out_of_range_ids_are_404(page_as, volunteer):
    c = page_as(volunteer)
    assert c.get("/referrals/999999999999999999/").status_code == 404
    assert c.get("/referrals/9999999999999999999/").status_code == 404
    assert c.post("/referrals/999999999999999999/send/").status_code == 404


# --- the boxes ------------------------------------------------------------------------------------


def test_outbox_inbox_and_filters(page_as, make_referral, volunteer, worker, facility_staff, facility_c_staff):
    draft = make_referral(ReferralStatus.DRAFT)
    sent = make_referral(ReferralStatus.SENT)
    by_worker = make_referral(ReferralStatus.SENT, actor=worker, reason="Rujukan pekerja sosial")

    def listed(user, **params):
        r = page_as(user).get("/referrals/", params)
        assert r.status_code == 200
        return {int(i) for i in _ids(r.content.decode())}

    # The volunteer's outbox: what they drafted or sent, not the worker's.
    assert listed(volunteer) == {draft.pk, sent.pk}
    assert listed(volunteer, box="all") == {draft.pk, sent.pk, by_worker.pk}
    assert listed(volunteer, status="draft") == {draft.pk}
    assert listed(worker) == {by_worker.pk}
    # The facility inbox: sent to the facility; drafts never reach it; the box is not theirs to pick.
    assert listed(facility_staff) == {sent.pk, by_worker.pk}
    assert listed(facility_staff, box="outbox") == {sent.pk, by_worker.pk}
    assert listed(facility_staff, status="sent") == {sent.pk, by_worker.pk}
    assert listed(facility_staff, status="accepted") == set()
    assert listed(facility_c_staff) == set()
    assert listed(volunteer, status="bogus") == set()


def _ids(body):
    return re.findall(r'href="/referrals/([0-9]+)/"', body)


def test_overdue_badge_and_filter(page_as, make_referral, volunteer, facility_staff):
    late = make_referral(ReferralStatus.SENT)
    fresh = make_referral(ReferralStatus.SENT)
    Referral.objects.filter(pk=late.pk).update(sent_at=timezone.now() - datetime.timedelta(days=4))
    body = page_as(facility_staff).get("/referrals/", {"overdue": "on"}).content.decode()
    assert {int(i) for i in _ids(body)} == {late.pk}
    assert "text-bg-danger" in body
    body = detail(page_as, volunteer, late).content.decode()
    assert "text-bg-danger" in body
    assert "text-bg-danger" not in detail(page_as, volunteer, fresh).content.decode()


@pytest.mark.parametrize("rows", [1, 12])
def test_list_query_budget(page_as, make_referral, volunteer, facility_staff, rows, django_assert_max_num_queries):
    for _ in range(rows):
        make_referral(ReferralStatus.SENT)
    for user in (volunteer, facility_staff):
        c = page_as(user)
        # session, user, site, site time zones (overdue), count, page rows (client and
        # facility joined), unread count
        with django_assert_max_num_queries(7):
            r = c.get("/referrals/")
        assert r.status_code == 200
        assert len(_ids(r.content.decode())) == rows


@pytest.mark.parametrize("persona", ["volunteer", "facility_staff"])
def test_detail_query_budget(request, page_as, make_referral, persona, django_assert_max_num_queries):
    referral = make_referral(ReferralStatus.ACCEPTED)
    c = page_as(request.getfixturevalue(persona))
    # session, user, site, access check, site time zones, row (client, facility, sender
    # joined), events (with actors), the side's check (can_send or can_respond), unread count
    with django_assert_max_num_queries(9):
        r = c.get(f"/referrals/{referral.pk}/")
    assert r.status_code == 200
    assert r.content.decode().count('class="list-group-item"') == 3  # draft, sent, accepted


# --- a new draft ----------------------------------------------------------------------------------


def test_new_referral_for_a_client(page_as, volunteer, sharing_client_a, facility_a, group_a1):
    c = page_as(volunteer)
    r = c.get("/referrals/new/", {"client": sharing_client_a.pk})
    assert r.status_code == 200
    assert sharing_client_a.code in r.content.decode()
    data = {
        "client": sharing_client_a.pk,
        "to_facility": facility_a.pk,
        "service": "vct",
        "reason": "Perlu tes VCT",
        "urgency": "high",
    }
    r = c.post(f"/referrals/new/?client={sharing_client_a.pk}", data)
    referral = Referral.objects.get()
    assert r.status_code == 302 and r.url == f"/referrals/{referral.pk}/"
    assert (referral.status, referral.from_user, referral.from_group) == ("draft", volunteer, group_a1)
    assert referral.events.count() == 1


@pytest.mark.parametrize("persona", ["facility_staff", "other_volunteer", "colleague", "outsider_supervisor"])
def test_new_referral_out_of_reach_is_404(request, page_as, persona, client_a):
    c = page_as(request.getfixturevalue(persona))
    assert c.get("/referrals/new/", {"client": client_a.pk}).status_code == 404
    for junk in ("x", "-1", "9" * 25):
        assert c.get("/referrals/new/", {"client": junk}).status_code == 404, junk
    if persona == "facility_staff":
        assert c.get("/referrals/new/").status_code == 404
        assert c.post("/referrals/new/", {"client": client_a.pk}).status_code == 404
    assert not Referral.objects.exists()


def test_new_referral_keeps_input_and_puts_errors_at_fields(page_as, volunteer, sharing_client_a, facility_a):
    c = page_as(volunteer)
    url = f"/referrals/new/?client={sharing_client_a.pk}"
    # The form's own check: the reason is required.
    r = c.post(url, {"client": sharing_client_a.pk, "to_facility": facility_a.pk, "service": "vct", "reason": ""})
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="id_reason_error"' in body and 'aria-invalid="true"' in body
    # The service's checks: a service the clinic does not offer, a due date in the past.
    yesterday = timezone.localdate() - datetime.timedelta(days=2)
    data = {
        "client": sharing_client_a.pk,
        "to_facility": facility_a.pk,
        "service": "legal_aid",
        "reason": "Butuh pendampingan hukum",
        "urgency": "normal",
        "due_date": yesterday.isoformat(),
    }
    body = c.post(url, data).content.decode()
    assert 'id="id_service_error"' in body and 'id="id_due_date_error"' in body
    assert "Butuh pendampingan hukum" in body  # what was typed is kept
    assert not Referral.objects.exists()


# --- the steps ------------------------------------------------------------------------------------


def test_send_accept_complete_through_the_pages(page_as, make_referral, volunteer, facility_staff):
    referral = make_referral(ReferralStatus.DRAFT)
    sender, clinic = page_as(volunteer), page_as(facility_staff)
    r = sender.post(f"/referrals/{referral.pk}/send/", {"note": ""})
    assert r.status_code == 302 and r.url == f"/referrals/{referral.pk}/"
    assert clinic.post(f"/referrals/{referral.pk}/accept/", {}).status_code == 302
    r = clinic.post(f"/referrals/{referral.pk}/complete/", {"result": "not_completed", "outcome": "Tidak datang"})
    assert r.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("not_completed", "Tidak datang")
    body = sender.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Tidak datang" in body


def test_steps_of_the_other_side_are_refused(page_as, make_referral, volunteer, worker, facility_staff):
    draft, sent = make_referral(ReferralStatus.DRAFT), make_referral(ReferralStatus.SENT)
    # Out of reach: the facility cannot see a draft at all.
    assert page_as(facility_staff).post(f"/referrals/{draft.pk}/send/").status_code == 404
    # In reach, not their side: refused as the API refuses (403), nothing changes.
    assert page_as(worker).post(f"/referrals/{sent.pk}/accept/").status_code == 403
    assert page_as(facility_staff).post(f"/referrals/{sent.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert page_as(volunteer).get(f"/referrals/{sent.pk}/send/").status_code == 405
    assert page_as(volunteer).post(f"/referrals/{sent.pk}/bogus/").status_code == 404
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_decline_and_cancel_need_a_reason(page_as, make_referral, volunteer, facility_staff):
    sent = make_referral(ReferralStatus.SENT)
    r = page_as(facility_staff).post(f"/referrals/{sent.pk}/decline/", {"reason": "  ", "note": "catatan"})
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="id_decline_reason_error"' in body
    assert "catatan" in body  # the note typed is kept
    r = page_as(volunteer).post(f"/referrals/{sent.pk}/cancel/", {"reason": ""})
    assert 'id="id_cancel_reason_error"' in r.content.decode()
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_complete_needs_an_outcome_and_a_result(page_as, make_referral, facility_staff):
    accepted = make_referral(ReferralStatus.ACCEPTED)
    c = page_as(facility_staff)
    body = c.post(f"/referrals/{accepted.pk}/complete/", {"result": "completed", "outcome": ""}).content.decode()
    assert 'id="id_complete_outcome_error"' in body
    body = c.post(f"/referrals/{accepted.pk}/complete/", {"result": "bogus", "outcome": "ok"}).content.decode()
    assert 'id="id_complete_result_error"' in body
    accepted.refresh_from_db()
    assert accepted.status == "accepted"


def test_illegal_step_is_a_clear_message(page_as, make_referral, facility_staff, volunteer):
    completed = make_referral(ReferralStatus.COMPLETED)
    r = page_as(facility_staff).post(f"/referrals/{completed.pk}/accept/", follow=True)
    body = r.content.decode()
    assert r.status_code == 200
    assert 'class="alert alert-danger"' in body and "Selesai" in body
    r = page_as(volunteer).post(f"/referrals/{completed.pk}/cancel/", {"reason": "x"}, follow=True)
    assert 'class="alert alert-danger"' in r.content.decode()
    completed.refresh_from_db()
    assert completed.status == "completed"


def test_send_without_consent_is_a_message_not_a_crash(page_as, client_a, volunteer, facility_a, centre_service):
    referral = services.referral_create(
        actor=volunteer, client=client_a, to_facility=facility_a, service="vct", reason="Perlu tes VCT"
    )
    r = page_as(volunteer).post(f"/referrals/{referral.pk}/send/", {})
    body = r.content.decode()
    assert r.status_code == 200
    assert 'class="alert alert-danger"' in body and "setuju" in body
    referral.refresh_from_db()
    assert referral.status == "draft"
    # To a centre service consent to share is not needed.
    to_centre = services.referral_create(
        actor=volunteer, client=client_a, to_facility=centre_service, service="counselling", reason="Konseling"
    )
    assert page_as(volunteer).post(f"/referrals/{to_centre.pk}/send/").status_code == 302


@pytest.fixture
def centre_service(site_a):
    return FacilityFactory(site=site_a, name="Layanan Konseling Sentra", kind=FacilityKind.CENTRE_SERVICE, services=[])


def test_nav_and_refer_button_templates(page_as, volunteer, client_a):
    from django.template.loader import render_to_string

    body = page_as(volunteer).get("/").content.decode()
    assert 'href="/referrals/"' in body
    html = render_to_string("web/referrals/_refer_button.html", {"can_refer": True, "client": client_a})
    assert f'href="/referrals/new/?client={client_a.pk}"' in html
    assert render_to_string("web/referrals/_refer_button.html", {"can_refer": False, "client": client_a}).strip() == ""


def test_refer_button_and_menu_follow_the_policy(client, worker, supervisor, colleague, client_a):
    from django.utils import timezone

    from cases import services as case_services

    client.force_login(worker)
    page = client.get(f"/clients/{client_a.pk}/").content.decode()
    assert f"/referrals/new/?client={client_a.pk}" in page and 'href="/referrals/"' in page
    case_services.client_share(actor=supervisor, client=client_a, user=colleague, until=timezone.localdate())
    client.force_login(colleague)  # a read-only share refers nothing
    page = client.get(f"/clients/{client_a.pk}/").content.decode()
    assert f"/referrals/new/?client={client_a.pk}" not in page
