"""SMS gateways. The outbox row id is the idempotency key: a gateway that receives the same
key twice (a worker died after sending, before recording it) must send only once."""

import http.client
import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class GatewayError(Exception):
    """The gateway could not take the message now; the task retries with backoff."""


class ConsoleGateway:
    """Development default: writes the message to the log instead of sending it."""

    def send(self, *, to, text, idempotency_key):
        logger.info("SMS %s to %s: %s", idempotency_key, to, text)


class HttpGateway:
    """POSTs JSON `{to, text}` to SMS_GATEWAY_URL with an `Idempotency-Key` header and an
    optional bearer token. Any 2xx is accepted; 4xx is a permanent refusal, 5xx or a network
    failure is retried."""

    def __init__(self, url=None, token=None, timeout=None):
        self.url = url or settings.SMS_GATEWAY_URL
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN
        # A gateway that stops answering fails the attempt (retried later), never holds the worker.
        self.timeout = timeout if timeout is not None else settings.SMS_GATEWAY_TIMEOUT

    def send(self, *, to, text, idempotency_key):
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(idempotency_key)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"to": to, "text": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500 and e.code != 429:
                raise PermanentGatewayError(f"gateway refused the message: HTTP {e.code}") from None
            raise GatewayError(f"gateway answered HTTP {e.code}") from None
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as e:
            raise GatewayError(f"gateway unreachable: {type(e).__name__}") from None


class PermanentGatewayError(Exception):
    """The gateway refused the message for good (bad number, bad request): do not retry."""


def get_gateway():
    return import_string(settings.SMS_GATEWAY)()
