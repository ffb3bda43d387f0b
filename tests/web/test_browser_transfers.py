"""A transfer in a browser (Playwright, Chromium, a phone screen, a live server): the
supervisor of Ternate asks from the client page, the supervisor of the other site accepts in
the inbox with one of its workers, and Ternate no longer opens the client. The browser_page
fixture fails on any console error or CSP violation. Screenshots: artifacts/screenshots/."""

import pytest

from cases.models import Client, Role
from tests.factories import UserFactory

from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)
from .test_browser_referrals import sign_out


@pytest.fixture
def sharing_client(client_a):
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    return client_a


@pytest.fixture
def worker_b(site_b):
    return UserFactory(username="worker_b2", role=Role.SOCIAL_WORKER, site=site_b)


@pytest.mark.django_db(transaction=True)
def test_a_transfer_from_the_client_page_to_the_other_sites_inbox(
    browser_page,  # noqa: F811
    live_server,
    supervisor,
    outsider_supervisor,
    worker_b,
    sharing_client,
    site_b,
):
    page, base = browser_page, live_server.url
    sign_in(page, base, "supervisor_a")
    page.goto(f"{base}/clients/{sharing_client.pk}/")
    page.locator(f"a[href='/clients/{sharing_client.pk}/transfer/']").click()
    page.wait_for_url(f"{base}/clients/{sharing_client.pk}/transfer/")
    page.select_option("#id_to_site", str(site_b.pk))
    page.fill("#id_reason", "Pindah ke Makassar ikut keluarga")
    shot(page, "transfer-form")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert page.url == f"{base}/transfers/"
    assert "alert-success" in page.content() and sharing_client.code in page.content()
    shot(page, "transfer-outgoing")
    sign_out(page, base)

    sign_in(page, base, "supervisor_b")
    page.locator(".navbar-toggler").click()  # the menu is collapsed on a phone
    page.locator("#nav-menu.show a[href='/transfers/']").click()
    page.wait_for_url(f"{base}/transfers/")
    card = page.locator("article.card").first
    assert sharing_client.code in card.inner_text()
    shot(page, "transfer-inbox")
    card.locator("select").select_option(str(worker_b.pk))
    with page.expect_navigation():
        card.locator("button.btn-primary").click()
    assert "alert-success" in page.content()
    shot(page, "transfer-accepted")
    client = Client.objects.get(pk=sharing_client.pk)
    assert (client.site_id, client.assigned_social_worker_id) == (site_b.pk, worker_b.pk)
    page.goto(f"{base}/clients/{client.pk}/")
    assert client.code in page.locator("h1").inner_text()
    sign_out(page, base)

    sign_in(page, base, "supervisor_a")
    response = page.goto(f"{base}/clients/{client.pk}/")
    assert response.status == 404
