import os

from django.core.wsgi import get_wsgi_application

from basodara.postgresql import serve_web_requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basodara.settings")
# This process serves web requests: its database statements get the web statement timeout.
serve_web_requests()
application = get_wsgi_application()
