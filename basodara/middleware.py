"""First in MIDDLEWARE: a dependency that is away answers a clean 503 (basodara/errors.py).

A read (GET, HEAD) whose database connection broke under it, as when PostgreSQL restarts
mid-request, is run once more on a fresh connection: the backend waits for the database
to come back (DATABASE_CONNECT_RETRY_SECONDS), so a restart costs the reader nothing. A
write is never repeated here: its transaction was rolled back, and the client sends it again
after Retry-After.
"""

from django.db import connections

from .errors import is_lost_connection, is_retryable, unavailable

SAFE_METHODS = ("GET", "HEAD")


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        error = getattr(request, "basodara_unavailable", None)
        if error is not None and request.method in SAFE_METHODS and is_lost_connection(error) and _may_reconnect():
            del request.basodara_unavailable
            for connection in connections.all(initialized_only=True):
                connection.close()
            response = self.get_response(request)
        return response

    def process_exception(self, request, exception):
        if is_retryable(exception):
            request.basodara_unavailable = exception
            return unavailable(request, exception)
        return None


def _may_reconnect():
    """No transaction is open around the request (one is only in tests, which wrap each
    test in a transaction that a new connection would end)."""
    return not any(connection.in_atomic_block for connection in connections.all(initialized_only=True))
