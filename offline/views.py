"""The installable field app (SPEC §12.6): its manifest, its service worker and the offline
shell the service worker answers with when a page cannot be fetched.

None of these carries client data: the shell is an empty frame that the page's script fills
from the encrypted store on the phone."""

import hashlib
import json

from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

WORKBOX = "vendor/workbox-7.4.1/"
WORKBOX_MODULES = ("workbox-core", "workbox-routing", "workbox-strategies", "workbox-precaching")
# What the shell needs, kept by the service worker at install and updated when one changes.
SHELL_FILES = (
    "vendor/bootstrap-5.3.9/css/bootstrap.min.css",
    "web/app.css",
    "web/icon.svg",
    "vendor/idb-8.0.4/umd.js",
    "offline/store.js",
    "offline/shell.js",
)
SHELL_URL = "/offline/"


def _revision(path):
    found = finders.find(path)
    with open(found, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


@require_GET
@cache_control(max_age=3600)
def manifest(request):
    data = {
        "name": "BASODARA",
        "short_name": "BASODARA",
        "description": _("Case management for the community support of people living with HIV"),
        "lang": get_language(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0a3d6b",
        "icons": [
            {"src": static("web/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("web/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": static("web/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_GET
def service_worker(request):
    """At the root, so that its scope is the whole site. The shell's revision follows its
    language and its files, so the browser fetches them again when either changes."""
    shell = render_to_string("offline/shell.html", request=None)
    precache = [{"url": SHELL_URL, "revision": hashlib.sha256(shell.encode()).hexdigest()[:16]}]
    precache += [{"url": static(path), "revision": _revision(path)} for path in SHELL_FILES]
    modules = {name: static(f"{WORKBOX}{name}.prod.js") for name in WORKBOX_MODULES}
    body = render_to_string(
        "offline/sw.js",
        {
            "workbox_sw": json.dumps(static(f"{WORKBOX}workbox-sw.js")),
            "modules": json.dumps(modules),
            "precache": json.dumps(precache),
            "shell_url": json.dumps(SHELL_URL),
        },
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def shell(request):
    """The offline app's frame: the same for everyone, no data in it (kept by the service worker)."""
    return render(request, "offline/shell.html")
