"""The transfer pages (SPEC §12.3): "Transfer" from the client page, and the supervisor's
inbox where a transfer is accepted with a worker or declined with a reason."""

import pytest

from cases.models import Client
from transfers.models import Transfer, TransferStatus


def test_a_supervisor_transfers_from_the_client_page(page_as, supervisor, worker, sharing_client, site_b):
    page = page_as(supervisor).get(f"/clients/{sharing_client.pk}/").content.decode()
    assert f'href="/clients/{sharing_client.pk}/transfer/"' in page
    assert 'href="/transfers/"' in page  # the nav link
    worker_page = page_as(worker).get(f"/clients/{sharing_client.pk}/").content.decode()
    assert "/transfer/" not in worker_page and 'href="/transfers/"' not in worker_page
    browser = page_as(supervisor)
    form = browser.get(f"/clients/{sharing_client.pk}/transfer/")
    assert form.status_code == 200 and site_b.name in form.content.decode()
    r = browser.post(f"/clients/{sharing_client.pk}/transfer/", {"to_site": site_b.pk, "reason": ""})
    assert r.status_code == 200 and "is-invalid" in r.content.decode()
    r = browser.post(f"/clients/{sharing_client.pk}/transfer/", {"to_site": site_b.pk, "reason": "Pindah kerja"})
    assert r.status_code == 302 and r["Location"] == "/transfers/"
    transfer = Transfer.objects.get()
    assert (transfer.to_site, transfer.reason, transfer.status) == (site_b, "Pindah kerja", TransferStatus.REQUESTED)
    outbox = browser.get("/transfers/").content.decode()
    assert sharing_client.code in outbox and site_b.name in outbox


def test_without_consent_the_form_asks_whether_the_client_asked(page_as, supervisor, client_a, site_b):
    r = page_as(supervisor).post(f"/clients/{client_a.pk}/transfer/", {"to_site": site_b.pk, "reason": "Pindah"})
    assert r.status_code == 200 and not Transfer.objects.exists()
    assert "is-invalid" in r.content.decode()


@pytest.mark.parametrize("who", ["worker", "volunteer", "facility_staff"])
def test_others_have_no_transfer_pages(request, page_as, sharing_client, who):
    browser = page_as(request.getfixturevalue(who))
    assert browser.get("/transfers/").status_code == 403
    assert browser.get(f"/clients/{sharing_client.pk}/transfer/").status_code in (403, 404)


def test_the_receiving_supervisor_accepts_with_a_worker(
    page_as, requested, outsider_supervisor, worker_b, supervisor, django_assert_max_num_queries
):
    browser = page_as(outsider_supervisor)
    with django_assert_max_num_queries(12):  # session, user, the three lists, workers per row, read log
        inbox = browser.get("/transfers/").content.decode()
    assert requested.client.code in inbox and f'value="{worker_b.pk}"' in inbox and "Pindah ke Makassar" in inbox
    r = browser.post(f"/transfers/{requested.pk}/accept/", {f"t{requested.pk}-assigned_social_worker": worker_b.pk})
    assert r.status_code == 302
    client = Client.objects.get(pk=requested.client_id)
    assert (client.site_id, client.assigned_social_worker_id) == (outsider_supervisor.site_id, worker_b.pk)
    assert page_as(worker_b).get(f"/clients/{client.pk}/").status_code == 200
    assert page_as(supervisor).get(f"/clients/{client.pk}/").status_code == 404
    # Answered once: a second answer is refused with a message, nothing changes.
    r = browser.post(f"/transfers/{requested.pk}/decline/", {f"t{requested.pk}-reason": "x"}, follow=True)
    assert Transfer.objects.get(pk=requested.pk).status == TransferStatus.ACCEPTED
    assert "alert" in r.content.decode()


def test_the_receiving_supervisor_declines_with_a_reason(page_as, requested, outsider_supervisor, supervisor):
    browser = page_as(outsider_supervisor)
    browser.post(f"/transfers/{requested.pk}/decline/", {f"t{requested.pk}-reason": ""})
    assert Transfer.objects.get(pk=requested.pk).status == TransferStatus.REQUESTED
    browser.post(f"/transfers/{requested.pk}/decline/", {f"t{requested.pk}-reason": "Tidak ada pekerja sosial"})
    transfer = Transfer.objects.get(pk=requested.pk)
    assert (transfer.status, transfer.decline_reason) == (TransferStatus.DECLINED, "Tidak ada pekerja sosial")
    outgoing = page_as(supervisor).get("/transfers/").content.decode()
    assert "Tidak ada pekerja sosial" in outgoing
    # The sending side does not answer its own request.
    assert page_as(supervisor).post(f"/transfers/{requested.pk}/accept/", {}).status_code == 403


def test_the_access_log_names_the_transfer_reads_and_writes(page_as, requested, outsider_supervisor):
    browser = page_as(outsider_supervisor)
    browser.get("/transfers/")  # the inbox reads the client, by code and nickname
    browser.post(f"/transfers/{requested.pk}/accept/", {})
    page = browser.get(f"/clients/{requested.client_id}/access-log/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert f"Klien (pindah sentra) #{requested.client_id}" in page  # a read through the transfer inbox
    assert f"Pindah sentra #{requested.pk}" in page  # the transfer written
