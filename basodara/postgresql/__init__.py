"""Django's PostgreSQL backend, with what a database that restarts needs (see base.py).

The switches live here, free of imports, so basodara.wsgi can use them before Django is set
up."""

import contextlib
import contextvars

web_requests = False
connect_retry = contextvars.ContextVar("basodara_connect_retry", default=True)


def serve_web_requests(enabled=True):
    """Connections opened from now on in this process carry the web statement timeout."""
    global web_requests
    web_requests = enabled


@contextlib.contextmanager
def without_connect_retry():
    """Connect once, without waiting for a restarting database (/health/ reports at once)."""
    token = connect_retry.set(False)
    try:
        yield
    finally:
        connect_retry.reset(token)
