"""The facility link: a signed, expiring token for facilities without accounts.

The token carries the referral id and the referral's random `link_nonce`, signed with
`SECRET_KEY` under its own salt and stamped with the time the referral was sent, so the
same link is shown every time it is read and expires `LINK_MAX_AGE` after sending.
Clearing or replacing the nonce revokes it. It carries no name and no health data.
"""

from datetime import timedelta

from django.core import signing
from django.urls import reverse

from .models import Referral

SALT = "referrals.facility-link"
LINK_MAX_AGE = timedelta(days=14)


class _StampedSigner(signing.TimestampSigner):
    """A TimestampSigner whose stamp is a given moment (the referral's `sent_at`)."""

    def __init__(self, *, at, **kwargs):
        super().__init__(**kwargs)
        self._at = at

    def timestamp(self):
        return signing.b62_encode(int(self._at.timestamp()))


def token_for(referral) -> str:
    """The link token of a sent referral ('' before it is sent or once revoked)."""
    if not referral.link_nonce or referral.sent_at is None:
        return ""
    signer = _StampedSigner(at=referral.sent_at, salt=SALT)
    return signer.sign_object({"r": referral.pk, "n": referral.link_nonce}, compress=False)


def path_for(referral) -> str:
    token = token_for(referral)
    return reverse("referral-link", args=[token]) if token else ""


def url_for(referral, request=None) -> str:
    path = path_for(referral)
    if not path or request is None:
        return path
    return request.build_absolute_uri(path)


def referral_for_token(token, *, for_update=False):
    """The referral a valid, unexpired, unrevoked token names; None for anything else."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=LINK_MAX_AGE)
        pk, nonce = int(data["r"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if not nonce or not 0 < pk < 2**63:
        return None
    qs = Referral.objects.select_for_update(of=("self",)) if for_update else Referral.objects
    # A client who withdrew consent is out of every facility's reach, link or not.
    return (
        qs.select_related("client", "to_facility")
        .filter(pk=pk, link_nonce=nonce, client__consent_withdrawn_on__isnull=True)
        .first()
    )
