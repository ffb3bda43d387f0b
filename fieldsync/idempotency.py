"""`Idempotency-Key` on the API's creates (SPEC §12.6).

The field app queues entries made without signal and sends each with a key it generated.
A create decorated with `@idempotent`:

- without the header, runs as before;
- with a key this user has not used, runs, and keeps a successful answer under the key;
- with a key already used for the same method, path and body, answers the kept response
  again (same status and body, header `Idempotent-Replayed: true`) and records nothing;
- with a key already used for another request, answers 409.

Two requests with one key at the same time: the key's row is inserted before the create
runs, in the create's own transaction, so the second waits on the unique index until the
first commits and is then answered with the first's response (or, if the first was
refused and rolled back, runs itself).
"""

import functools
import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Visible ASCII, as a UUID or any opaque token; an RFC 8941 string ("…") is unquoted first.
KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")

PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A key the client generates for this entry (e.g. a UUID). Sent again with the same body, "
        "the original response is answered again and nothing is recorded twice; with another "
        "body, 409."
    ),
)


class _Refused(Exception):
    """Leaves the transaction (so the key is not kept) carrying a non-2xx response."""

    def __init__(self, response):
        self.response = response


def key_from(request):
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not KEY_RE.fullmatch(key):
        raise ValidationError({HEADER: [_("Send 1 to 255 visible ASCII characters, e.g. a UUID.")]})
    return key


def fingerprint(request):
    data = request.data
    if hasattr(data, "lists"):  # a form or multipart body: every value of every field
        data = {name: [str(v) for v in values] for name, values in data.lists()}
    canonical = json.dumps([request.method, request.path, data], sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _answer(stored, print_):
    if stored.fingerprint != print_:
        return Response(
            {"detail": _("This Idempotency-Key was already used for another request.")},
            status=status.HTTP_409_CONFLICT,
        )
    response = Response(stored.response, status=stored.status_code)
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(view_method):
    """Decorate a create (a viewset's `create` or a POST action) to honour `Idempotency-Key`."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = key_from(request)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        user = request.user
        print_ = fingerprint(request)
        stored = IdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is not None:
            return _answer(stored, print_)
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        row = IdempotencyKey.objects.create(
                            user=user, key=key, fingerprint=print_, method=request.method, path=request.path[:500]
                        )
                except IntegrityError:
                    # The same key committed meanwhile (we waited for it on the unique index).
                    return _answer(IdempotencyKey.objects.get(user=user, key=key), print_)
                response = view_method(self, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _Refused(response)
                # Kept as the client will read it: through DRF's encoder, back to JSON.
                row.status_code = response.status_code
                row.response = json.loads(json.dumps(response.data, cls=JSONEncoder))
                row.save(update_fields=["status_code", "response"])
                return response
        except _Refused as refused:
            return refused.response

    return extend_schema(parameters=[PARAMETER])(wrapper)
