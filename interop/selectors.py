"""Reads for the FHIR export: clients with every record the export writes, each kind as the
reader may see it (the apps' access modules), fetched a chunk of clients at a time."""

from django.db.models import Prefetch, QuerySet

from cases import access as cases_access
from cases.models import Facility, Refill, ViralLoad
from outreach import access as outreach_access
from referrals import access as referral_access
from referrals.models import ReferralEvent

# Client fields stored encrypted: not even decrypted for a reader who may not see them.
ENCRYPTED_FIELDS = ("nik", "phone", "address")
# What the export reads of a visit: never its free-text notes (interop.fhir.encounter).
VISIT_FIELDS = ("id", "client", "visited_at", "kind", "missed_doses_7d", "pills_left")


def clients_for_export(user, clients: QuerySet, *, fields) -> QuerySet:
    """`clients` (already scoped to `user` by cases.access) with their site, refills, viral
    loads, visits and referrals (with their steps) attached as `fhir_*` lists. Iterated
    with `iterator(chunk_size=n)`, each prefetch is one query per chunk of n clients,
    never one per client."""
    refills = cases_access.records_visible_to(user, Refill).order_by("pickup_date", "pk")
    viral_loads = cases_access.records_visible_to(user, ViralLoad).order_by("sample_date", "pk")
    visits = outreach_access.visits_visible_to(user).only(*VISIT_FIELDS).order_by("visited_at", "pk")
    referrals = (
        referral_access.referrals_visible_to(user)
        .prefetch_related(
            Prefetch("events", queryset=ReferralEvent.objects.order_by("at", "pk"), to_attr="fhir_events")
        )
        .order_by("created_at", "pk")
    )
    hidden = [name for name in ENCRYPTED_FIELDS if name not in fields]
    return (
        clients.select_related("site")
        .defer(*hidden)
        .prefetch_related(
            Prefetch("refills", queryset=refills, to_attr="fhir_refills"),
            Prefetch("viral_loads", queryset=viral_loads, to_attr="fhir_viral_loads"),
            Prefetch("visits", queryset=visits, to_attr="fhir_visits"),
            Prefetch("referrals", queryset=referrals, to_attr="fhir_referrals"),
        )
        .order_by("code")
    )


def facilities_by_id(ids) -> dict:
    """The facilities records name, by id. Not narrowed to the reader's facilities: a
    refill at another site's clinic must still name it, and a facility's name and public
    contact are not client data."""
    return Facility.objects.in_bulk(ids)
