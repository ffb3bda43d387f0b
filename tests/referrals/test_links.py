"""The facility link and the printable slip (SPEC §5): no sign-in, minimum data, each step once."""

import datetime

import pytest
from django.core import signing
from django.utils import timezone

from referrals import links
from referrals.models import Referral, ReferralEvent, ReferralStatus


def link_of(referral):
    referral.refresh_from_db()
    return links.path_for(referral)


def snapshot(referral):
    return Referral.objects.filter(pk=referral.pk).values().get(), ReferralEvent.objects.filter(
        referral=referral
    ).count()


def test_link_shows_the_minimum(client, sent_referral):
    response = client.get(link_of(sent_referral))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    page = response.content.decode()
    assert sent_referral.client.code in page and "Siti" in page
    for secret in ("Rahmawati", "8271015705900001", "Pahlawan", "+6281240000001"):
        assert secret not in page


def test_accept_then_complete_through_the_link(client, sent_referral):
    url = link_of(sent_referral)
    assert client.post(url, {"action": "accept", "note": "Come Monday"}).status_code == 200
    response = client.post(url, {"action": "complete", "outcome": "VCT done", "result": "completed"})
    assert response.status_code == 200
    sent_referral.refresh_from_db()
    assert sent_referral.status == ReferralStatus.COMPLETED
    events = list(sent_referral.events.values_list("status", "actor", "via_link"))
    assert events[-2:] == [("accepted", None, True), ("completed", None, True)]


def test_each_step_once(client, sent_referral):
    url = link_of(sent_referral)
    assert client.post(url, {"action": "accept"}).status_code == 200
    before = snapshot(sent_referral)
    for body in ({"action": "accept"}, {"action": "decline", "reason": "late"}):
        response = client.post(url, body)
        assert response.status_code == 409
        assert "sudah dilakukan" in response.content.decode()
    assert snapshot(sent_referral) == before


def test_decline_through_the_link_needs_a_reason(client, sent_referral):
    url = link_of(sent_referral)
    before = snapshot(sent_referral)
    assert client.post(url, {"action": "decline"}).status_code == 400
    assert snapshot(sent_referral) == before
    assert client.post(url, {"action": "decline", "reason": "No counsellor"}).status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: "x" + t,
        lambda t: "nonsense",
        lambda t: signing.dumps({"r": 1, "n": "guess"}, salt=links.SALT),
    ],
)
def test_tampered_link_is_404(client, sent_referral, mangle):
    token = links.token_for(sent_referral)
    before = snapshot(sent_referral)
    url = f"/r/{mangle(token)}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "accept"}).status_code == 404
    assert snapshot(sent_referral) == before


def test_forged_token_for_another_referral_is_404(client, sent_referral, make_referral, sharing_client_a, facility_a):
    other = make_referral(client=sharing_client_a, facility=facility_a, status=ReferralStatus.SENT)
    # Right signature and fresh, but the nonce of another referral.
    token = signing.TimestampSigner(salt=links.SALT).sign_object({"r": other.pk, "n": sent_referral.link_nonce})
    assert client.get(f"/r/{token}/").status_code == 404


def test_expired_link_is_404(client, sent_referral):
    sent_at = timezone.now() - links.LINK_MAX_AGE - datetime.timedelta(minutes=1)
    Referral.objects.filter(pk=sent_referral.pk).update(sent_at=sent_at)
    before = snapshot(sent_referral)
    url = link_of(sent_referral)
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "accept"}).status_code == 404
    assert snapshot(sent_referral) == before


def test_cancel_revokes_the_link(client, worker, sent_referral):
    from referrals import services

    url = link_of(sent_referral)
    services.referral_cancel(actor=worker, referral=sent_referral, reason="moved")
    assert client.get(url).status_code == 404


def test_link_is_stable_and_only_once_sent(make_referral, sharing_client_a, facility_a, sent_referral):
    draft = make_referral(client=sharing_client_a, facility=facility_a)
    assert links.token_for(draft) == ""
    assert links.token_for(sent_referral) == links.token_for(Referral.objects.get(pk=sent_referral.pk))


def test_slip_has_a_qr_code(as_user, worker, facility_staff, sent_referral):
    sender = as_user(worker)
    sender.force_login(worker)
    response = sender.get(f"/referrals/{sent_referral.pk}/slip/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "<svg" in page
    assert sent_referral.client.code in page
    assert sent_referral.reason not in page  # a slip in a pocket says nothing of why


def test_slip_out_of_reach_is_404(
    client, colleague, facility_staff, sent_referral, make_referral, sharing_client_a, facility_a
):
    for user in (colleague, facility_staff):
        client.force_login(user)
        assert client.get(f"/referrals/{sent_referral.pk}/slip/").status_code == 404
    draft = make_referral(client=sharing_client_a, facility=facility_a)
    client.force_login(sent_referral.from_user)
    assert client.get(f"/referrals/{draft.pk}/slip/").status_code == 404
