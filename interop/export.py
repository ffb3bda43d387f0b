"""A FHIR R4 Bundle of clients, written as JSON text in pieces: a site of 100 000 clients
streams out (HTTP or a file) in the memory of one chunk of clients.

The Bundle is a `collection`: a set of resources handed over for the receiver to take what
it needs, with no processing asked of it. Not a `searchset` (the answer to a FHIR search,
with search modes and a total we do not serve), not a `document` (a Composition first, an
attested clinical document), not a `transaction` (orders the receiver to write).

The site's Organization comes first, so the entry list is never empty (FHIR JSON forbids
empty arrays); each facility's Organization comes once, before the first resource naming it.
"""

import json
import uuid
from itertools import islice

from django.utils import timezone

from cases import access as cases_access

from . import fhir, selectors

CHUNK_SIZE = 500


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _Facilities:
    """Each facility's Organization, written once per Bundle just before the first resource
    naming it; the facilities a chunk of clients names for the first time are read in one
    query."""

    def __init__(self):
        self.written = set()
        self.read = {}

    def read_for(self, chunk):
        named = {refill.facility_id for client in chunk for refill in client.fhir_refills}
        named |= {referral.to_facility_id for client in chunk for referral in client.fhir_referrals}
        missing = named - self.written
        self.read = selectors.facilities_by_id(missing) if missing else {}

    def entry(self, pk):
        if pk not in self.written:
            self.written.add(pk)
            yield fhir.facility_organization(self.read[pk])


def _client_entries(client, *, fields, facilities):
    site = client.site
    regimen = client.regimen if "regimen" in fields else ""
    yield fhir.patient(client, fields=fields)
    for refill in client.fhir_refills:
        yield from facilities.entry(refill.facility_id)
        yield fhir.medication_dispense(refill, regimen=regimen)
        yield from fhir.refill_observations(refill)
    for viral_load in client.fhir_viral_loads:
        yield fhir.viral_load_observation(viral_load)
    for visit in client.fhir_visits:
        yield fhir.encounter(visit, site=site)
        yield from fhir.visit_observations(visit, site=site)
    for referral in client.fhir_referrals:
        yield from facilities.entry(referral.to_facility_id)
        yield fhir.service_request(referral, site=site)
        yield fhir.task(referral, site=site, events=referral.fhir_events)


def bundle_pieces(*, user, site, clients, log_reads, chunk_size=None):
    """The Bundle of `clients` (a queryset already scoped to `user`) as `user` may read them,
    as JSON text in pieces, one per chunk of clients.

    `log_reads(client_ids)` is called with each chunk before a byte of it is written: every
    exported client is a read of that client (SPEC §7), and a download cut short has still
    logged what it sent.
    """
    chunk_size = chunk_size or CHUNK_SIZE
    fields = frozenset(cases_access.client_readable_fields(user))
    rows = selectors.clients_for_export(user, clients, fields=fields)
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"security": fhir.SECURITY_LABELS},
        "type": "collection",
        "timestamp": timezone.now().isoformat(timespec="seconds"),
    }
    facilities = _Facilities()
    yield _dumps(head)[:-1] + ',"entry":[' + _dumps(fhir.site_organization(site))
    for chunk in _chunks(rows.iterator(chunk_size=chunk_size), chunk_size):
        log_reads([client.pk for client in chunk])
        facilities.read_for(chunk)
        entries = [
            _dumps(entry) for client in chunk for entry in _client_entries(client, fields=fields, facilities=facilities)
        ]
        yield "," + ",".join(entries)
    yield "]}"
