"""The installable app's files: manifest, service worker at the root, the offline shell."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client


@pytest.fixture
def page_as():
    def _as(user):
        c = Client()
        c.force_login(user)
        return c

    return _as


def served(url):
    """A static file (the test client has no static handler) or a page."""
    if url.startswith("/static/"):
        return finders.find(url.removeprefix("/static/")) is not None
    return Client().get(url).status_code == 200


def test_manifest_names_the_app_and_its_icons(db):
    r = Client().get("/manifest.webmanifest")
    assert r.status_code == 200 and r["Content-Type"] == "application/manifest+json"
    data = json.loads(r.content)
    assert data["start_url"] == "/" and data["scope"] == "/" and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        assert served(icon["src"]), icon


def test_service_worker_is_served_at_the_root_with_workbox_and_the_shell(db):
    r = Client().get("/sw.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/javascript")
    body = r.content.decode()
    assert 'importScripts("/static/vendor/workbox-7.4.1/workbox-sw.js")' in body
    precache = json.loads(re.search(r"precacheAndRoute\((\[.*?\])\)", body).group(1))
    urls = [entry["url"] for entry in precache]
    assert "/offline/" in urls and "/static/offline/shell.js" in urls
    assert all(entry["revision"] for entry in precache)
    for url in urls:
        assert served(url), url


def test_shell_carries_no_client_data_and_no_inline_script(page_as, worker, client_a):
    r = page_as(worker).get("/offline/")
    assert r.status_code == 200
    html = r.content.decode()
    assert client_a.code not in html and "Siti" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "Content-Security-Policy" in r


def test_field_roles_get_the_app_scripts_and_others_do_not(page_as, worker, volunteer, supervisor):
    assert "offline/online.js" in page_as(worker).get("/").content.decode()
    assert "offline/online.js" in page_as(volunteer).get("/").content.decode()
    assert "offline/online.js" not in page_as(supervisor).get("/").content.decode()


def test_sign_out_asks_the_browser_to_clear_the_site_storage(page_as, worker):
    r = page_as(worker).post("/logout/")
    assert r.status_code == 302
    assert r["Clear-Site-Data"] == '"storage"'


def test_the_manifest_is_reachable_before_the_second_factor(settings, supervisor, client_a):
    """Every page links it, the second-factor page too; it carries no data."""
    settings.REQUIRE_2FA = True
    web = Client()
    web.force_login(supervisor)
    assert web.get(f"/clients/{client_a.pk}/").status_code == 302  # the rest waits for the code
    r = web.get("/manifest.webmanifest")
    assert r.status_code == 200 and json.loads(r.content)["name"] == "BASODARA"
