"""Which site held a client on a day (SPEC §12.3), from the accepted transfers and the day
each moved (`accepted_on`): the one dated fact the reports need to count a transferred
client where it was. Before its first move a client was at the first move's sending site;
from a move's day on, at its receiving site; a client never moved is at its own site.

A site's report for a period ending on D counts the clients it held on D, and those it held
before and transferred out by D, with a `transferred_out` outcome dated at the move; a
client that arrived counts from its day of arrival (not in a cohort that began before it).
"""

from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from cases.models import Client
from transfers.models import Transfer, TransferStatus


def _moves():
    return Transfer.objects.filter(client=OuterRef("pk"), status=TransferStatus.ACCEPTED)


def site_on(day):
    """The id of the site holding the outer client row on `day` (an expression): one probe
    of the transfers' site-history index per client, none for a client never moved."""
    arrived = _moves().filter(accepted_on__lte=day).order_by("-accepted_on", "-decided_at", "-pk")
    left_later = _moves().filter(accepted_on__gt=day).order_by("accepted_on", "decided_at", "pk")
    return Coalesce(
        Subquery(arrived.values("to_site")[:1]),
        Subquery(left_later.values("from_site")[:1]),
        F("site_id"),
        output_field=IntegerField(),
    )


def left_site_by(site, day):
    """The last day on or before `day` the outer client row moved away from `site` (an
    expression; NULL if it never did)."""
    gone = _moves().filter(from_site=site, accepted_on__lte=day).order_by("-accepted_on", "-pk")
    return Subquery(gone.values("accepted_on")[:1])


def clients_of_site(site) -> QuerySet:
    """The clients `site` holds now and those it transferred out: what its reports of any
    period may count."""
    transferred_out = Transfer.objects.filter(client=OuterRef("pk"), status=TransferStatus.ACCEPTED, from_site=site)
    return Client.objects.filter(Q(site=site) | Exists(transferred_out))


def held_by(clients, site, day) -> QuerySet:
    """`clients` that `site` held on some day up to `day`, annotated `held_end` (the site
    holding each on `day`) and `gone_end` (the day it left `site`, if it was not there on
    `day`)."""
    return clients.annotate(held_end=site_on(day), gone_from_site=left_site_by(site, day)).filter(
        Q(held_end=site.pk) | Q(gone_from_site__isnull=False)
    )
