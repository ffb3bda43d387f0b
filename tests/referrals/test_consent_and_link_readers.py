"""The facility link only for those who may act for the sender; withdrawn consent ends the
clinic's reach at once (SPEC §12.5)."""

import datetime

from django.test import Client as BrowserClient

from cases import services as case_services
from referrals import links
from referrals.models import ReferralStatus

URL = "/api/v1/referrals/"


def test_facility_link_only_for_who_may_send(as_user, worker, supervisor, colleague, sent_referral):
    assert "/r/" in as_user(worker).get(f"{URL}{sent_referral.pk}/").data["facility_link"]
    assert "/r/" in as_user(supervisor).get(URL).data["results"][0]["facility_link"]
    # Emergency (read-only) access reads the referral, without the link that acts for the clinic.
    case_services.client_break_glass(actor=colleague, client=sent_referral.client, reason="Klien dirawat darurat")
    reader = as_user(colleague)
    assert reader.get(f"{URL}{sent_referral.pk}/").data["facility_link"] is None
    assert [row["facility_link"] for row in reader.get(URL).data["results"]] == [None]


def test_a_read_only_share_does_not_get_the_link(as_user, supervisor, colleague, sent_referral):
    case_services.client_share(
        actor=supervisor,
        client=sent_referral.client,
        user=colleague,
        until=datetime.date.today() + datetime.timedelta(days=3),
        can_edit=False,
    )
    assert as_user(colleague).get(f"{URL}{sent_referral.pk}/").data["facility_link"] is None


def test_a_step_through_the_link_records_the_signed_in_user(facility_staff, sent_referral):
    browser = BrowserClient()
    browser.force_login(facility_staff)
    assert browser.post(links.path_for(sent_referral), {"action": "accept"}).status_code == 200
    event = sent_referral.events.order_by("pk").last()
    assert (event.status, event.actor, event.via_link) == ("accepted", facility_staff, True)


def test_withdrawn_consent_cancels_outside_referrals_kills_links_and_hides_the_client(
    as_user, supervisor, worker, facility_staff, make_referral, sharing_client_a, facility_a, centre
):
    sent = make_referral(client=sharing_client_a, facility=facility_a, status=ReferralStatus.SENT)
    done = make_referral(client=sharing_client_a, facility=facility_a, status=ReferralStatus.COMPLETED)
    inside = make_referral(client=sharing_client_a, facility=centre, status=ReferralStatus.SENT)
    sent_link, done_link = links.path_for(sent), links.path_for(done)
    clinic = as_user(facility_staff)
    assert clinic.get(f"{URL}{sent.pk}/").status_code == 200

    case_services.client_update(actor=worker, client=sharing_client_a, consent_withdrawn_on=datetime.date.today())

    sent.refresh_from_db()
    assert sent.status == ReferralStatus.CANCELLED and sent.link_nonce == ""
    assert sent.events.order_by("pk").last().note == "consent withdrawn"
    done.refresh_from_db()
    assert done.status == ReferralStatus.COMPLETED and done.link_nonce == ""
    inside.refresh_from_db()
    assert inside.status == ReferralStatus.SENT  # the centre's own service is not outside
    for link in (sent_link, done_link):
        assert BrowserClient().get(link).status_code == 404
    assert clinic.get(f"{URL}{sent.pk}/").status_code == 404
    assert clinic.get(URL).data["count"] == 0
