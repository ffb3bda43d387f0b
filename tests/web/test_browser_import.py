"""Importing a client list in a browser (Playwright, Chromium, a phone screen, against a live
server): a supervisor uploads the group's spreadsheet, corrects a column, reads the dry
run, imports, and finds the clients. Screenshots go to artifacts/screenshots/."""

import pytest

from cases.models import Client, ClientImport
from tests.factories import csv_bytes

from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)


@pytest.mark.django_db(transaction=True)
def test_supervisor_imports_a_group_list(browser_page, live_server, supervisor, group_a1, volunteer, tmp_path):  # noqa: F811
    page, base = browser_page, live_server.url
    headers = ["No", "Nama Dampingan", "JK", "Tgl. Lahir", "Kelompok", "Pendamping", "Tanggal persetujuan"]
    rows = [
        ["1", "Siti Aminah", "P", "17/08/1990", "KDS Sahabat", "volunteer_a1", "10/01/2026"],
        ["2", "Budi Santoso", "L", "03/02/1985", "KDS Sahabat", "", "10/01/2026"],
        ["3", "siti aminah", "P", "1990-08-17", "", "", "10/01/2026"],
    ]
    path = tmp_path / "daftar-kds.csv"
    path.write_bytes(csv_bytes(rows, headers=headers, delimiter=";", bom=True, title="DAFTAR DAMPINGAN KDS"))

    sign_in(page, base, "supervisor_a")
    page.goto(f"{base}/clients/")
    page.get_by_role("link", name="Impor dari berkas").click()
    page.wait_for_url(f"{base}/clients/import/")
    shot(page, "import-upload")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Unggah dan periksa").click()
    assert "Tidak ada kolom untuk Nama lengkap." in page.content()
    shot(page, "import-review-unmapped")

    page.select_option("select[name=column_1]", "full_name")  # "Nama Dampingan" is the client's name
    with page.expect_navigation():
        page.get_by_role("button", name="Periksa ulang dengan pilihan ini").click()
    content = page.content()
    assert "Tidak ada kolom untuk" not in content
    assert "Nama dan tanggal lahir sama dengan baris 3." in content
    assert "2 klien akan dibuat" in content and Client.objects.count() == 0
    shot(page, "import-review")

    with page.expect_navigation():
        page.get_by_role("button", name="Impor", exact=True).click()
    content = page.content()
    assert "2 klien terdaftar" in content and "1 baris dilewati karena duplikat: 5" in content
    shot(page, "import-done")
    assert sorted(Client.objects.values_list("full_name", flat=True)) == ["Budi Santoso", "Siti Aminah"]
    assert ClientImport.objects.get().content == b""
