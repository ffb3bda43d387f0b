"""Our records as FHIR R4 (4.0.1) resources: pure functions from model instances to
JSON-ready dicts, no database access. Each element says why it carries what it does.

Identity: a resource's id, and its entry's fullUrl `urn:uuid:<id>`, is a UUID made of a
keyed hash (FIELD_HASH_KEY, this installation's own) of the record it comes from (its kind
and primary key), so the same record exported twice has the same id and a receiving system
can recognise it, while another installation (another centre) gives its own records other
ids, and nobody without the key can tell a record's primary key from its id (a new
FIELD_HASH_KEY gives new ids). The site is left out of the key on purpose: a client can move
to another site and keeps its ids. Business
identifiers carry the project's systems below, which a receiver can match on.
"""

import functools
import uuid

from django.conf import settings
from django.utils import timezone, translation

from cases.models import ClientStatus, FacilityKind, ReferralService
from cases.models.arv import VL_SUPPRESSION_THRESHOLD
from cases.security import crypto
from outreach.models import VisitKind
from referrals.models import ReferralStatus, Urgency

# The project's namespace for identifier and code systems: defined here, once.
NAMESPACE = "https://basodara.id/fhir"

# A client code is unique across sites (the site code is its prefix): one system serves all.
CLIENT_CODE_SYSTEM = f"{NAMESPACE}/sid/client-code"
SITE_CODE_SYSTEM = f"{NAMESPACE}/sid/site-code"
# Indonesia's national identity number, as SATUSEHAT (Kemenkes) identifies a patient.
NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"

VISIT_KIND_SYSTEM = f"{NAMESPACE}/CodeSystem/visit-kind"
FACILITY_KIND_SYSTEM = f"{NAMESPACE}/CodeSystem/facility-kind"
REFERRAL_SERVICE_SYSTEM = f"{NAMESPACE}/CodeSystem/referral-service"
REFERRAL_STATUS_SYSTEM = f"{NAMESPACE}/CodeSystem/referral-status"
MEDICATION_SYSTEM = f"{NAMESPACE}/CodeSystem/medication"
OBSERVATION_SYSTEM = f"{NAMESPACE}/CodeSystem/observation"
VL_INTERPRETATION_SYSTEM = f"{NAMESPACE}/CodeSystem/viral-load-interpretation"
TASK_OUTPUT_SYSTEM = f"{NAMESPACE}/CodeSystem/referral-output"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"

# Every export holds HIV information: receivers must treat it as restricted.
SECURITY_LABELS = [
    {"system": V3_CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {"system": V3_ACT_CODE, "code": "HIV", "display": "HIV/AIDS information sensitivity"},
]

# Plasma viral load, the test ART clinics report (copies/mL). 25836-8 is the same measure
# "in Specimen"; the programme records plasma results, so the Serum-or-Plasma code.
VIRAL_LOAD_CODE = {
    "system": LOINC,
    "code": "20447-9",
    "display": "HIV 1 RNA [#/volume] (viral load) in Serum or Plasma by NAA with probe detection",
}

# Encounter.class (v3 ActEncounterCode, required binding in R4) for each kind of contact.
ENCOUNTER_CLASS = {
    VisitKind.HOME_VISIT: ("HH", "home health"),
    VisitKind.CONSULTATION: ("AMB", "ambulatory"),
    VisitKind.PHONE: ("VR", "virtual"),
    VisitKind.OUTREACH: ("FLD", "field"),
}

# The referral's urgency as request priority; critical is our highest level, FHIR's `stat`.
PRIORITY = {Urgency.NORMAL: "routine", Urgency.HIGH: "urgent", Urgency.CRITICAL: "stat"}

S = ReferralStatus
# ServiceRequest.status says whether the request still stands: sent and accepted ones do;
# a declined, not completed or cancelled one ended without the service ("revoked").
SERVICE_REQUEST_STATUS = {
    S.DRAFT: "draft",
    S.SENT: "active",
    S.ACCEPTED: "active",
    S.COMPLETED: "completed",
    S.NOT_COMPLETED: "revoked",
    S.DECLINED: "revoked",
    S.CANCELLED: "revoked",
}
# Task.status carries the workflow itself, one FHIR state per state of ours.
TASK_STATUS = {
    S.DRAFT: "draft",
    S.SENT: "requested",
    S.ACCEPTED: "accepted",
    S.DECLINED: "rejected",
    S.COMPLETED: "completed",
    S.NOT_COMPLETED: "failed",
    S.CANCELLED: "cancelled",
}

# Adherence measures a facility can act on (counselling, pill count), each an Observation.
ADHERENCE_CODES = {
    "missed-doses-7d": "ARV doses missed in the last 7 days, reported at a visit",
    "pills-left": "ARV pills left, counted at a visit",
    "missed-doses-at-pick-up": "ARV doses missed, reported at an ARV pick-up",
}


def record_system(kind) -> str:
    """The identifier system of one kind of our records (refill, viral-load, visit, referral)."""
    return f"{NAMESPACE}/sid/{kind}"


def resource_id(kind, pk) -> str:
    return _resource_id(settings.FIELD_HASH_KEY, kind, pk)


@functools.lru_cache(maxsize=4096)  # the client's, its site's and facilities' ids recur
def _resource_id(key, kind, pk) -> str:  # `key` (the one keyed_hash uses) keys the cache
    digest = bytes.fromhex(crypto.keyed_hash(f"{NAMESPACE}/{kind}/{pk}"))
    return str(uuid.UUID(bytes=digest[:16], version=4))


def ref(kind, pk) -> dict:
    return {"reference": f"urn:uuid:{resource_id(kind, pk)}"}


def _entry(kind, pk, resource) -> dict:
    rid = resource_id(kind, pk)
    return {
        "fullUrl": f"urn:uuid:{rid}",
        "resource": {"resourceType": resource.pop("resourceType"), "id": rid, **resource},
    }


@functools.cache
def _english(choices, value) -> str:
    """A choice's label in English, whatever the request's language: code displays are data."""
    with translation.override("en"):
        return str(choices(value).label)


def _coding(system, choices, value) -> dict:
    return {"system": system, "code": str(value), "display": _english(choices, value)}


def _datetime(value, tz) -> str:
    """An aware datetime as FHIR dateTime, in the site's local time with its offset."""
    return timezone.localtime(value, tz).isoformat(timespec="seconds")


# --- organisations --------------------------------------------------------------------------


def site_organization(site) -> dict:
    """The centre running the programme: it manages the client and sends the referrals."""
    return _entry(
        "site",
        site.pk,
        {
            "resourceType": "Organization",
            "identifier": [{"system": SITE_CODE_SYSTEM, "value": site.code}],
            "active": True,
            "name": site.name,
        },
    )


def facility_organization(facility) -> dict:
    """A facility that dispensed ARV or receives a referral, with its public contact."""
    resource = {
        "resourceType": "Organization",
        "identifier": [{"system": record_system("facility"), "value": str(facility.pk)}],
        "active": True,
        "type": [{"coding": [_coding(FACILITY_KIND_SYSTEM, FacilityKind, facility.kind)]}],
        "name": facility.name,
    }
    if facility.contact_phone:
        resource["telecom"] = [{"system": "phone", "value": facility.contact_phone, "use": "work"}]
    if facility.address:
        resource["address"] = [{"text": facility.address}]
    return _entry("facility", facility.pk, resource)


# --- the client -----------------------------------------------------------------------------


def patient(client, *, fields) -> dict:
    """The client, with only the `fields` its reader may see (cases.access)."""
    resource = {"resourceType": "Patient"}
    identifiers = []
    if "code" in fields:
        identifiers.append(
            {
                "use": "usual",
                "system": CLIENT_CODE_SYSTEM,
                "value": client.code,
                "assigner": ref("site", client.site_id),
            }
        )
    if "nik" in fields and client.nik:
        identifiers.append({"use": "official", "system": NIK_SYSTEM, "value": client.nik})
    if identifiers:
        resource["identifier"] = identifiers
    if "status" in fields:
        # In care (active or lost to follow-up) is a record in use; moved, stopped or dead is not.
        resource["active"] = client.status in (ClientStatus.ACTIVE, ClientStatus.LTFU)
    # Many Indonesians have one name only: the name is text, never split into given/family.
    names = []
    if "full_name" in fields:
        names.append({"use": "official", "text": client.full_name})
    if "nickname" in fields and client.nickname:
        names.append({"use": "nickname", "text": client.nickname})
    if names:
        resource["name"] = names
    if "phone" in fields and client.phone:
        resource["telecom"] = [{"system": "phone", "value": client.phone, "use": "mobile"}]
    if "sex" in fields:
        resource["gender"] = {"M": "male", "F": "female"}[client.sex]
    if "date_of_birth" in fields:
        resource["birthDate"] = client.date_of_birth.isoformat()
    if "status" in fields and client.status == ClientStatus.DECEASED:
        resource["deceasedBoolean"] = True
    if "address" in fields and client.address:
        resource["address"] = [{"text": client.address}]
    if "site" in fields:
        resource["managingOrganization"] = ref("site", client.site_id)
    return _entry("client", client.pk, resource)


def medication_dispense(refill, *, regimen) -> dict:
    """One ARV pick-up. A refill does not record what was handed over: the medication is
    "ARV" with the client's current `regimen` as its text, the best we know, never a code."""
    return _entry(
        "refill",
        refill.pk,
        {
            "resourceType": "MedicationDispense",
            "identifier": [{"system": record_system("refill"), "value": str(refill.pk)}],
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": MEDICATION_SYSTEM, "code": "arv", "display": "Antiretroviral therapy"}],
                "text": regimen or "Antiretroviral therapy",
            },
            "subject": ref("client", refill.client_id),
            # The facility dispensed it. (MedicationDispense.location takes a Location, which
            # we do not have; performer.actor takes the Organization.)
            "performer": [{"actor": ref("facility", refill.facility_id)}],
            "daysSupply": {"value": refill.days_supplied, "unit": "day", "system": UCUM, "code": "d"},
            "whenHandedOver": refill.pickup_date.isoformat(),
        },
    )


def _adherence(kind, pk, code, value, *, client_id, effective, link) -> dict:
    return _entry(
        kind,
        pk,
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "therapy", "display": "Therapy"}]}],
            "code": {"coding": [{"system": OBSERVATION_SYSTEM, "code": code, "display": ADHERENCE_CODES[code]}]},
            "subject": ref("client", client_id),
            **link,
            "effectiveDateTime": effective,
            "valueInteger": value,
        },
    )


def refill_observations(refill) -> list:
    """Missed doses reported at the pick-up. Only a positive count: the field defaults to 0,
    so a 0 cannot tell "none missed" from "not asked"."""
    if not refill.missed_doses:
        return []
    return [
        _adherence(
            "refill-missed-doses",
            refill.pk,
            "missed-doses-at-pick-up",
            refill.missed_doses,
            client_id=refill.client_id,
            effective=refill.pickup_date.isoformat(),
            link={"partOf": [ref("refill", refill.pk)]},
        )
    ]


def viral_load_observation(viral_load) -> dict:
    # No standard code says "suppressed below 1000 copies/mL" (WHO's threshold, the one our
    # reports count): v3 "N"/"A" would call a detectable HIV load normal. Our own system does.
    suppressed = viral_load.suppressed
    interpretation = {
        "system": VL_INTERPRETATION_SYSTEM,
        "code": "suppressed" if suppressed else "not-suppressed",
        "display": (
            f"Suppressed (below {VL_SUPPRESSION_THRESHOLD} copies/mL)"
            if suppressed
            else f"Not suppressed ({VL_SUPPRESSION_THRESHOLD} copies/mL or more)"
        ),
    }
    return _entry(
        "viral-load",
        viral_load.pk,
        {
            "resourceType": "Observation",
            "identifier": [{"system": record_system("viral-load"), "value": str(viral_load.pk)}],
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
            "code": {"coding": [VIRAL_LOAD_CODE], "text": "HIV viral load"},
            "subject": ref("client", viral_load.client_id),
            "effectiveDateTime": viral_load.sample_date.isoformat(),
            "valueQuantity": {
                "value": viral_load.copies_per_ml,
                "unit": "copies/mL",
                "system": UCUM,
                "code": "{copies}/mL",
            },
            "interpretation": [{"coding": [interpretation]}],
        },
    )


def encounter(visit, *, site) -> dict:
    """A contact with the client: what kind, when, by the centre. The findings leave only as
    structured adherence counts (visit_observations); the free-text notes (health complaints,
    psychosocial, family, economic situation, needs, plan) are the programme's case work, may
    name family members or their status, and stay here."""
    code, display = ENCOUNTER_CLASS[visit.kind]
    return _entry(
        "visit",
        visit.pk,
        {
            "resourceType": "Encounter",
            "identifier": [{"system": record_system("visit"), "value": str(visit.pk)}],
            "status": "finished",
            "class": {"system": V3_ACT_CODE, "code": code, "display": display},
            "type": [{"coding": [_coding(VISIT_KIND_SYSTEM, VisitKind, visit.kind)]}],
            "subject": ref("client", visit.client_id),
            "period": {"start": _datetime(visit.visited_at, site.tzinfo)},
            "serviceProvider": ref("site", site.pk),
        },
    )


def visit_observations(visit, *, site) -> list:
    found = []
    for code, value in (("missed-doses-7d", visit.missed_doses_7d), ("pills-left", visit.pills_left)):
        if value is not None:
            found.append(
                _adherence(
                    f"visit-{code}",
                    visit.pk,
                    code,
                    value,
                    client_id=visit.client_id,
                    effective=_datetime(visit.visited_at, site.tzinfo),
                    link={"encounter": ref("visit", visit.pk)},
                )
            )
    return found


# --- referrals ------------------------------------------------------------------------------


def service_request(referral, *, site) -> dict:
    """What was asked of the facility: the service, why, how urgent, by when."""
    resource = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": record_system("referral"), "value": str(referral.pk)}],
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "priority": PRIORITY[referral.urgency],
        "code": {"coding": [_coding(REFERRAL_SERVICE_SYSTEM, ReferralService, referral.service)]},
        "subject": ref("client", referral.client_id),
    }
    if referral.due_date:
        resource["occurrencePeriod"] = {"end": referral.due_date.isoformat()}
    # Actionable once sent; a draft's only date is when it was written.
    resource["authoredOn"] = _datetime(referral.sent_at or referral.created_at, site.tzinfo)
    resource["requester"] = ref("site", site.pk)
    resource["performer"] = [ref("facility", referral.to_facility_id)]
    if referral.reason:
        # The sender's words to the facility, which the facility sees anyway.
        resource["reasonCode"] = [{"text": referral.reason}]
    return _entry("referral", referral.pk, resource)


def task(referral, *, site, events) -> dict:
    """The referral's workflow: its state, who holds it, and its history.

    R4's Task has no status history of its own, and `relevantHistory` needs a Provenance
    with an agent per step, i.e. our staff as Practitioners, which the export leaves out.
    Each step (ReferralEvent: state, time, note) is a `note` instead; `businessStatus` keeps
    our exact state (a Task "failed" is our not_completed), `output` the facility's outcome.
    """
    status = ReferralStatus(referral.status)
    resource = {
        "resourceType": "Task",
        "basedOn": [ref("referral", referral.pk)],
        "status": TASK_STATUS[status],
        "businessStatus": {"coding": [_coding(REFERRAL_STATUS_SYSTEM, ReferralStatus, status)]},
        "intent": "order",
        "priority": PRIORITY[referral.urgency],
        "code": {"coding": [{"system": TASK_CODE, "code": "fulfill", "display": "Fulfill the focal request"}]},
        "focus": ref("referral", referral.pk),
        "for": ref("client", referral.client_id),
    }
    if referral.sent_at:
        period = {"start": _datetime(referral.sent_at, site.tzinfo)}
        if referral.closed_at:
            period["end"] = _datetime(referral.closed_at, site.tzinfo)
        resource["executionPeriod"] = period
    resource["authoredOn"] = _datetime(referral.created_at, site.tzinfo)
    resource["lastModified"] = _datetime(referral.updated_at, site.tzinfo)
    resource["requester"] = ref("site", site.pk)
    resource["owner"] = ref("facility", referral.to_facility_id)
    if status in (S.DECLINED, S.CANCELLED):
        # The declining or cancelling step's note starts with its reason (referrals.services).
        reason = next((e.note for e in reversed(events) if e.status == status and e.note), "")
        if reason:
            resource["statusReason"] = {"text": reason}
    if referral.due_date:
        resource["restriction"] = {"period": {"end": referral.due_date.isoformat()}}
    if referral.outcome:
        resource["output"] = [
            {
                "type": {"coding": [{"system": TASK_OUTPUT_SYSTEM, "code": "outcome", "display": "Outcome"}]},
                "valueString": referral.outcome,
            }
        ]
    notes = [_event_note(event, site) for event in events]
    if notes:
        resource["note"] = notes
    return _entry("referral-task", referral.pk, resource)


def _event_note(event, site) -> dict:
    text = _english(ReferralStatus, event.status)
    if event.via_link:
        text += " (through the facility link)"
    if event.note:
        text += f": {event.note}"
    return {"time": _datetime(event.at, site.tzinfo), "text": text}
