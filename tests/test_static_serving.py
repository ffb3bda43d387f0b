"""Static files as the embedded default and production serve them: gzip and long caching."""

import gzip
import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "basodara.staticstorage.HashedStaticFilesStorage"},
}


@pytest.fixture(params=[False, True], ids=["production", "embedded-default-debug"])
def collected(request, tmp_path, settings):
    settings.DEBUG = request.param
    settings.STATIC_ROOT = tmp_path / "static"
    with override_settings(STORAGES=MANIFEST, WHITENOISE_USE_FINDERS=False, WHITENOISE_AUTOREFRESH=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield


@pytest.mark.django_db
def test_sign_in_page_links_hashed_files_served_gzipped_and_cached(collected):
    web = Client()  # a new handler: WhiteNoise reads the collected files
    page = web.get("/login/")
    assert page.status_code == 200
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.content.decode())
    css = [u for u in urls if u.endswith(".css") and "bootstrap" in u]
    assert css and re.search(r"\.[0-9a-f]{12}\.css$", css[0]), urls
    for url in urls:
        r = web.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert r.status_code == 200, url
        assert r["Cache-Control"] == "max-age=315360000, public, immutable", url
        body = b"".join(r.streaming_content)
        if r.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        assert body
    big = web.get(css[0], HTTP_ACCEPT_ENCODING="gzip")
    assert big["Content-Encoding"] == "gzip"
    assert int(big["Content-Length"]) < 40_000  # 232 kB of Bootstrap, about 31 kB on the wire
