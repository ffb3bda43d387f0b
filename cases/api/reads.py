"""Every answer that names a client is a read of that client (SPEC §12.5)."""

from cases import audit
from cases.models import AccessKind


class ClientReadsLogged:
    """Mixed into a viewset whose rows name clients (a visit, a refill, a meeting's attendees):
    whatever the answer carries, a list page, one record or the answer to a write, is
    logged as reads of the clients it names, in one insert per response. Read from the
    answer itself, so no path (a custom action, a replayed field entry) sends a client
    without its log entry."""

    client_read_what = ""
    client_keys = ("client",)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if 200 <= response.status_code < 300 and request.method != "DELETE":
            data = getattr(response, "data", None)
            if isinstance(data, dict) and isinstance(data.get("results"), list):
                rows, kind = data["results"], AccessKind.LIST
            elif isinstance(data, list):
                rows, kind = data, AccessKind.LIST
            elif isinstance(data, dict):
                rows, kind = [data], AccessKind.DETAIL
            else:
                rows = []
            ids = dict.fromkeys(pk for row in rows if isinstance(row, dict) for pk in self._clients_named(row))
            if ids:
                audit.log_client_reads(ids, kind=kind, what=self.client_read_what)
        return response

    def _clients_named(self, row):
        for key in self.client_keys:
            value = row.get(key)
            if isinstance(value, list):
                yield from (v for v in value if isinstance(v, int))
            elif isinstance(value, int):
                yield value
