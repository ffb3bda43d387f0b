"""Budgets on a slow link (SPEC §10, issue 20), measured in Chromium through its DevTools
protocol with the network emulated at 400 ms latency and 400 kbit/s each way, against a
server that serves static files as production and the embedded default do (collected,
hashed, gzipped, by WhiteNoise). Each test prints what it measured."""

import time

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django.test.testcases import LiveServerThread
from playwright.sync_api import expect

from tests.factories import PASSWORD

from .test_browser import browser_page  # noqa: F401 (a fixture)
from .test_browser_offline import prepare_offline

SLOW_LINK = {
    "offline": False,
    "latency": 400,  # ms, each request
    "downloadThroughput": 400_000 / 8,  # bytes per second
    "uploadThroughput": 400_000 / 8,
}
SIGN_IN_BYTES = 120_000
TODAY_SECONDS = 2.0
OFFLINE_NAVIGATION_SECONDS = 0.3

MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "basodara.staticstorage.HashedStaticFilesStorage"},
}


@pytest.fixture
def deployed_server(tmp_path, transactional_db):
    """A live server without the test static handler: WhiteNoise serves the collected files."""
    with override_settings(
        STATIC_ROOT=tmp_path / "static",
        STORAGES=MANIFEST,
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        thread = LiveServerThread("localhost", lambda handler: handler, connections_override=None)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield f"http://localhost:{thread.port}"
        thread.terminate()
        connections.close_all()


def slow_link(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
    return cdp


@pytest.mark.django_db(transaction=True)
def test_first_load_of_the_sign_in_page_is_small(browser_page, deployed_server):  # noqa: F811
    page = browser_page
    cdp = slow_link(page)
    transferred = {}
    cdp.on("Network.loadingFinished", lambda e: transferred.__setitem__(e["requestId"], e["encodedDataLength"]))
    started = time.perf_counter()
    page.goto(f"{deployed_server}/login/", wait_until="load")
    seconds = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    total = sum(transferred.values())
    print(f"\nsign-in page, first load: {total / 1000:.1f} kB in {len(transferred)} responses, {seconds:.2f} s")
    assert total <= SIGN_IN_BYTES


@pytest.mark.django_db(transaction=True)
def test_today_after_sign_in_is_quick(browser_page, deployed_server, worker, late_client):  # noqa: F811
    page = browser_page
    slow_link(page)
    page.goto(f"{deployed_server}/login/")
    page.fill("#id_username", "worker_a")
    page.fill("#id_password", PASSWORD)
    started = time.perf_counter()
    with page.expect_navigation(url=f"{deployed_server}/", wait_until="load"):
        page.locator("main button[type=submit]").click()
    seconds = time.perf_counter() - started
    print(f"\nToday after sign-in: {seconds:.2f} s")
    assert late_client.code in page.content()
    assert seconds <= TODAY_SECONDS


@pytest.mark.django_db(transaction=True)
def test_an_offline_navigation_is_instant(browser_page, deployed_server, worker, late_client):  # noqa: F811
    page = browser_page
    prepare_offline(page, deployed_server, "worker_a")
    page.context.set_offline(True)
    timings = []
    for path in ("/clients/", f"/clients/{late_client.pk}/", "/"):
        started = time.perf_counter()
        page.goto(f"{deployed_server}{path}")
        expect(page.locator("#view-app")).to_be_visible()
        expect(page.get_by_text(late_client.code).first).to_be_visible()
        timings.append(time.perf_counter() - started)
    print("\noffline navigations: " + ", ".join(f"{t * 1000:.0f} ms" for t in timings))
    assert max(timings) <= OFFLINE_NAVIGATION_SECONDS
