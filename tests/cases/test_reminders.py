"""Time travel through SPEC §6: before, on and after each offset, for each recipient."""

import datetime
import threading

import pytest
from django.db import connections
from django.utils import timezone

from cases import outbox
from cases.arv import services as arv_services
from cases.models import Client, Notification, NotificationStatus, Tracing
from cases.outbox import delivery
from tests.factories import UserFactory

PICKUP = datetime.date(2026, 9, 1)
DUE = PICKUP + datetime.timedelta(days=30)  # 2026-10-01


# Delivery happens in real time after the scan, so delivery clocks are set in the future.
DELIVERY_DAY = timezone.now().date() + datetime.timedelta(days=2)


def at(hour, minute=0):
    """A UTC instant on DELIVERY_DAY (Ternate is UTC+9)."""
    return datetime.datetime.combine(DELIVERY_DAY, datetime.time(hour, minute), tzinfo=datetime.UTC)


def day(offset):
    return DUE + datetime.timedelta(days=offset)


@pytest.fixture
def refilled(client_a, worker, facility_a):
    Client.objects.filter(pk=client_a.pk).update(consent_sms=True)
    client_a.refresh_from_db()
    arv_services.refill_record(actor=worker, client=client_a, facility=facility_a, pickup_date=PICKUP, days_supplied=30)
    client_a.refresh_from_db()
    return client_a


def sent_on(offset):
    """Run the scan as of DUE+offset and return the (kind, recipient_key) pairs it added."""
    before = set(Notification.objects.values_list("id", flat=True))
    outbox.run_all(today=day(offset))
    return {(n.kind, n.recipient_key) for n in Notification.objects.exclude(id__in=before)}


def keys(client, worker, volunteer, supervisor):
    return {
        "client": f"client:{client.pk}",
        "companion": f"user:{volunteer.pk}",
        "worker": f"user:{worker.pk}",
        "supervisor": f"user:{supervisor.pk}",
    }


def test_next_due_is_maintained(refilled):
    assert refilled.next_refill_due == DUE
    assert refilled.last_refill.next_due == DUE


def test_nothing_before_the_upcoming_window(refilled):
    assert sent_on(-4) == set()


@pytest.mark.parametrize("offset", [-3, -1, 0])
def test_upcoming_reaches_client_and_companion(refilled, worker, volunteer, supervisor, offset):
    k = keys(refilled, worker, volunteer, supervisor)
    assert sent_on(offset) == {("refill_upcoming", k["client"]), ("refill_upcoming", k["companion"])}


def test_upcoming_without_sms_consent_skips_the_client_only(refilled, worker, volunteer, supervisor):
    Client.objects.filter(pk=refilled.pk).update(consent_sms=False)
    assert sent_on(-3) == {("refill_upcoming", keys(refilled, worker, volunteer, supervisor)["companion"])}


def test_upcoming_without_phone_skips_the_client(refilled, worker, volunteer, supervisor):
    Client.objects.filter(pk=refilled.pk).update(phone="")
    assert sent_on(-2) == {("refill_upcoming", keys(refilled, worker, volunteer, supervisor)["companion"])}


def test_withdrawn_consent_stops_client_and_volunteer_reminders(refilled, worker, volunteer, supervisor):
    Client.objects.filter(pk=refilled.pk).update(consent_withdrawn_on=PICKUP)
    assert sent_on(-3) == set()
    assert sent_on(1) == {("refill_missed", keys(refilled, worker, volunteer, supervisor)["worker"])}


def test_nothing_on_the_due_day_after_upcoming_was_sent(refilled):
    sent_on(-3)
    assert sent_on(0) == set()


@pytest.mark.parametrize("offset", [1, 3, 6])
def test_missed_reaches_companion_and_worker(refilled, worker, volunteer, supervisor, offset):
    k = keys(refilled, worker, volunteer, supervisor)
    assert sent_on(offset) == {("refill_missed", k["companion"]), ("refill_missed", k["worker"])}


@pytest.mark.parametrize("offset", [7, 20, 27])
def test_tracing_due_reaches_worker_and_opens_tracing(refilled, worker, volunteer, supervisor, offset):
    assert sent_on(offset) == {("tracing_due", keys(refilled, worker, volunteer, supervisor)["worker"])}
    tracing = Tracing.objects.get(client=refilled)
    assert (tracing.status, tracing.opened_on, tracing.refill_id) == ("open", day(offset), refilled.last_refill_id)


def test_no_tracing_before_day_seven(refilled):
    sent_on(6)
    assert not Tracing.objects.exists()


@pytest.mark.parametrize("offset", [28, 40])
def test_ltfu_reaches_supervisors_and_sets_status(refilled, worker, volunteer, supervisor, site_a, offset):
    second = UserFactory(role="supervisor", site=site_a)
    UserFactory(role="supervisor", site=site_a, is_active=False)
    added = sent_on(offset)
    assert added == {("client_ltfu", f"user:{supervisor.pk}"), ("client_ltfu", f"user:{second.pk}")}
    refilled.refresh_from_db()
    assert refilled.status == "ltfu"


def test_day_27_is_not_yet_ltfu(refilled):
    sent_on(27)
    refilled.refresh_from_db()
    assert refilled.status == "active"


def test_site_settings_move_the_offsets(refilled, site_a, worker, volunteer, supervisor):
    site_a.refill_upcoming_days = 5
    site_a.ltfu_days = 60
    site_a.save()
    assert ("refill_upcoming", f"user:{volunteer.pk}") in sent_on(-5)
    sent_on(40)
    refilled.refresh_from_db()
    assert refilled.status == "active"


def test_full_walk_sends_each_reminder_once(refilled, worker, volunteer, supervisor):
    for offset in range(-6, 45):
        outbox.run_all(today=day(offset))
        outbox.run_all(today=day(offset))
    k = keys(refilled, worker, volunteer, supervisor)
    assert sorted(Notification.objects.values_list("kind", "recipient_key")) == sorted(
        [
            ("refill_upcoming", k["client"]),
            ("refill_upcoming", k["companion"]),
            ("refill_missed", k["companion"]),
            ("refill_missed", k["worker"]),
            ("tracing_due", k["worker"]),
            ("client_ltfu", k["supervisor"]),
        ]
    )
    assert Tracing.objects.count() == 1


def test_a_new_refill_rearms_the_reminders(refilled, worker, volunteer, facility_a):
    sent_on(-3)
    arv_services.refill_record(
        actor=worker, client=refilled, facility=facility_a, pickup_date=day(-1), days_supplied=60
    )
    refilled.refresh_from_db()
    assert refilled.next_refill_due == day(59)
    assert ("refill_upcoming", f"user:{volunteer.pk}") in sent_on(57)


def test_other_statuses_get_no_reminders(refilled):
    Client.objects.filter(pk=refilled.pk).update(status="transferred_out")
    assert sent_on(1) == set()


def test_each_site_uses_its_own_today(refilled, site_a):
    """Without --today each site's date is its own: at 23:00 UTC it is already tomorrow in Ternate."""
    counts_before = Notification.objects.count()
    outbox.run_all()  # real today: the 2026-09 refill is long past, LTFU by now
    assert Notification.objects.count() > counts_before


# --- LTFU and return to treatment -------------------------------------------------------------


def test_refill_after_ltfu_returns_client_to_treatment(refilled, worker, facility_a):
    sent_on(30)
    refilled.refresh_from_db()
    assert refilled.status == "ltfu"
    refill = arv_services.refill_record(
        actor=worker, client=refilled, facility=facility_a, pickup_date=day(31), days_supplied=90
    )
    refilled.refresh_from_db()
    assert refilled.status == "active"
    assert refill.returned_to_treatment is True
    assert Tracing.objects.get(client=refilled).status == "closed"


# --- at most once, even concurrently --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_insert_each_reminder_once(site_a):
    from tests.factories import FacilityFactory, make_client

    supervisor = UserFactory(role="supervisor", site=site_a)
    worker = UserFactory(role="social_worker", site=site_a)
    facility = FacilityFactory(site=site_a)
    for i in range(20):
        c = make_client(
            actor=supervisor, full_name=f"K {i}", assigned_social_worker=worker, phone="+628120000000", consent_sms=True
        )
        arv_services.refill_record(actor=worker, client=c, facility=facility, pickup_date=PICKUP, days_supplied=30)
    barrier = threading.Barrier(4)
    errors = []

    def scan():
        try:
            barrier.wait()
            outbox.run_all(today=day(1))
        except Exception as e:  # collected and asserted below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Notification.objects.filter(kind="refill_missed").count() == 20


# --- delivery -----------------------------------------------------------------------------------


def test_delivery_renders_and_marks_sent_once(refilled, volunteer, supervisor, worker, caplog):
    sent_on(-3)
    client_row = Notification.objects.get(recipient_client=refilled)
    noon = at(3)  # 12:00 in Ternate: outside quiet hours
    with caplog.at_level("INFO", logger="cases.outbox.sms"):
        assert delivery.notification_deliver(notification_id=client_row.pk, now=noon) == "sent"
        assert delivery.notification_deliver(notification_id=client_row.pk, now=noon) == "skipped"
    client_row.refresh_from_db()
    assert client_row.status == NotificationStatus.SENT
    assert "Siti" in client_row.text and "01/10/2026" in client_row.text
    assert len([r for r in caplog.records if f"SMS {client_row.pk} " in r.getMessage()]) == 1
    staff_row = Notification.objects.get(recipient_user=volunteer)
    assert delivery.notification_deliver(notification_id=staff_row.pk, now=noon) == "sent"
    staff_row.refresh_from_db()
    assert refilled.code in staff_row.text


def test_client_texts_never_mention_hiv(refilled, facility_a):
    facility_a.name = "Klinik VCT/PDP HIV RSUD"
    facility_a.save()
    sent_on(-3)
    row = Notification.objects.get(recipient_client=refilled)
    noon = at(3)
    delivery.notification_deliver(notification_id=row.pk, now=noon)
    row.refresh_from_db()
    text = row.text.lower()
    for word in ("hiv", "arv", "aids", "vct", "pdp", "odha"):
        assert word not in text.split() and word not in text, (word, row.text)


def test_sms_template_rejects_hiv_words(site_a):
    from django.core.exceptions import ValidationError

    site_a.client_sms_template = "Halo {nickname}, ambil ARV tanggal {date}"
    with pytest.raises(ValidationError):
        site_a.full_clean()
    site_a.client_sms_template = "Halo {name}"
    with pytest.raises(ValidationError):
        site_a.full_clean()


@pytest.mark.parametrize(
    "utc_time, deferred_until_utc",
    [
        # Ternate is UTC+9: quiet from 12:00 to 22:00 UTC.
        ((12, 0), (22, 0)),  # 21:00 local
        ((20, 30), (22, 0)),  # 05:30 local
        ((11, 59), None),  # 20:59 local
        ((22, 0), None),  # 07:00 local
    ],
)
def test_quiet_hours_defer_client_sms(refilled, utc_time, deferred_until_utc):
    sent_on(-3)
    row = Notification.objects.get(recipient_client=refilled)
    now = at(*utc_time)
    outcome = delivery.notification_deliver(notification_id=row.pk, now=now)
    row.refresh_from_db()
    if deferred_until_utc is None:
        assert outcome == "sent"
    else:
        assert outcome == "deferred"
        assert row.status == "pending" and row.deliver_after == at(*deferred_until_utc)
        # Not handed out again before the quiet hours end; then it goes.
        assert delivery.notification_deliver(notification_id=row.pk, now=now) == "skipped"
        assert delivery.notification_deliver(notification_id=row.pk, now=row.deliver_after) == "sent"


def test_consent_withdrawn_after_queueing_cancels_the_sms(refilled):
    sent_on(-3)
    row = Notification.objects.get(recipient_client=refilled)
    Client.objects.filter(pk=refilled.pk).update(consent_sms=False)
    noon = at(3)
    assert delivery.notification_deliver(notification_id=row.pk, now=noon) == "cancelled"


def test_gateway_failure_keeps_the_row_for_retry(refilled, settings):
    from cases.outbox.sms import GatewayError

    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/"  # nothing listens on the discard port
    settings.SMS_GATEWAY = "cases.outbox.sms.HttpGateway"
    sent_on(-3)
    row = Notification.objects.get(recipient_client=refilled)
    noon = at(3)
    with pytest.raises(GatewayError):
        delivery.notification_deliver(notification_id=row.pk, now=noon)
    row.refresh_from_db()
    assert (row.status, row.claimed_at, row.attempts) == ("pending", None, 1)
    assert "unreachable" in row.last_error


def test_enqueue_skips_recent_and_claimed_rows(refilled, django_capture_on_commit_callbacks, settings):
    sent_on(-3)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False):
        first = delivery.notifications_enqueue_pending(now=now)
        second = delivery.notifications_enqueue_pending(now=now)
    assert len(first) == 2 and second == []
    later = now + datetime.timedelta(seconds=settings.NOTIFICATION_REQUEUE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=False):
        assert sorted(delivery.notifications_enqueue_pending(now=later)) == sorted(first)


def test_run_reminders_command(refilled, capsys):
    from django.core.management import call_command

    call_command("run_reminders", "--today", str(day(1)))
    out = capsys.readouterr().out
    assert "refill_missed: 2" in out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("run_reminders", "--today", "kemarin")


def test_a_backdated_refill_entered_late_does_not_end_ltfu_or_tracing(refilled, worker, facility_a):
    sent_on(7)
    sent_on(30)
    refilled.refresh_from_db()
    assert refilled.status == "ltfu"
    older = arv_services.refill_record(
        actor=worker,
        client=refilled,
        facility=facility_a,
        pickup_date=PICKUP - datetime.timedelta(days=30),
        days_supplied=30,
    )
    refilled.refresh_from_db()
    assert (refilled.status, refilled.next_refill_due, older.returned_to_treatment) == ("ltfu", DUE, False)
    assert Tracing.objects.get(client=refilled).status == "open"


def test_messages_are_written_in_the_site_language_whatever_the_worker_has_active(refilled, facility_a):
    """A Celery worker has no request to take a language from: the client's SMS (and the
    staff's in-app text) are rendered in the installation's language, never English by
    accident ("di the health facility")."""
    from django.utils import translation

    type(facility_a).objects.filter(pk=facility_a.pk).update(name="Klinik VCT RSUD", sms_name="")
    sent_on(-3)
    rows = Notification.objects.filter(subject_id__isnull=False)
    with translation.override("en"):  # what a previous task may have left active
        for row in rows:
            delivery.notification_deliver(notification_id=row.pk, now=at(2))
    sms = Notification.objects.get(recipient_client=refilled)
    assert sms.status == NotificationStatus.SENT and "fasilitas kesehatan" in sms.text
    staff = Notification.objects.exclude(recipient_user=None).first()
    assert staff.text.startswith("Klien ")
