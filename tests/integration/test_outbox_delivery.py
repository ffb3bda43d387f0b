"""SPEC §6 and §10 with real processes: a Celery worker subprocess, a Redis of the test's
own and an HTTP SMS gateway deliver the outbox exactly once, also when the worker is
killed mid-send or Redis is stopped and started again.

The worker is another process, so these tests commit (transaction=True) and run only on
PostgreSQL; the test process publishes to the same Redis the worker consumes.
"""

import datetime

import pytest
from django.utils import timezone

from cases import outbox
from cases.arv import services as arv_services
from cases.models import Client, Notification, NotificationChannel
from cases.outbox import delivery
from cases.outbox.delivery import quiet_hours_end
from tests.factories import make_client
from tests.integration.conftest import DEADLINE_SECONDS, LEASE_SECONDS, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# A refill picked up 20 days ago for 30 days, scanned on its due − 3: "refill coming up"
# goes to the client (SMS) and to the companion (in-app).
PICKUP = timezone.localdate() - datetime.timedelta(days=20)
SCAN_DAY = PICKUP + datetime.timedelta(days=27)
COMPANION_EMAIL = "pendamping.a1@example.org"


@pytest.fixture
def no_quiet_hours(site_a):
    """Client SMS may go at any hour, so the tests do not depend on the time of day."""
    site_a.quiet_hours_start = site_a.quiet_hours_end = datetime.time(0, 0)
    site_a.save()
    start_of_day = datetime.datetime(2026, 11, 23, tzinfo=site_a.tzinfo)
    for minutes in range(0, 24 * 60, 15):
        assert quiet_hours_end(site_a, start_of_day + datetime.timedelta(minutes=minutes)) is None
    return site_a


@pytest.fixture
def refilled(client_a, volunteer, worker, facility_a, no_quiet_hours):
    Client.objects.filter(pk=client_a.pk).update(consent_sms=True)
    volunteer.email = COMPANION_EMAIL
    volunteer.save(update_fields=["email"])
    arv_services.refill_record(actor=worker, client=client_a, facility=facility_a, pickup_date=PICKUP, days_supplied=30)
    client_a.refresh_from_db()
    return client_a


def scan():
    """The periodic task's two steps: the scan, then publishing what is pending."""
    outbox.run_all(today=SCAN_DAY)
    return delivery.notifications_enqueue_pending()


def all_sent(ids):
    return set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"sent"}


def assert_texts_match_gateway(rows, gateway):
    for row in rows:
        if row.channel == NotificationChannel.SMS:
            bodies = [r["body"] for r in gateway.requests if r["key"] == str(row.pk)]
            assert bodies and all(b == {"to": row.recipient_client.phone, "text": row.text} for b in bodies)


def test_scan_rows_are_delivered_by_a_worker(refilled, workers, sms_gateway):
    workers()
    ids = scan()
    rows = Notification.objects.filter(pk__in=ids)
    assert sorted(rows.values_list("channel", flat=True)) == ["in_app", "sms"]

    wait_for(lambda: all_sent(ids), "the worker to send every row")

    rows = list(Notification.objects.filter(pk__in=ids).select_related("recipient_client"))
    assert [(r.status, r.attempts, r.claimed_at) for r in rows] == [("sent", 1, None)] * 2
    assert all(r.sent_at and r.text for r in rows)
    sms = next(r for r in rows if r.channel == NotificationChannel.SMS)
    # The row id is the idempotency key, and one request was all it took.
    assert [r["key"] for r in sms_gateway.requests] == [str(sms.pk)]
    assert_texts_match_gateway(rows, sms_gateway)


def test_worker_killed_inside_the_gateway_call_delivers_once(refilled, workers, sms_gateway, logs):
    sms_gateway.hold_first = True
    first = workers()
    ids = scan()
    sms_id = Notification.objects.get(pk__in=ids, channel=NotificationChannel.SMS).pk
    in_app_ids = [i for i in ids if i != sms_id]

    assert sms_gateway.first_arrived.wait(DEADLINE_SECONDS), "no SMS reached the gateway"
    first.kill()
    held = Notification.objects.get(pk=sms_id)
    # Killed between the gateway call and recording it: claimed, attempted, not sent.
    assert (held.status, held.attempts, held.sent_at) == ("pending", 1, None)
    assert held.claimed_at is not None
    assert sms_gateway.keys_for(sms_id) == [str(sms_id)]

    workers()
    # The dead worker's claim and the row's enqueue both age past the lease; then the next
    # scan (here called directly) hands the row out again.
    stale_from = max(held.claimed_at, held.enqueued_at) + datetime.timedelta(seconds=LEASE_SECONDS)
    wait_for(lambda: timezone.now() > stale_from, "the dead worker's claim to lapse", timeout=LEASE_SECONDS + 5)
    assert sms_id in delivery.notifications_enqueue_pending()

    wait_for(lambda: all_sent(ids), "the new worker to send every row")
    rows = {r.pk: r for r in Notification.objects.filter(pk__in=ids).select_related("recipient_client")}
    sms = rows[sms_id]
    assert (sms.status, sms.attempts, sms.claimed_at) == ("sent", 2, None)
    # The gateway may see the key twice (the held request and the retry): one distinct key,
    # the row id, so a gateway that deduplicates by key sent one message.
    assert set(sms_gateway.keys_for(sms_id)) == {str(sms_id)}
    assert sms_gateway.delivered_keys == {str(sms_id)}
    assert_texts_match_gateway(rows.values(), sms_gateway)
    for pk in in_app_ids:
        assert (rows[pk].status, rows[pk].claimed_at) == ("sent", None)
        assert rows[pk].attempts in (1, 2)
    # Marked sent exactly once: the e-mail copy follows only the winning "mark sent".
    worker_logs = "".join(w.log_path.read_text(errors="replace") for w in workers.all)
    assert worker_logs.count(f"To: {COMPANION_EMAIL}") == len(in_app_ids) == 1


def test_redis_stopped_and_restarted_loses_nothing_and_sends_nothing_twice(
    supervisor, worker, volunteer, group_a1, facility_a, no_quiet_hours, workers, redis_server, sms_gateway
):
    clients = [
        make_client(
            actor=supervisor,
            full_name=f"Klien Uji {i}",
            nickname=f"Uji{i}",
            phone=f"+62812400001{i:02d}",
            consent_sms=True,
            assigned_social_worker=worker,
            companion=volunteer,
            support_groups=[group_a1],
        )
        for i in range(3)
    ]
    for client in clients:
        arv_services.refill_record(
            actor=worker, client=client, facility=facility_a, pickup_date=PICKUP, days_supplied=30
        )
    workers()

    redis_server.stop()
    ids = scan()  # publishing fails: no exception, the rows stay pending
    assert len(ids) == 6
    rows = Notification.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", "attempts", "enqueued_at")) == {("pending", 0, None)}

    redis_server.start()
    assert sorted(delivery.notifications_enqueue_pending()) == sorted(ids)

    wait_for(lambda: all_sent(ids), "the worker to reconnect and send every row")
    rows = list(Notification.objects.filter(pk__in=ids).select_related("recipient_client"))
    assert {(r.status, r.attempts, r.claimed_at) for r in rows} == {("sent", 1, None)}
    sms_ids = sorted(str(r.pk) for r in rows if r.channel == NotificationChannel.SMS)
    assert len(sms_ids) == 3
    assert sorted(r["key"] for r in sms_gateway.requests) == sms_ids  # each once, none twice
    assert_texts_match_gateway(rows, sms_gateway)


def test_tasks_lost_with_redis_memory_are_enqueued_again(refilled, workers, redis_server, sms_gateway):
    """Redis restarted without persistence forgets queued tasks; the rows are still pending
    with an old enqueued_at, so the next scan after the requeue window hands them out again."""
    import redis

    ids = scan()
    broker = redis.Redis.from_url(redis_server.url)
    assert broker.llen("celery") == len(ids) == 2  # published, waiting for a worker
    broker.close()
    redis_server.stop()
    redis_server.start()
    workers()

    last_enqueued = max(Notification.objects.filter(pk__in=ids).values_list("enqueued_at", flat=True))
    stale_from = last_enqueued + datetime.timedelta(seconds=LEASE_SECONDS)
    wait_for(lambda: timezone.now() > stale_from, "the requeue window to pass", timeout=LEASE_SECONDS + 5)
    assert sorted(delivery.notifications_enqueue_pending()) == sorted(ids)

    wait_for(lambda: all_sent(ids), "the worker to send every row")
    rows = list(Notification.objects.filter(pk__in=ids).select_related("recipient_client"))
    assert {(r.status, r.attempts, r.claimed_at) for r in rows} == {("sent", 1, None)}
    sms = next(r for r in rows if r.channel == NotificationChannel.SMS)
    assert [r["key"] for r in sms_gateway.requests] == [str(sms.pk)]
    assert_texts_match_gateway(rows, sms_gateway)
