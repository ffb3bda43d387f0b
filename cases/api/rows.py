"""Client rows for reading: `.values()` and plain dicts (SPEC §10, lean reads on hot lists).

Through ClientSerializer a page of clients cost about five times its SQL: a model instance
per row, then some thirty DRF fields per row, rebuilt for every request. Reads build the
same JSON here instead. ClientSerializer stays the contract (the schema, writes and the
answers to writes): a field added there must be readable here too (`readable_fields`
follows its field list; a column it computes differently belongs in both).
"""

from cases import access, selectors
from cases.models import Client

from .serializers import ClientSerializer


def readable_fields(user) -> tuple:
    """The keys of a client row for `user`, in ClientSerializer's order."""

    readable = {
        *access.client_readable_fields(user),
        *access.CLIENT_ROW_FIELDS,
        *selectors.client_row_annotations(),
    }
    return tuple(name for name in ClientSerializer.Meta.fields if name in readable)


class CountedRows:
    """What the list paginates: the filtered clients, counted as they are and sliced as rows
    with their follow-up figures. Django keeps the figures' join to each client's site in
    a COUNT that does not need it; at 100 000 clients that join doubles the count.

    With `ids_first` (a personal reach: a social worker's or volunteer's few hundred clients)
    the reach is read once, as its ordered ids, instead of twice (the COUNT and the page each
    evaluating the grants): the count is their number and the page is read by primary key."""

    def __init__(self, clients, fields, *, ids_first=False):
        self.clients = clients
        self.fields = fields
        self.ids_first = ids_first
        self._ids = None

    def ids(self) -> list:
        if self._ids is None:
            self._ids = list(self.clients.values_list("pk", flat=True))
        return self._ids

    def count(self):
        return len(self.ids()) if self.ids_first else self.clients.count()

    def __getitem__(self, key):
        if not self.ids_first:
            return values(selectors.client_rows(self.clients), self.fields)[key]
        page = self.ids()[key]
        if not page:
            return []
        by_pk = Client.objects.filter(pk__in=page).order_by()
        found = {row["id"]: row for row in values(selectors.client_rows(by_pk), self.fields)}
        return [found[pk] for pk in page if pk in found]


def values(clients, fields):
    """The client rows (cases.selectors.client_rows) as dicts of the columns `fields` need."""
    return clients.values("id", *(f for f in fields if f not in ("id", "support_groups")))


def client_data(rows, fields) -> list:
    """Rows from `values()` as the API shows them; one query adds their support groups."""
    rows = list(rows)
    groups = {}
    if "support_groups" in fields and rows:
        # SupportGroup's own ordering (site, then name), as the related field would list them.
        memberships = (
            Client.support_groups.through.objects.filter(client_id__in=[row["id"] for row in rows])
            .order_by("supportgroup__site__code", "supportgroup__name")
            .values_list("client_id", "supportgroup_id")
        )
        for client_id, group_id in memberships:
            groups.setdefault(client_id, []).append(group_id)
    return [{f: groups.get(row["id"], []) if f == "support_groups" else row[f] for f in fields} for row in rows]
