"""FHIR R4 export (issue 9): one client's record and a whole site as a Bundle, parsed with
fhir.resources' R4 (4.0.1) models, with the policy's reach and fields and the access log.

`validate_r4` is the validation: the pydantic models of fhir.resources 6.4 check every
element's type, cardinality and primitives and refuse unknown elements; on top of them it
checks what they do not: unique fullUrls, every reference resolving inside the Bundle to a
resource type the element allows (R4's targetProfile, from the models' metadata), and codes
against R4's required bindings where the models list them whole.
"""

import datetime
import json
import os
import stat
import uuid
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources import __fhir_version__ as FHIR_VERSION
from fhir.resources.bundle import Bundle
from fhir.resources.core.fhirabstractmodel import FHIRAbstractModel
from fhir.resources.reference import Reference

from cases.arv import services as arv_services
from cases.models import AccessLog, Client, ClientStatus, FacilityKind, ReferralService
from interop import export, fhir
from outreach import services as outreach_services
from outreach.models import VisitKind
from referrals import services as referral_services
from referrals.models import ReferralStatus, Urgency
from tests.factories import FacilityFactory, make_client

# Free text of a visit that must never leave the programme.
PSYCHOSOCIAL = "Ibunya belum tahu statusnya"
HEALTH_COMPLAINTS = "Batuk dua minggu"
FHIR_READS = {"action": "read", "object_type": "cases.client.fhir"}


# --- validation -------------------------------------------------------------------------------


def _check_element(element, resources):
    for name, field in element.__fields__.items():
        value = getattr(element, name)
        if value is None:
            continue
        extra = field.field_info.extra
        targets, codes = extra.get("enum_reference_types"), extra.get("enum_values")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Reference):
                target = resources.get(item.reference)
                assert target is not None, f"{element.resource_type}.{name}: {item.reference} is not in the Bundle"
                assert "Resource" in targets or target.resource_type in targets, (name, target.resource_type, targets)
            elif codes and "+" not in codes and isinstance(item, str):
                assert item in codes, (element.resource_type, name, item)
            if isinstance(item, FHIRAbstractModel):
                _check_element(item, resources)


def validate_r4(data) -> Bundle:
    assert FHIR_VERSION == "4.0.1"  # R4 itself, not R4B or R5
    bundle = Bundle.parse_obj(data)
    assert bundle.type == "collection"
    urls = [entry.fullUrl for entry in bundle.entry]
    assert len(urls) == len(set(urls)), "each resource, each Organization included, appears once"
    resources = {entry.fullUrl: entry.resource for entry in bundle.entry}
    for entry in bundle.entry:
        assert entry.fullUrl == f"urn:uuid:{entry.resource.id}"
        _check_element(entry.resource, resources)
    return bundle


def resources_of(data, resource_type):
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == resource_type]


def by_url(data):
    return {e["fullUrl"]: e["resource"] for e in data["entry"]}


# --- the world --------------------------------------------------------------------------------


@pytest.fixture
def puskesmas(site_a):
    return FacilityFactory(
        site=site_a, name="Puskesmas Kalumpang", kind=FacilityKind.PUSKESMAS, services=[], contact_phone="+62921312345"
    )


def fill(client, *, worker, volunteer, facility, other_facility, facility_staff):
    """Two of each: refills, viral loads, visits, referrals (one completed, one declined)."""
    Client.objects.filter(pk=client.pk).update(consent_share=True, regimen="TDF/3TC/DTG")
    client.refresh_from_db()
    today = timezone.localdate(timezone=client.site.tzinfo)
    now = timezone.now()
    day = datetime.timedelta(days=1)
    arv_services.refill_record(
        actor=worker, client=client, facility=facility, pickup_date=today - 60 * day, days_supplied=30, missed_doses=2
    )
    arv_services.refill_record(
        actor=worker, client=client, facility=facility, pickup_date=today - 30 * day, days_supplied=90
    )
    arv_services.viral_load_record(actor=worker, client=client, sample_date=today - 50 * day, copies_per_ml=5200)
    arv_services.viral_load_record(actor=worker, client=client, sample_date=today - 20 * day, copies_per_ml=40)
    outreach_services.visit_record(
        actor=worker,
        client=client,
        kind=VisitKind.HOME_VISIT,
        visited_at=now - 3 * day,
        missed_doses_7d=1,
        pills_left=12,
        health_complaints=HEALTH_COMPLAINTS,
        psychosocial=PSYCHOSOCIAL,
        plan="Kunjungan ulang",
    )
    outreach_services.visit_record(actor=volunteer, client=client, kind=VisitKind.PHONE, visited_at=now - day)
    done = referral_services.referral_create(
        actor=worker,
        client=client,
        to_facility=facility,
        service=ReferralService.VIRAL_LOAD,
        reason="Tes viral load ulang",
        urgency=Urgency.HIGH,
        due_date=today + 7 * day,
    )
    done = referral_services.referral_send(actor=worker, referral=done)
    done = referral_services.referral_accept(actor=facility_staff, referral=done)
    referral_services.referral_complete(actor=facility_staff, referral=done, outcome="Sampel diambil")
    declined = referral_services.referral_create(
        actor=worker,
        client=client,
        to_facility=other_facility,
        service=ReferralService.MENTAL_HEALTH,
        reason="Butuh konseling",
        urgency=Urgency.CRITICAL,
    )
    declined = referral_services.referral_send(actor=worker, referral=declined)
    referral_services.referral_decline(actor=facility_staff, referral=declined, reason="Tidak ada psikolog")


@pytest.fixture
def record(client_a, worker, volunteer, facility_a, puskesmas, facility_staff):
    fill(
        client_a,
        worker=worker,
        volunteer=volunteer,
        facility=facility_a,
        other_facility=puskesmas,
        facility_staff=facility_staff,
    )
    client_a.refresh_from_db()
    return client_a


def client_url(client):
    return f"/api/v1/clients/{client.pk}/fhir/"


def site_url(site):
    return f"/api/v1/sites/{site.pk}/fhir/"


def streamed(response):
    assert response.streaming
    return json.loads(b"".join(response.streaming_content))


# --- one client -------------------------------------------------------------------------------


def test_client_bundle_is_valid_r4_with_each_record(as_user, worker, record, site_a, facility_a, puskesmas):
    response = as_user(worker).get(client_url(record))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"] == f'attachment; filename="{record.code}.fhir.json"'
    data = json.loads(response.content)
    validate_r4(data)
    assert Counter(e["resource"]["resourceType"] for e in data["entry"]) == {
        "Organization": 3,  # the site, facility_a (refills, a referral), the puskesmas
        "Patient": 1,
        "MedicationDispense": 2,
        # 2 viral loads; missed doses at the first pick-up; missed doses and pills left at the home visit
        "Observation": 5,
        "Encounter": 2,
        "ServiceRequest": 2,
        "Task": 2,
    }
    assert {"system": fhir.V3_CONFIDENTIALITY, "code": "R", "display": "restricted"} in data["meta"]["security"]
    # The visit's free text stays in the programme.
    assert PSYCHOSOCIAL not in response.content.decode()
    assert HEALTH_COMPLAINTS not in response.content.decode()
    assert AccessLog.objects.filter(client=record, user=worker, **FHIR_READS).count() == 1


def test_patient_carries_what_the_social_worker_reads(as_user, worker, record, site_a):
    data = json.loads(as_user(worker).get(client_url(record)).content)
    (patient,) = resources_of(data, "Patient")
    assert patient["identifier"] == [
        {
            "use": "usual",
            "system": fhir.CLIENT_CODE_SYSTEM,
            "value": record.code,
            "assigner": fhir.ref("site", site_a.pk),
        },
        {"use": "official", "system": "https://fhir.kemkes.go.id/id/nik", "value": "8271015705900001"},
    ]
    # One name as written, never split into given and family names.
    assert patient["name"] == [{"use": "official", "text": "Siti Rahmawati"}, {"use": "nickname", "text": "Siti"}]
    assert patient["gender"] == "female"
    assert patient["birthDate"] == "1990-05-17"
    assert patient["telecom"] == [{"system": "phone", "value": "+6281240000001", "use": "mobile"}]
    assert patient["address"] == [{"text": "Jl. Pahlawan Revolusi 12, Ternate"}]
    assert patient["active"] is True and "deceasedBoolean" not in patient
    site_org = by_url(data)[patient["managingOrganization"]["reference"]]
    assert site_org["identifier"] == [{"system": fhir.SITE_CODE_SYSTEM, "value": "TTE"}]


def test_refills_visits_and_viral_loads(as_user, worker, record, facility_a):
    data = json.loads(as_user(worker).get(client_url(record)).content)
    resources = by_url(data)
    today = timezone.localdate(timezone=record.site.tzinfo)
    dispenses = resources_of(data, "MedicationDispense")
    assert [d["whenHandedOver"] for d in dispenses] == [
        (today - datetime.timedelta(days=60)).isoformat(),
        (today - datetime.timedelta(days=30)).isoformat(),
    ]
    assert [d["daysSupply"] for d in dispenses] == [
        {"value": 30, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"},
        {"value": 90, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"},
    ]
    for dispense in dispenses:
        assert dispense["status"] == "completed"
        assert dispense["medicationCodeableConcept"]["text"] == "TDF/3TC/DTG"
        performer = resources[dispense["performer"][0]["actor"]["reference"]]
        assert performer["resourceType"] == "Organization" and performer["name"] == facility_a.name

    observations = resources_of(data, "Observation")
    loads = [o for o in observations if o["code"]["coding"][0]["system"] == "http://loinc.org"]
    assert [o["code"]["coding"][0]["code"] for o in loads] == ["20447-9", "20447-9"]
    assert [o["valueQuantity"]["value"] for o in loads] == [5200, 40]
    assert {o["valueQuantity"]["code"] for o in loads} == {"{copies}/mL"}
    assert [o["interpretation"][0]["coding"][0]["code"] for o in loads] == ["not-suppressed", "suppressed"]
    assert loads[1]["effectiveDateTime"] == (today - datetime.timedelta(days=20)).isoformat()

    adherence = {o["code"]["coding"][0]["code"]: o for o in observations if o not in loads}
    assert {code: o["valueInteger"] for code, o in adherence.items()} == {
        "missed-doses-at-pick-up": 2,
        "missed-doses-7d": 1,
        "pills-left": 12,
    }
    assert resources[adherence["missed-doses-at-pick-up"]["partOf"][0]["reference"]] == dispenses[0]
    home_visit = resources[adherence["pills-left"]["encounter"]["reference"]]

    encounters = resources_of(data, "Encounter")
    assert encounters[0] == home_visit
    assert [(e["class"]["code"], e["type"][0]["coding"][0]["code"]) for e in encounters] == [
        ("HH", "home_visit"),
        ("VR", "phone"),
    ]
    assert {e["status"] for e in encounters} == {"finished"}
    assert encounters[0]["period"]["start"].endswith("+09:00")  # Ternate's local time


def test_referrals_as_service_request_and_task(as_user, worker, record, facility_a, puskesmas):
    data = json.loads(as_user(worker).get(client_url(record)).content)
    resources = by_url(data)
    completed, declined = resources_of(data, "ServiceRequest")
    assert (completed["status"], completed["priority"], completed["intent"]) == ("completed", "urgent", "order")
    assert completed["code"]["coding"] == [
        {"system": fhir.REFERRAL_SERVICE_SYSTEM, "code": "viral_load", "display": "Viral load test"}
    ]
    assert completed["reasonCode"] == [{"text": "Tes viral load ulang"}]
    assert resources[completed["performer"][0]["reference"]]["name"] == facility_a.name
    assert resources[completed["requester"]["reference"]]["name"] == "Sentra Ternate"
    assert (declined["status"], declined["priority"]) == ("revoked", "stat")

    tasks = {resources[t["focus"]["reference"]]["code"]["coding"][0]["code"]: t for t in resources_of(data, "Task")}
    done, refused = tasks["viral_load"], tasks["mental_health"]
    assert done["status"] == "completed"
    assert done["businessStatus"]["coding"][0]["code"] == "completed"
    assert done["output"][0]["valueString"] == "Sampel diambil"
    assert [n["text"].split(":")[0] for n in done["note"]] == ["Draft", "Sent", "Accepted", "Completed"]
    assert "start" in done["executionPeriod"] and "end" in done["executionPeriod"]
    assert resources[done["owner"]["reference"]]["name"] == facility_a.name
    assert refused["status"] == "rejected"
    assert refused["statusReason"] == {"text": "Tidak ada psikolog"}
    assert resources[refused["owner"]["reference"]]["name"] == puskesmas.name
    assert resources[refused["for"]["reference"]]["resourceType"] == "Patient"


def test_volunteer_gets_no_nik_and_no_address(as_user, volunteer, record):
    response = as_user(volunteer).get(client_url(record))
    assert response.status_code == 200, response.content
    data = json.loads(response.content)
    validate_r4(data)
    (patient,) = resources_of(data, "Patient")
    assert [i["system"] for i in patient["identifier"]] == [fhir.CLIENT_CODE_SYSTEM]
    assert "address" not in patient
    body = response.content.decode()
    assert "8271015705900001" not in body and "Pahlawan Revolusi" not in body
    assert patient["telecom"][0]["value"] == "+6281240000001"  # volunteers may call their clients
    assert AccessLog.objects.filter(client=record, user=volunteer, **FHIR_READS).count() == 1


@pytest.mark.parametrize("persona", ["colleague", "other_volunteer", "facility_staff", "outsider_supervisor"])
def test_client_out_of_reach_is_404(request, as_user, record, persona):
    response = as_user(request.getfixturevalue(persona)).get(client_url(record))
    assert response.status_code == 404
    assert not AccessLog.objects.filter(**FHIR_READS).exists()


def test_client_export_unknown_or_anonymous(api, as_user, worker, record):
    assert as_user(worker).get("/api/v1/clients/999999999999999999/fhir/").status_code == 404
    assert as_user(worker).get("/api/v1/clients/abc/fhir/").status_code == 404
    assert api.get(client_url(record)).status_code in (401, 403)


def test_plain_json_on_request_and_stable_ids(as_user, worker, record):
    api = as_user(worker)
    first = api.get(client_url(record), HTTP_ACCEPT="application/json")
    assert first["Content-Type"] == "application/json"
    second = api.get(client_url(record))
    urls = [e["fullUrl"] for e in json.loads(first.content)["entry"]]
    assert urls == [e["fullUrl"] for e in json.loads(second.content)["entry"]]
    assert json.loads(first.content)["id"] != json.loads(second.content)["id"]  # each Bundle is its own


def test_ids_belong_to_this_installation(settings):
    """Another centre's installation (another FIELD_HASH_KEY) gives its records other ids,
    and an id does not give away the record's primary key."""
    here = fhir.resource_id("Patient", 1)
    assert here == fhir.resource_id("Patient", 1) != fhir.resource_id("Patient", 2)
    # Not computable from public constants (as a UUID5 under the project's namespace would be).
    assert here != str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, fhir.NAMESPACE), "Patient/1"))
    settings.FIELD_HASH_KEY = "another-installation"
    assert fhir.resource_id("Patient", 1) != here


def test_deceased_client(as_user, supervisor, client_a):
    Client.objects.filter(pk=client_a.pk).update(status=ClientStatus.DECEASED, consent_share=True)
    data = json.loads(as_user(supervisor).get(client_url(client_a)).content)
    validate_r4(data)
    (patient,) = resources_of(data, "Patient")
    assert patient["deceasedBoolean"] is True and patient["active"] is False


@pytest.mark.parametrize("change", [{"consent_share": False}, {"consent_withdrawn_on": datetime.date(2026, 2, 1)}])
def test_no_export_without_consent_to_share(as_user, supervisor, record, site_a, tmp_path, change):
    """An export is for outside systems: like a referral to an outside facility, only with
    the client's consent to share, never after it was withdrawn (SPEC §4, §7)."""
    Client.objects.filter(pk=record.pk).update(**change)
    response = as_user(supervisor).get(client_url(record))
    assert response.status_code == 403
    assert "persetujuan" in response.json()["detail"]
    data = streamed(as_user(supervisor).get(site_url(site_a)))
    assert resources_of(data, "Patient") == []
    with pytest.raises(CommandError, match="may not export client"):
        call_command("export_fhir", "--site", "TTE", "--client", record.code, "--as", supervisor.username)
    call_command("export_fhir", "--site", "TTE", "--output", str(tmp_path / "tte.json"), "--as", supervisor.username)
    assert resources_of(json.loads((tmp_path / "tte.json").read_text()), "Patient") == []
    assert not AccessLog.objects.filter(**FHIR_READS).exists()


def test_every_state_and_kind_has_a_mapping():
    assert set(fhir.TASK_STATUS) == set(fhir.SERVICE_REQUEST_STATUS) == set(ReferralStatus)
    assert set(fhir.ENCOUNTER_CLASS) == set(VisitKind)
    assert set(fhir.PRIORITY) == set(Urgency)


def test_client_query_budget(as_user, worker, record, django_assert_max_num_queries):
    api = as_user(worker)
    # client_for_user, its site; the client row (+site); refills, viral loads, visits,
    # referrals, referral steps; the access-log insert; the facilities named.
    with django_assert_max_num_queries(10):
        assert api.get(client_url(record)).status_code == 200


# --- a whole site -----------------------------------------------------------------------------


def test_site_export_streams_the_sites_clients_and_logs_each(
    as_user, supervisor, record, client_b, site_a, worker, volunteer, group_a1
):
    other = make_client(
        actor=supervisor, full_name="Rina", support_groups=[group_a1], assigned_social_worker=worker, consent_share=True
    )
    make_client(actor=supervisor, full_name="Tanpa Izin", support_groups=[group_a1])  # no consent: left out
    response = as_user(supervisor).get(site_url(site_a))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="basodara-TTE-')
    data = streamed(response)
    validate_r4(data)
    codes = [p["identifier"][0]["value"] for p in resources_of(data, "Patient")]
    assert codes == sorted([record.code, other.code])  # not client_b of site B
    assert resources_of(data, "Organization")[0]["identifier"][0]["value"] == "TTE"
    logged = AccessLog.objects.filter(user=supervisor, **FHIR_READS)
    assert sorted(logged.values_list("client_id", flat=True)) == sorted([record.pk, other.pk])
    assert set(logged.values_list("ip", flat=True)) == {"127.0.0.1"}


def test_site_export_for_admin_and_across_chunks(as_user, admin_user, supervisor, site_a, group_a1, facility_a):
    clients = [
        make_client(actor=supervisor, full_name=f"Klien {i}", support_groups=[group_a1], consent_share=True)
        for i in range(7)
    ]
    for client in clients:
        arv_services.refill_record(
            actor=supervisor, client=client, facility=facility_a, pickup_date=timezone.localdate(), days_supplied=30
        )
    logged = []
    pieces = list(
        export.bundle_pieces(
            user=admin_user,
            site=site_a,
            clients=Client.objects.filter(site=site_a),
            log_reads=logged.extend,
            chunk_size=3,
        )
    )
    assert len(pieces) == 2 + 3  # head, three chunks of at most 3, tail
    data = json.loads("".join(pieces))
    validate_r4(data)  # facility_a, named in every chunk, appears once
    assert len(resources_of(data, "Patient")) == 7 and sorted(logged) == sorted(c.pk for c in clients)
    response = as_user(admin_user).get(site_url(site_a))
    assert len(resources_of(streamed(response), "Patient")) == 7


def test_empty_site_is_a_valid_bundle(as_user, outsider_supervisor, site_b):
    data = streamed(as_user(outsider_supervisor).get(site_url(site_b)))
    validate_r4(data)
    assert [e["resource"]["resourceType"] for e in data["entry"]] == ["Organization"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("worker", 403),  # sees the site, may not export it
        ("volunteer", 403),
        ("facility_staff", 404),
        ("outsider_supervisor", 404),  # another site's supervisor: out of reach
    ],
)
def test_site_export_refused(request, as_user, record, site_a, persona, status):
    response = as_user(request.getfixturevalue(persona)).get(site_url(site_a))
    assert response.status_code == status
    assert not AccessLog.objects.filter(**FHIR_READS).exists()


def test_site_export_bad_ids(api, as_user, supervisor, site_a):
    assert as_user(supervisor).get("/api/v1/sites/999999999999999999/fhir/").status_code == 404
    assert as_user(supervisor).get("/api/v1/sites/abc/fhir/").status_code == 404
    assert api.get(site_url(site_a)).status_code in (401, 403)


def _site_queries(api, site):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(site_url(site))
        validate_r4(streamed(response))
    return len(queries)


def test_site_export_queries_do_not_grow_with_clients(
    as_user,
    supervisor,
    worker,
    volunteer,
    site_a,
    group_a1,
    facility_a,
    puskesmas,
    facility_staff,
    django_assert_max_num_queries,
):
    def add_clients(n):
        for i in range(n):
            client = make_client(
                actor=supervisor, full_name=f"Klien {i}", support_groups=[group_a1], assigned_social_worker=worker
            )
            fill(
                client,
                worker=worker,
                volunteer=volunteer,
                facility=facility_a,
                other_facility=puskesmas,
                facility_staff=facility_staff,
            )

    api = as_user(supervisor)
    add_clients(2)
    with_two = _site_queries(api, site_a)
    add_clients(8)
    # The site; one chunk of clients (+site); refills, viral loads, visits, referrals,
    # referral steps; the access-log insert of the chunk; the facilities it names.
    with django_assert_max_num_queries(9):
        data = streamed(api.get(site_url(site_a)))
    assert len(resources_of(data, "Patient")) == 10
    assert _site_queries(api, site_a) == with_two


# --- the command ------------------------------------------------------------------------------


def test_command_writes_a_valid_private_file(tmp_path, supervisor, record, client_b, capsys):
    output = tmp_path / "tte.json"
    call_command("export_fhir", "--site", "tte", "--output", str(output), "--as", supervisor.username)
    assert stat.S_IMODE(os.stat(output).st_mode) == 0o600
    data = json.loads(output.read_text(encoding="utf-8"))
    validate_r4(data)
    assert [p["identifier"][0]["value"] for p in resources_of(data, "Patient")] == [record.code]
    assert not list(tmp_path.glob("*.partial"))
    entry = AccessLog.objects.get(**FHIR_READS)
    assert (entry.user, entry.client_id, entry.ip) == (supervisor, record.pk, None)
    assert "Exported 1 client(s) of TTE" in capsys.readouterr().err


def test_command_one_client_to_stdout(worker, record, capsys):
    call_command("export_fhir", "--site", "TTE", "--client", record.code, "--as", worker.username)
    data = json.loads(capsys.readouterr().out)
    validate_r4(data)
    assert len(resources_of(data, "Patient")) == 1
    assert AccessLog.objects.filter(user=worker, client=record, **FHIR_READS).count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "TTE", "--as", "nobody"], "No active user"),
        (["--site", "XYZ", "--as", "supervisor_a"], "No site"),
        (["--site", "TTE", "--as", "worker_a"], "may not export site TTE"),
        (["--site", "MKS", "--as", "supervisor_a"], "may not export site MKS"),
        (["--site", "TTE", "--client", "TTE-1999-0001", "--as", "supervisor_a"], "may not export client"),
        (["--site", "TTE", "--client", "CLIENT_A", "--as", "colleague_a"], "may not export client"),
    ],
)
def test_command_refuses(tmp_path, record, site_b, colleague, args, message):
    args = [record.code if a == "CLIENT_A" else a for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("export_fhir", *args, "--output", str(tmp_path / "out.json"))
    assert not (tmp_path / "out.json").exists()
    assert not AccessLog.objects.filter(**FHIR_READS).exists()
