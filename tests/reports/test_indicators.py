"""`reports/indicators/` and the period-true cascade (SPEC §12.1), from a hand-built cohort
whose WHO figures are worked out on paper below, for two consecutive quarters; a past
quarter computed again after later events gives the same figures.

Site TTE, LTFU after 28 days. Q1 = 2026-01-01..03-31 (day before: 2025-12-31; "≥ 6 months":
first ART date on or before 2025-09-29). Q2 = 2026-04-01..06-30 (day before: 03-31; 6 months:
on or before 2025-12-29). Everyone consented 2025-06-01 except I (2026-04-01).

A  F 1990-05-17  ART 2024-01-10. Refills 2025-12-15×30, 01-14×30, 02-13×30, 03-15×90, [06-13×90].
   VL 02-01: 400, 03-20: 1500 (two results in Q1; the latest is not suppressed).
B  M 2008-01-01  ART 2025-01-05. Refills 2025-12-01×30 (due 12-31, lost from 01-28), 02-20×30
   (back: a return in Q1; due 03-22, late but not lost on 03-31, lost from 04-19).
C  F 1970-03-01  ART 2023-05-01. Refills 2025-11-03×60, 01-02×60 (due 03-03: exactly 28 days
   late on 03-31, so lost on Q1's last day), [04-20×90: a return in Q2].
D  M 1985-07-07  ART 2022-01-01. Refills 2025-10-12×90, 01-10×90. [Deceased 2026-04-05.]
E  F 1995-09-09  ART 2024-06-01. Refill 2025-12-20×30. Stopped 2026-02-01.
F  M 2011-04-04  ART 2020-01-01. Refill 2025-12-28×30. Transferred out 2026-01-20.
G  F 1999-01-01  ART 2026-02-01, no refill: never on ART.
H  M 2005-06-15  no ART date. Refills 02-10×30, 03-12×180: first ART date 02-10 (new in Q1).
   [VL 05-01: 30, but under 6 months on ART.]
I  F 2012-08-08  consent 2026-04-01. [ART 04-05; refills 04-10×30, 05-10×30, 06-09×30: new in Q2.]
J  M 1960-01-01  ART 2019-01-01. Refills 2025-12-10×90, 03-08×90, [06-05×90].
   VL 2025-03-01: 200 (13 months before Q1's end); [04-15: 5000, 06-01: 100].
[…] happens after Q1: added by `later_events`.

Q1 (as of 03-31): on ART: A, B, D, H, J = 5 (F 1 M 4; 15-19: B, 20-24: H, 25-49: A D, 50+: J).
  On ART on 12-31: A B C D E F J; new: H → cohort 8; not on ART on 03-31: C (lost), E
  (stopped), F (transferred) = 3 (37.5 %; F 2 M 1; <15: F, 25-49: E, 50+: C).
  New: H = 1. ≥ 6 months and on ART: A B D J = 4, VL in Q1: A = 1 (25 %), suppressed: 0 of 1.
  90+ days: A D H J = 4 of 5 (80 %).
  Cascade: in care A B C D G H J = 7; on ART 5; supplied on 03-31: A D H J = 4; VL in the 12
  months: A = 1 (J's is 13 months old); suppressed 0. Lost in Q1: B (01-28), C (03-31) = 2
  (E stopped and F moved before their LTFU day); returned: B = 1.
Q2 (as of 06-30): on ART: A, C, H, I, J = 5 (F 3 M 2; <15: I, 20-24: H, 25-49: A, 50+: C J).
  Cohort: on ART on 03-31 A B D H J, new I = 6; not on ART on 06-30: B (lost), D (died) = 2
  (33.3 %). New: I = 1. ≥ 6 months: A C J = 3, VL in Q2: J = 1 (33.3 %); suppressed 1 of 1.
  90+ days: A C H J = 4 of 5 (80 %).
  Cascade: in care A B C G H I J = 7; on ART 5; supplied 5; VL in 12 months: A H J = 3;
  suppressed: H J = 2. Lost in Q2: B (04-19) = 1 (D died before his LTFU day); returned: C = 1.
"""

import csv
import datetime
import io

import pytest

from cases import services
from cases.arv import services as arv_services
from cases.models import AccessLog, ClientStatus
from tests.factories import make_client

pytestmark = pytest.mark.django_db

INDICATORS, CASCADE = "/api/v1/reports/indicators/", "/api/v1/reports/cascade/"
Q1 = {"from": "2026-01-01", "to": "2026-03-31"}
Q2 = {"from": "2026-04-01", "to": "2026-06-30"}
D = datetime.date
CONSENTED = D(2025, 6, 1)


@pytest.fixture
def cohort(supervisor, facility_a):
    def client(name, sex, born, art=None, consent=CONSENTED):
        return make_client(
            actor=supervisor, full_name=f"Klien {name}", nickname=name, sex=sex, date_of_birth=born,
            art_start_date=art, consent_date=consent,
        )  # fmt: skip

    people = {
        "A": client("A", "F", D(1990, 5, 17), D(2024, 1, 10)),
        "B": client("B", "M", D(2008, 1, 1), D(2025, 1, 5)),
        "C": client("C", "F", D(1970, 3, 1), D(2023, 5, 1)),
        "D": client("D", "M", D(1985, 7, 7), D(2022, 1, 1)),
        "E": client("E", "F", D(1995, 9, 9), D(2024, 6, 1)),
        "F": client("F", "M", D(2011, 4, 4), D(2020, 1, 1)),
        "G": client("G", "F", D(1999, 1, 1), D(2026, 2, 1)),
        "H": client("H", "M", D(2005, 6, 15)),
        "I": client("I", "F", D(2012, 8, 8), consent=D(2026, 4, 1)),
        "J": client("J", "M", D(1960, 1, 1), D(2019, 1, 1)),
    }

    def refill(name, day, supply):
        arv_services.refill_record(
            actor=supervisor, client=people[name], facility=facility_a, pickup_date=day, days_supplied=supply
        )

    def vl(name, day, copies):
        arv_services.viral_load_record(actor=supervisor, client=people[name], sample_date=day, copies_per_ml=copies)

    def status(name, value, day):
        services.client_status_change(
            actor=supervisor, client=people[name], status=value, effective_date=day, reason="Dicatat untuk uji"
        )

    for day, supply in [(D(2025, 12, 15), 30), (D(2026, 1, 14), 30), (D(2026, 2, 13), 30), (D(2026, 3, 15), 90)]:
        refill("A", day, supply)
    vl("A", D(2026, 2, 1), 400)
    vl("A", D(2026, 3, 20), 1500)
    refill("B", D(2025, 12, 1), 30)
    refill("B", D(2026, 2, 20), 30)
    refill("C", D(2025, 11, 3), 60)
    refill("C", D(2026, 1, 2), 60)
    refill("D", D(2025, 10, 12), 90)
    refill("D", D(2026, 1, 10), 90)
    refill("E", D(2025, 12, 20), 30)
    status("E", ClientStatus.STOPPED, D(2026, 2, 1))
    refill("F", D(2025, 12, 28), 30)
    status("F", ClientStatus.TRANSFERRED_OUT, D(2026, 1, 20))
    refill("H", D(2026, 2, 10), 30)
    refill("H", D(2026, 3, 12), 180)
    refill("J", D(2025, 12, 10), 90)
    refill("J", D(2026, 3, 8), 90)
    vl("J", D(2025, 3, 1), 200)

    def later_events():
        refill("A", D(2026, 6, 13), 90)
        refill("C", D(2026, 4, 20), 90)
        status("D", ClientStatus.DECEASED, D(2026, 4, 5))
        vl("H", D(2026, 5, 1), 30)
        for day in (D(2026, 4, 10), D(2026, 5, 10), D(2026, 6, 9)):
            refill("I", day, 30)
        services.client_update(actor=supervisor, client=people["I"], art_start_date=D(2026, 4, 5))
        refill("J", D(2026, 6, 5), 90)
        vl("J", D(2026, 4, 15), 5000)
        vl("J", D(2026, 6, 1), 100)

    return {"people": people, "later": later_events}


def _by_id(body):
    return {row["code"]: row for row in body["indicators"]}


def _figures(body):
    """(numerator, denominator, percent) by WHO code."""
    return {code: (row["numerator"], row["denominator"], row["percent"]) for code, row in _by_id(body).items()}


Q1_FIGURES = {
    "ART.1": (5, None, None),
    "ART.2": (3, 8, 37.5),
    "ART.4": (1, None, None),
    "ART.6": (1, 4, 25.0),
    "ART.3": (0, 1, 0.0),
    "DSD.1": (4, 5, 80.0),
}
Q2_FIGURES = {
    "ART.1": (5, None, None),
    "ART.2": (2, 6, 33.3),
    "ART.4": (1, None, None),
    "ART.6": (1, 3, 33.3),
    "ART.3": (1, 1, 100.0),
    "DSD.1": (4, 5, 80.0),
}


def test_two_quarters_match_the_figures_worked_out_by_hand(as_user, supervisor, cohort):
    api = as_user(supervisor)
    q1 = api.get(INDICATORS, Q1)
    assert q1.status_code == 200, q1.content
    body = q1.json()
    assert (body["from"], body["to"], body["ltfu_days"]) == ("2026-01-01", "2026-03-31", 28)
    assert [row["id"] for row in body["indicators"]] == [
        "HIV.IND.27", "HIV.IND.28", "HIV.IND.30", "HIV.IND.32", "HIV.IND.29", "HIV.IND.53",
    ]  # fmt: skip
    assert _figures(body) == Q1_FIGURES
    rows = _by_id(body)
    assert rows["ART.1"]["by_sex"] == {"F": 1, "M": 4}
    assert rows["ART.1"]["by_age"] == {"<15": 0, "15-19": 1, "20-24": 1, "25-49": 2, "50+": 1}
    assert rows["ART.2"]["breakdown"] == {"ltfu": 1, "died": 0, "stopped": 1, "transferred_out": 1}
    assert rows["ART.2"]["by_sex"] == {"F": 2, "M": 1}
    assert rows["ART.2"]["by_age"] == {"<15": 1, "15-19": 0, "20-24": 0, "25-49": 1, "50+": 1}
    assert rows["ART.4"]["by_sex"] == {"F": 0, "M": 1} and rows["ART.4"]["by_age"]["20-24"] == 1
    assert all(row["breakdown"] is None for code, row in rows.items() if code != "ART.2")

    cohort["later"]()
    body = api.get(INDICATORS, Q2).json()
    assert _figures(body) == Q2_FIGURES
    rows = _by_id(body)
    assert rows["ART.1"]["by_sex"] == {"F": 3, "M": 2}
    # F turned 15 on 2026-04-04, but he had moved; I is 13 on 06-30.
    assert rows["ART.1"]["by_age"] == {"<15": 1, "15-19": 0, "20-24": 1, "25-49": 1, "50+": 2}
    assert rows["ART.2"]["breakdown"] == {"ltfu": 1, "died": 1, "stopped": 0, "transferred_out": 0}


def test_a_past_quarter_stays_the_same_after_later_events(as_user, supervisor, cohort):
    api = as_user(supervisor)
    before = {"indicators": api.get(INDICATORS, Q1).json(), "cascade": api.get(CASCADE, Q1).json()}
    cohort["later"]()  # a death, returns, refills and results, all after Q1
    after = {"indicators": api.get(INDICATORS, Q1).json(), "cascade": api.get(CASCADE, Q1).json()}
    assert after == before
    assert _figures(after["indicators"]) == Q1_FIGURES


def _cascade(body):
    return {s["key"]: s["count"] for s in body["stages"]}, {f["key"]: f["count"] for f in body["flows"]}


def test_the_cascade_is_computed_as_of_each_quarters_end(as_user, supervisor, cohort):
    api = as_user(supervisor)
    stages, flows = _cascade(api.get(CASCADE, Q1).json())
    assert stages == {"registered": 7, "on_art": 5, "on_time": 4, "vl_tested": 1, "suppressed": 0}
    assert flows == {"ltfu": 2, "returned": 1}
    cohort["later"]()
    stages, flows = _cascade(api.get(CASCADE, Q2).json())
    assert stages == {"registered": 7, "on_art": 5, "on_time": 5, "vl_tested": 3, "suppressed": 2}
    assert flows == {"ltfu": 1, "returned": 1}


def test_definitions_name_the_sites_own_ltfu_days(as_user, supervisor, site_a, cohort):
    site_a.ltfu_days = 60
    site_a.save()
    body = as_user(supervisor).get(INDICATORS, Q1).json()
    assert body["ltfu_days"] == 60
    art1 = _by_id(body)["ART.1"]
    assert "60" in art1["definition"] and "28" not in art1["definition"]
    # With 60 days C (28 days late on 03-31) is still on ART, and B was never lost in Q1.
    assert art1["numerator"] == 6
    cascade = as_user(supervisor).get(CASCADE, Q1).json()
    assert all("28" not in f["definition"] for f in cascade["flows"])
    assert {f["key"]: f["count"] for f in cascade["flows"]} == {"ltfu": 0, "returned": 0}
    caseload = as_user(supervisor).get("/api/v1/reports/caseload/", Q1).json()
    assert "60" in caseload["definitions"]["ltfu"] and "28" not in caseload["definitions"]["ltfu"]


def test_the_reach_and_filters_of_the_caller(as_user, supervisor, worker, volunteer, outsider_supervisor, cohort):
    # Nobody is assigned to the worker: their own caseload is empty; another site sees nothing.
    for user in (worker, outsider_supervisor):
        body = as_user(user).get(INDICATORS, Q1).json()
        assert all(row["numerator"] == 0 for row in body["indicators"]), user
    assert as_user(volunteer).get(INDICATORS, Q1).status_code == 200
    people = cohort["people"]
    services.client_assign(actor=supervisor, client=people["A"], social_worker=worker)
    body = as_user(supervisor).get(INDICATORS, {**Q1, "worker": worker.pk}).json()
    assert _figures(body)["ART.1"] == (1, None, None)
    assert as_user(supervisor).get(INDICATORS, {**Q1, "worker": 10**9}).status_code == 400


def test_bad_periods_are_a_400(as_user, supervisor):
    api = as_user(supervisor)
    assert api.get(INDICATORS, {"from": "2026-04-01", "to": "2026-03-01"}).status_code == 400
    assert api.get(INDICATORS, {"from": "bukan tanggal"}).status_code == 400


def test_the_query_count_does_not_grow_with_clients(as_user, supervisor, cohort, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert as_user(supervisor).get(INDICATORS, Q1).status_code == 200


def test_downloads(as_user, supervisor, cohort):
    r = as_user(supervisor).get(INDICATORS, {**Q1, "format": "csv"})
    assert r.status_code == 200
    assert "indicators-TTE-20260101-20260331.csv" in r["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header = rows[0]
    art2 = next(row for row in rows if row and row[0] == "HIV.IND.28")
    assert art2[header.index("numerator")] == "3" and art2[header.index("denominator")] == "8"
    assert art2[header.index("outcome_stopped")] == "1"
    r = as_user(supervisor).get(INDICATORS, {**Q1, "format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"


# --- the clients behind a figure --------------------------------------------------------------


def _clients(api, indicator, **params):
    return api.get(f"{INDICATORS}{indicator}/clients/", {**Q1, **params})


def test_supervisors_open_the_clients_behind_a_figure_and_each_read_is_logged(as_user, supervisor, cohort):
    api = as_user(supervisor)
    people = cohort["people"]
    r = _clients(api, "HIV.IND.28")
    assert r.status_code == 200, r.content
    assert {row["code"] for row in r.json()["results"]} == {people[n].code for n in "CEF"}
    assert set(r.json()["results"][0]) == {"id", "code", "nickname"}  # no name, NIK or HIV data
    logged = AccessLog.objects.filter(object_type="cases.client.indicator.ART.2", user=supervisor)
    assert sorted(logged.values_list("client_id", flat=True)) == sorted(people[n].pk for n in "CEF")
    r = _clients(api, "HIV.IND.28", part="denominator")
    assert r.json()["count"] == 8
    r = _clients(api, "HIV.IND.29", part="denominator")
    assert [row["code"] for row in r.json()["results"]] == [people["A"].code]


def test_the_client_lists_are_for_supervisors_and_admins(as_user, worker, volunteer, admin_user, site_a, cohort):
    assert _clients(as_user(worker), "HIV.IND.27").status_code == 403
    assert _clients(as_user(volunteer), "HIV.IND.27").status_code == 403
    r = _clients(as_user(admin_user), "HIV.IND.27", site=site_a.pk)
    assert r.status_code == 200 and r.json()["count"] == 5


def test_the_client_lists_refuse_what_does_not_exist(as_user, supervisor):
    api = as_user(supervisor)
    assert _clients(api, "HIV.IND.99").status_code == 404
    r = _clients(api, "HIV.IND.27", part="denominator")
    assert r.status_code == 400 and "part" in r.json()
    assert _clients(api, "HIV.IND.27", part="semua").status_code == 400


def test_on_art_by_site_follows_art1(cohort, site_a, site_b, outsider_supervisor):
    from cases.models import Client
    from reports.indicators import on_art_by_site

    make_client(actor=outsider_supervisor, full_name="Klien Makassar")  # no refill: not on ART
    # Consented 2026-01-10 (the factory's default): counted at its site from then, with none on ART.
    assert on_art_by_site(Client.objects.all(), D(2026, 3, 31)) == {site_a.pk: 5, site_b.pk: 0}
    cohort["later"]()
    assert on_art_by_site(Client.objects.all(), D(2026, 6, 30)) == {site_a.pk: 5, site_b.pk: 0}
    assert on_art_by_site(Client.objects.filter(site=site_b), D(2025, 12, 31)) == {}


def test_edge_cases_of_the_rules(as_user, supervisor, facility_a):
    """Q2 (2026-04-01..06-30, LTFU 28 days), worked out by hand:
    K  ART date 2025-12-01, first refill 04-10×90: on ART, not new (its first ART date is the
       earlier one), not in ART.2's cohort (no refill before the period).
    L  refills 03-01×30 (LTFU from 04-28) and 04-28×90, picked up on the LTFU day itself: never
       lost, no return; in the cohort and on ART.
    M  refills 02-01×90, 05-01×90; stopped on 06-30, the last day: attrition (stopped).
    N  refill 02-15×90; died 03-31, the day before: neither in the cohort nor in care; his
       LTFU day (06-13) comes after his death: no LTFU episode.
    O  refill 01-20×90; stopped 02-01, resumed care 05-01 with a refill 05-01×90: on ART again.
    P  refill 03-10×90, consented 05-01, in the period: on ART before it, so in the cohort.
    ART.1 = K L O P = 4; ART.2 = M / L M P = 1 of 3; ART.4 = 0. In care K L O P; flows 0 and 0."""
    people = {
        name: make_client(
            actor=supervisor, full_name=f"Klien {name}", nickname=name, art_start_date=art, consent_date=consent
        )  # fmt: skip
        for name, art, consent in [
            ("K", D(2025, 12, 1), CONSENTED),
            ("L", None, CONSENTED),
            ("M", None, CONSENTED),
            ("N", None, CONSENTED),
            ("O", None, CONSENTED),
            ("P", None, D(2026, 5, 1)),
        ]  # fmt: skip
    }

    def refill(name, day, supply):
        return arv_services.refill_record(
            actor=supervisor, client=people[name], facility=facility_a, pickup_date=day, days_supplied=supply
        )

    def status(name, value, day):
        services.client_status_change(
            actor=supervisor, client=people[name], status=value, effective_date=day, reason="Uji"
        )

    refill("K", D(2026, 4, 10), 90)
    refill("L", D(2026, 3, 1), 30)
    on_the_day = refill("L", D(2026, 4, 28), 90)
    refill("M", D(2026, 2, 1), 90)
    refill("M", D(2026, 5, 1), 90)
    status("M", ClientStatus.STOPPED, D(2026, 6, 30))
    refill("N", D(2026, 2, 15), 90)
    status("N", ClientStatus.DECEASED, D(2026, 3, 31))
    refill("O", D(2026, 1, 20), 90)
    status("O", ClientStatus.STOPPED, D(2026, 2, 1))
    status("O", "active", D(2026, 5, 1))
    refill("O", D(2026, 5, 1), 90)
    refill("P", D(2026, 3, 10), 90)

    assert not on_the_day.returned_to_treatment
    api = as_user(supervisor)
    figures = _figures(api.get(INDICATORS, Q2).json())
    assert (figures["ART.1"], figures["ART.2"], figures["ART.4"]) == ((4, None, None), (1, 3, 33.3), (0, None, None))
    assert _by_id(api.get(INDICATORS, Q2).json())["ART.2"]["breakdown"]["stopped"] == 1
    r = api.get(f"{INDICATORS}HIV.IND.28/clients/", {**Q2, "part": "denominator"})
    assert sorted(row["nickname"] for row in r.json()["results"]) == ["L", "M", "P"]
    stages, flows = _cascade(api.get(CASCADE, Q2).json())
    assert (stages["registered"], stages["on_art"]) == (4, 4)
    assert flows == {"ltfu": 0, "returned": 0}


def test_a_return_to_treatment_is_marked_on_the_refill(supervisor, facility_a):
    client = make_client(actor=supervisor, full_name="Klien Kembali")
    arv_services.refill_record(
        actor=supervisor, client=client, facility=facility_a, pickup_date=D(2026, 1, 1), days_supplied=30
    )
    # Due 01-31, lost from 02-28: a refill on 02-28 is on the LTFU day (no return), 03-01 after it.
    late = arv_services.refill_record(
        actor=supervisor, client=client, facility=facility_a, pickup_date=D(2026, 3, 1), days_supplied=30
    )
    assert late.returned_to_treatment


@pytest.mark.parametrize("path", [INDICATORS, CASCADE, f"{INDICATORS}HIV.IND.27/clients/"])
def test_a_period_ending_after_today_is_refused(as_user, supervisor, site_a, path):
    from django.utils import timezone

    tomorrow = timezone.localdate(timezone=site_a.tzinfo) + datetime.timedelta(days=1)
    r = as_user(supervisor).get(path, {"to": tomorrow.isoformat()})
    assert r.status_code == 400 and "to" in r.json()
    # The caseload (as of today, not of the period's end) keeps taking it.
    assert as_user(supervisor).get("/api/v1/reports/caseload/", {"to": tomorrow.isoformat()}).status_code == 200


# --- the web pages ------------------------------------------------------------------------------


def test_the_web_list_behind_a_figure_is_for_supervisors_and_admins(
    client, supervisor, worker, volunteer, outsider_supervisor, cohort
):
    url = f"/caseload/indicators/HIV.IND.28/?from={Q1['from']}&to={Q1['to']}"
    for user in (worker, volunteer):
        client.force_login(user)
        assert client.get(url).status_code == 404
    people = cohort["people"]
    client.force_login(outsider_supervisor)  # another site: its own (empty) list, never ours
    page = client.get(url)
    assert page.status_code == 200 and not any(p.code.encode() in page.content for p in people.values())
    client.force_login(supervisor)
    page = client.get(url)
    assert page.status_code == 200
    for name in "CEF":
        assert people[name].code.encode() in page.content
    logged = AccessLog.objects.filter(object_type="cases.client.indicator.ART.2", user=supervisor)
    assert logged.count() == 3
    assert client.get("/caseload/indicators/HIV.IND.99/").status_code == 404
    assert client.get(f"{url}&part=semua").status_code == 404


def test_the_web_status_action_is_404_out_of_reach(client, colleague, outsider_supervisor, client_a):
    for user in (colleague, outsider_supervisor):
        client.force_login(user)
        assert client.get(f"/clients/{client_a.pk}/status/").status_code == 404
        body = {"status": "deceased", "effective_date": "2026-01-01", "reason": "x"}
        assert client.post(f"/clients/{client_a.pk}/status/", body).status_code == 404
