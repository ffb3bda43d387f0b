"""Delivery channels: the e-mail copy of in-app messages and the HTTP SMS gateway."""

import datetime
import http.server
import json
import threading

import pytest
from django.core import mail
from django.utils import timezone

from cases import outbox
from cases.arv import services as arv_services
from cases.models import Client, Notification
from cases.outbox import delivery
from cases.outbox.sms import GatewayError, HttpGateway, PermanentGatewayError


@pytest.fixture
def gateway_server():
    """A real HTTP server on loopback that records requests and answers with `status`."""
    received = []
    state = {"status": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {
                    "key": self.headers.get("Idempotency-Key"),
                    "auth": self.headers.get("Authorization"),
                    "body": json.loads(body),
                }
            )
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", received, state
    server.shutdown()


def test_http_gateway_sends_json_with_idempotency_key(gateway_server):
    url, received, _ = gateway_server
    HttpGateway(url=url, token="rahasia").send(to="+6281200000000", text="Halo", idempotency_key=42)
    assert received == [{"key": "42", "auth": "Bearer rahasia", "body": {"to": "+6281200000000", "text": "Halo"}}]


@pytest.mark.parametrize("status, error", [(400, PermanentGatewayError), (429, GatewayError), (503, GatewayError)])
def test_http_gateway_errors(gateway_server, status, error):
    url, _, state = gateway_server
    state["status"] = status
    with pytest.raises(error):
        HttpGateway(url=url, token="").send(to="+62", text="x", idempotency_key=1)


@pytest.fixture
def upcoming(client_a, worker, facility_a):
    Client.objects.filter(pk=client_a.pk).update(consent_sms=True)
    site_today = timezone.localdate(timezone=client_a.site.tzinfo)
    arv_services.refill_record(
        actor=worker,
        client=client_a,
        facility=facility_a,
        pickup_date=site_today - datetime.timedelta(days=28),
        days_supplied=30,
    )
    outbox.run_all()
    return client_a


def _outside_quiet_hours():
    return datetime.datetime.combine(
        timezone.now().date() + datetime.timedelta(days=1), datetime.time(3), tzinfo=datetime.UTC
    )


def test_sms_through_http_gateway_and_permanent_refusal(upcoming, gateway_server, settings):
    url, received, state = gateway_server
    settings.SMS_GATEWAY, settings.SMS_GATEWAY_URL = "cases.outbox.sms.HttpGateway", url
    row = Notification.objects.get(recipient_client=upcoming)
    assert delivery.notification_deliver(notification_id=row.pk, now=_outside_quiet_hours()) == "sent"
    assert [r["key"] for r in received] == [str(row.pk)]
    assert received[0]["body"]["to"] == upcoming.phone


def test_permanent_refusal_cancels(upcoming, gateway_server, settings):
    url, received, state = gateway_server
    settings.SMS_GATEWAY, settings.SMS_GATEWAY_URL = "cases.outbox.sms.HttpGateway", url
    state["status"] = 422
    row = Notification.objects.get(recipient_client=upcoming)
    assert delivery.notification_deliver(notification_id=row.pk, now=_outside_quiet_hours()) == "cancelled"
    row.refresh_from_db()
    assert row.status == "cancelled" and "422" in row.last_error


def test_in_app_message_gets_an_email_copy(upcoming, volunteer):
    volunteer.email = "pendamping@example.org"
    volunteer.save()
    row = Notification.objects.get(recipient_user=volunteer)
    assert delivery.notification_deliver(notification_id=row.pk) == "sent"
    assert delivery.notification_deliver(notification_id=row.pk) == "skipped"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pendamping@example.org"]
    assert upcoming.code in mail.outbox[0].body
    assert "Siti" not in mail.outbox[0].body  # staff messages name the client by code only


def test_no_email_without_address(upcoming, volunteer):
    row = Notification.objects.get(recipient_user=volunteer)
    delivery.notification_deliver(notification_id=row.pk)
    assert mail.outbox == []


def test_an_unexpected_error_releases_the_row_and_many_failures_cancel_it(upcoming, volunteer, monkeypatch):
    row = Notification.objects.get(recipient_user=volunteer)

    def broken(notification):
        raise KeyError("renderer")

    monkeypatch.setattr(delivery.engine, "render", broken)
    with pytest.raises(KeyError):
        delivery.notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.claimed_at, row.last_error, row.attempts) == ("pending", None, "KeyError", 1)
    Notification.objects.filter(pk=row.pk).update(attempts=delivery.MAX_ATTEMPTS)
    assert delivery.notification_deliver(notification_id=row.pk) == "cancelled"
