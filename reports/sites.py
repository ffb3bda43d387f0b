"""Which site held a client on a day (SPEC §12.3), from the accepted transfers and the day
each moved (`accepted_on`): the one dated fact the reports need to count a transferred
client where it was. Before its first move a client was at the first move's sending site;
from a move's day on, at its receiving site; a client never moved is at its own site.

A site's report for a period ending on D counts the clients it held on D, and those it held
before and transferred out by D, with a `transferred_out` outcome dated at the move; a
client that arrived counts from its day of arrival (not in a cohort that began before it).
"""

from django.db.models import DateField, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce

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
    period may count. The transferred out are one hashed list the database builds once; as
    an OR beside the site's own the figures cost what the site's own alone cost (20 000
    clients: 440 ms against 420 for the supervisor's page figures), where a UNION of ids,
    joined into each of the figures' derived tables, cost 820."""
    transferred_out = Transfer.objects.filter(status=TransferStatus.ACCEPTED, from_site=site).order_by()
    return Client.objects.filter(Q(site=site) | Q(pk__in=transferred_out.values("client_id")))


def moves(clients, *, site, before, end) -> QuerySet:
    """Per client of `clients` that ever moved (the others are at their own site): the site
    holding it on `end` and on `before`, and the last day on or before `end` it left `site`
    (NULL without a site). The correlated look-ups run for these few clients only."""
    moved = clients.filter(pk__in=Transfer.objects.filter(status=TransferStatus.ACCEPTED).values("client_id"))
    gone = left_site_by(site, end) if site is not None else Cast(Value(None), output_field=DateField())
    return moved.order_by().values(cid=F("pk"), held_end=site_on(end), held_before=site_on(before), gone_from=gone)
