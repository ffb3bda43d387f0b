"""Django's PostgreSQL backend, with what a database that restarts needs (see base.py).

`serve_web_requests()` lives here, free of imports, so basodara.wsgi can call it before
Django is set up."""

web_requests = False


def serve_web_requests(enabled=True):
    """Connections opened from now on in this process carry the web statement timeout."""
    global web_requests
    web_requests = enabled
