"""A client transferred mid-period (SPEC §12.3): the sending site's reports still count it,
out of care as transferred out from the day it moved; the receiving site's count it from that
day; across every site nothing changes. Two clients of site A, both on ART since 2024:

T  refills 2025-12-20×90 and 2026-02-01×90 (on ART to the end of Q1), moved to site B on
   2026-02-15 (Q1 = 2026-01-01..03-31).
U  refills 2025-12-20×90 and 2026-03-10×90, never moved.

Site A, Q1: on ART at the end U = 1; ART.2 cohort T U = 2, of whom T (transferred out) = 1.
  Cascade: in care U = 1. Site A, Q4 2025: on ART T U = 2. Site B, Q1: on ART T = 1, ART.2
  cohort none (T arrived in the period); in care T. Site B, Q4 2025: nothing.
Every site (admin), Q1: on ART T U = 2, no attrition.
"""

import datetime

import pytest

from cases.arv import services as arv_services
from casework import services as casework_services
from tests.factories import make_client
from transfers import services
from transfers.models import Transfer

D = datetime.date
Q1 = {"from": "2026-01-01", "to": "2026-03-31"}
Q4 = {"from": "2025-10-01", "to": "2025-12-31"}
INDICATORS, CASCADE, TRANSFERS = (
    "/api/v1/reports/indicators/",
    "/api/v1/reports/cascade/",
    "/api/v1/reports/transfers/",
)


@pytest.fixture
def moved(supervisor, outsider_supervisor, facility_a, site_b):
    def client(name):
        return make_client(
            actor=supervisor,
            full_name=f"Klien {name}",
            nickname=name,
            art_start_date=D(2024, 1, 1),
            consent_date=D(2025, 6, 1),
            consent_share=True,
        )

    t, u = client("T"), client("U")
    for who, day in ((t, D(2025, 12, 20)), (t, D(2026, 2, 1)), (u, D(2025, 12, 20)), (u, D(2026, 3, 10))):
        arv_services.refill_record(actor=supervisor, client=who, facility=facility_a, pickup_date=day, days_supplied=90)
    transfer = services.transfer_request(actor=supervisor, client=t, to_site=site_b, reason="Pindah")
    services.transfer_accept(actor=outsider_supervisor, transfer=transfer)
    # The move, dated in the middle of Q1 (as if it had been accepted that day).
    Transfer.objects.filter(pk=transfer.pk).update(accepted_on=D(2026, 2, 15))
    return {"T": t, "U": u}


def figures(api, params):
    body = api.get(INDICATORS, params).json()
    return {row["code"]: row for row in body["indicators"]}


def cascade(api, params):
    return {stage["key"]: stage["count"] for stage in api.get(CASCADE, params).json()["stages"]}


def test_the_sending_site_counts_the_client_transferred_out(as_user, moved, supervisor, admin_user, site_a):
    for api, params in ((as_user(supervisor), Q1), (as_user(admin_user), {**Q1, "site": site_a.pk})):
        rows = figures(api, params)
        assert rows["ART.1"]["numerator"] == 1
        assert (rows["ART.2"]["numerator"], rows["ART.2"]["denominator"]) == (1, 2)
        assert rows["ART.2"]["breakdown"] == {"ltfu": 0, "died": 0, "stopped": 0, "transferred_out": 1}
        assert cascade(api, params)["registered"] == 1
    # Before the move, both were the site's.
    assert figures(as_user(supervisor), Q4)["ART.1"]["numerator"] == 2
    # The list behind ART.2 names the client it transferred out.
    r = as_user(supervisor).get(f"{INDICATORS}HIV.IND.28/clients/", Q1)
    assert [row["code"] for row in r.json()["results"]] == [moved["T"].code]


def test_the_receiving_site_counts_the_client_from_its_arrival(as_user, moved, outsider_supervisor):
    api = as_user(outsider_supervisor)
    rows = figures(api, Q1)
    assert rows["ART.1"]["numerator"] == 1
    assert (rows["ART.2"]["numerator"], rows["ART.2"]["denominator"]) == (0, 0)
    assert rows["ART.4"]["numerator"] == 0  # not new on ART: it came on ART
    assert cascade(api, Q1)["registered"] == 1
    assert figures(api, Q4)["ART.1"]["numerator"] == 0
    assert cascade(api, Q4)["registered"] == 0


def test_across_every_site_a_move_is_no_attrition(as_user, moved, admin_user):
    rows = figures(as_user(admin_user), Q1)
    assert rows["ART.1"]["numerator"] == 2
    assert rows["ART.2"]["breakdown"]["transferred_out"] == 0


def test_the_sending_site_no_longer_reads_the_client(as_user, moved, supervisor, worker):
    assert as_user(supervisor).get(f"/api/v1/clients/{moved['T'].pk}/").status_code == 404


def test_transfers_in_and_out_per_site(as_user, moved, supervisor, outsider_supervisor, admin_user, worker, site_a):
    def counts(api, params):
        body = api.get(TRANSFERS, params).json()
        assert body["transfers_in"]["definition"]
        return body["transfers_in"]["value"], body["transfers_out"]["value"]

    assert counts(as_user(supervisor), Q1) == (0, 1)
    assert counts(as_user(outsider_supervisor), Q1) == (1, 0)
    assert counts(as_user(supervisor), Q4) == (0, 0)
    assert counts(as_user(admin_user), {**Q1, "site": site_a.pk}) == (0, 1)
    assert counts(as_user(admin_user), Q1) == (1, 1)
    assert as_user(worker).get(TRANSFERS, Q1).status_code == 403


def test_the_caseload_page_shows_transfers_in_and_out(page_as, moved, supervisor, outsider_supervisor):
    page = page_as(supervisor).get("/caseload/?from=2026-01-01&to=2026-03-31").content.decode()
    assert 'data-figure="transfers_out">1<' in page and 'data-figure="transfers_in">0<' in page
    page = page_as(outsider_supervisor).get("/caseload/?from=2026-01-01&to=2026-03-31").content.decode()
    assert 'data-figure="transfers_in">1<' in page


def test_the_national_view_counts_each_client_at_the_site_holding_it(moved, site_a, site_b):
    from reports import national

    assert national.clients_on_art(D(2026, 3, 31)) == {site_a.pk: 1, site_b.pk: 1}
    assert national.clients_on_art(D(2026, 1, 31)) == {site_a.pk: 2}


def casework(api, params):
    body = api.get("/api/v1/reports/casework/", params).json()
    return body["open_cases"]["value"], body["with_current_plan"]["value"]


def test_the_casework_report_counts_a_client_where_it_was_on_the_periods_last_day(
    as_user, moved, supervisor, outsider_supervisor, admin_user, site_a, site_b
):
    """T has a plan since 2025-11-01 and moved on 2026-02-15: Q4 2025 stays site A's (the
    move came after it), Q1 2026 is site B's; U is site A's throughout."""
    casework_services.plan_create(actor=outsider_supervisor, client=moved["T"], started_on=D(2025, 11, 1))
    a, b, everyone = as_user(supervisor), as_user(outsider_supervisor), as_user(admin_user)
    assert casework(a, Q4) == (2, 1)
    assert casework(a, Q1) == (1, 0)
    assert casework(b, Q4) == (0, 0)
    assert casework(b, Q1) == (1, 1)
    assert casework(everyone, {**Q4, "site": site_a.pk}) == (2, 1)
    assert casework(everyone, {**Q1, "site": site_b.pk}) == (1, 1)
    assert casework(everyone, Q1) == (2, 1)
