"""The referral form offers only what the chosen facility provides (htmx swaps the list)."""

import re

import pytest

from cases.models import Client, ReferralService
from referrals.models import Referral
from tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db


def options(html):
    select = re.search(r'<select name="service".*?</select>', html, flags=re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


@pytest.fixture
def all_services(site_a):
    return FacilityFactory(site=site_a, name="Layanan Sentra", services=[])


def test_fragment_lists_the_facility_services(page_as, volunteer, facility_a):
    r = page_as(volunteer).get(f"/referrals/new/services/?to_facility={facility_a.pk}", HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert options(r.content.decode()) == ["vct", "art_initiation", "art_refill", "viral_load"]
    assert 'id="service-field"' in r.content.decode()


def test_fragment_keeps_the_service_when_still_offered(page_as, volunteer, facility_a, all_services):
    web = page_as(volunteer)
    kept = web.get(f"/referrals/new/services/?to_facility={facility_a.pk}&service=vct").content.decode()
    assert re.search(r'<option value="vct" selected>', kept)
    dropped = web.get(f"/referrals/new/services/?to_facility={facility_a.pk}&service=tb").content.decode()
    assert re.findall(r'<option value="([^"]*)" selected>', dropped) == [""]


@pytest.mark.parametrize(
    "query", ["", "?to_facility=", "?to_facility=abc", "?to_facility=99999999", "?to_facility=1" + "0" * 30]
)
def test_fragment_without_a_known_facility_offers_everything(page_as, volunteer, all_services, query):
    r = page_as(volunteer).get(f"/referrals/new/services/{query}")
    assert r.status_code == 200
    assert "tb" in options(r.content.decode()) and len(options(r.content.decode())) == len(ReferralService.values)


def test_facility_listing_no_service_offers_everything(page_as, volunteer, all_services):
    r = page_as(volunteer).get(f"/referrals/new/services/?to_facility={all_services.pk}")
    assert len(options(r.content.decode())) == len(ReferralService.values)


def test_facility_out_of_reach_is_not_revealed(page_as, volunteer, site_b):
    other = FacilityFactory(site=site_b, name="Klinik Makassar", services=["tb"])
    r = page_as(volunteer).get(f"/referrals/new/services/?to_facility={other.pk}")
    assert "Makassar" not in r.content.decode() and len(options(r.content.decode())) == len(ReferralService.values)


def test_those_who_refer_nothing_get_404(page_as, facility_staff, facility_a):
    assert page_as(facility_staff).get(f"/referrals/new/services/?to_facility={facility_a.pk}").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, facility_a):
    r = client.get(f"/referrals/new/services/?to_facility={facility_a.pk}")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_form_page_wires_the_facility_to_the_service_list(page_as, volunteer, client_a):
    html = page_as(volunteer).get("/referrals/new/").content.decode()
    select = re.search(r'<select name="to_facility"[^>]*>', html).group(0)
    assert 'hx-get="/referrals/new/services/"' in select and 'hx-target="#service-field"' in select


def test_posting_a_service_the_facility_lacks_is_a_field_error(page_as, volunteer, client_a, facility_a):
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    data = {
        "client": client_a.pk,
        "to_facility": facility_a.pk,
        "service": "tb",
        "reason": "Batuk lama",
        "urgency": "high",
    }
    r = page_as(volunteer).post("/referrals/new/", data)
    assert r.status_code == 200
    html = r.content.decode()
    assert "tidak menyediakan layanan ini" in html or "does not offer this service" in html
    assert "tb" not in options(html)  # the list shown again is the facility's own
    assert not Referral.objects.exists()
