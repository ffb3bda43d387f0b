"""The client import page: who reaches it, upload with friendly errors, the dry-run review
with its column mapping, the all-or-nothing commit inline or in a worker, and its result."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import importing
from cases.importing import workflow as import_services
from cases.models import AccessLog, Client, ClientImport, ImportStatus
from tests.factories import csv_bytes, import_row, people, xlsx_bytes

pytestmark = pytest.mark.django_db

UPLOAD = "/clients/import/"


def a_file(content, name="daftar.csv"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def uploaded(c, content, name="daftar.csv", **extra):
    r = c.post(UPLOAD, {"file": a_file(content, name), **extra})
    assert r.status_code == 302, r.content.decode()[:2000]
    client_import = ClientImport.objects.latest("id")
    assert r.url == f"/clients/import/{client_import.pk}/"
    return client_import


def review_data(client_import, action, **changes):
    """The review form as the page fills it in, with `changes` (column_N, skip_duplicates…)."""
    data = {f"column_{i}": name for i, name in client_import.mapping.items()}
    data.update(skip_duplicates="1" if client_import.skip_duplicates else "0", consent_date="", action=action)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "persona, status",
    [
        ("admin_user", 200),
        ("supervisor", 200),
        ("outsider_supervisor", 200),  # their own site's page
        ("worker", 404),
        ("volunteer", 404),
        ("facility_staff", 404),
    ],
)
def test_who_reaches_the_upload_page(request, page_as, persona, status):
    user = request.getfixturevalue(persona)
    assert page_as(user).get(UPLOAD).status_code == status
    assert ('href="/clients/import/"' in page_as(user).get("/clients/").content.decode()) == (status == 200)


@pytest.mark.parametrize(
    "persona, status",
    [
        ("admin_user", 200),
        ("supervisor", 200),
        ("outsider_supervisor", 404),
        ("worker", 404),
        ("volunteer", 404),
        ("facility_staff", 404),
    ],
)
def test_who_reaches_an_import(request, page_as, supervisor, group_a1, persona, status):
    client_import = uploaded(page_as(supervisor), csv_bytes(people(2)))
    c = page_as(request.getfixturevalue(persona))
    assert c.get(f"/clients/import/{client_import.pk}/").status_code == status
    r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit"))
    assert r.status_code == (302 if status == 200 else status)
    if status == 404:
        assert Client.objects.count() == 0


def test_anonymous_is_sent_to_sign_in(client, supervisor, group_a1):
    client_import = importing.client_import_upload(
        actor=supervisor, site=supervisor.site, file_name="a.csv", content=csv_bytes(people(1))
    )
    for url in (UPLOAD, f"/clients/import/{client_import.pk}/"):
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith("/login/")


def test_review_shows_the_dry_run_and_writes_nothing(page_as, supervisor, group_a1, client_a):
    c = page_as(supervisor)
    rows = [
        import_row("Ani Rahasia", nik="8271015708900001"),
        import_row("Budi", sex="X"),
        import_row("Siti Rahmawati", born="17/05/1990"),
    ]
    client_import = uploaded(c, csv_bytes(rows, delimiter=";", bom=True))
    before = (Client.objects.count(), AccessLog.objects.filter(object_type="cases.client").count())
    r = c.get(f"/clients/import/{client_import.pk}/")
    assert r.status_code == 200 and r["Cache-Control"].startswith("max-age=0")
    body = r.content.decode()
    assert "Belum ada yang disimpan." in body
    assert (
        "<td>3</td><td>Jenis kelamin</td><td>Jenis kelamin tidak dikenal: gunakan L atau P (atau M atau F).</td>"
        in body
    )
    assert f"<td>4</td><td>Nama dan tanggal lahir sama dengan klien {client_a.code}.</td>" in body
    assert "Ani Rahasia" in body and "…0001" in body and "8271015708900001" not in body
    assert 'value="commit" disabled' in body  # errors: nothing can be imported yet
    assert (Client.objects.count(), AccessLog.objects.filter(object_type="cases.client").count()) == before


def test_the_reviewer_corrects_the_mapping(page_as, supervisor, group_a1):
    c = page_as(supervisor)
    headers = ["Nama Dampingan", "JK", "Tanggal lahir", "Tanggal persetujuan"]
    client_import = uploaded(c, csv_bytes([["Ani", "P", "01/02/1990", "10/01/2026"]], headers=headers))
    assert client_import.mapping == {"1": "sex", "2": "date_of_birth", "3": "consent_date"}
    body = c.get(f"/clients/import/{client_import.pk}/").content.decode()
    assert "Tidak ada kolom untuk Nama lengkap." in body

    r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "preview", column_0="full_name"))
    assert r.status_code == 302
    client_import.refresh_from_db()
    assert client_import.mapping == {"0": "full_name", "1": "sex", "2": "date_of_birth", "3": "consent_date"}
    body = c.get(f"/clients/import/{client_import.pk}/").content.decode()
    assert "Tidak ada kolom untuk" not in body and '<td data-label="Nama lengkap">Ani</td>' in body

    # One field for two columns is refused in place, and nothing is kept.
    r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit", column_1="full_name"))
    assert r.status_code == 200
    assert r.content.decode().count("Hanya satu kolom yang boleh menjadi Nama lengkap.") == 2
    client_import.refresh_from_db()
    assert client_import.mapping["1"] == "sex" and client_import.status == ImportStatus.UPLOADED


def test_commit_of_a_small_file_runs_at_once(page_as, supervisor, group_a1, volunteer):
    c = page_as(supervisor)
    rows = [import_row("Ani", companion="volunteer_a1"), import_row("Ani", born="01/01/1991"), import_row("ani")]
    client_import = uploaded(c, csv_bytes(rows))
    r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit", skip_duplicates="1"))
    assert r.status_code == 302 and r.url == f"/clients/import/{client_import.pk}/"
    client_import.refresh_from_db()
    assert (client_import.status, client_import.created_count, client_import.skipped_rows) == ("done", 2, [4])
    body = c.get(r.url).content.decode()
    assert "2 klien terdaftar" in body and ", ".join(client_import.created_codes) in body
    assert "1 baris dilewati karena duplikat: 4" in body
    assert 'http-equiv="refresh"' not in body
    created = AccessLog.objects.filter(object_type="cases.client", action="create")
    assert created.count() == 2 and set(created.values_list("user", flat=True)) == {supervisor.pk}
    # A second click changes nothing.
    r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit"))
    assert r.status_code == 200 and Client.objects.count() == 2


def test_commit_with_errors_is_refused_and_the_review_goes_on(page_as, supervisor, group_a1):
    c = page_as(supervisor)
    client_import = uploaded(c, csv_bytes([import_row("Ani"), import_row("Budi", born="kemarin")]))
    r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit"), follow=True)
    body = r.content.decode()
    assert "Perbaiki dulu kesalahan di bawah: tidak ada yang diimpor." in body
    assert "<td>3</td><td>Tanggal lahir</td>" in body
    client_import.refresh_from_db()
    assert client_import.status == ImportStatus.UPLOADED and client_import.content
    assert Client.objects.count() == 0


def test_a_large_file_is_imported_by_a_worker_with_progress(
    page_as, supervisor, group_a1, monkeypatch, django_capture_on_commit_callbacks
):
    from cases.importing import tasks

    sent = []
    monkeypatch.setattr(tasks.run_client_import, "apply_async", lambda args, *a, **kw: sent.append(tuple(args)))
    monkeypatch.setattr(import_services, "INLINE_MAX_ROWS", 5)
    c = page_as(supervisor)
    client_import = uploaded(c, xlsx_bytes(people(8)), "daftar.xlsx")
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit"))
    assert sent == [(client_import.pk,)] and Client.objects.count() == 0

    ClientImport.objects.filter(pk=client_import.pk).update(status=ImportStatus.RUNNING, validated_rows=8, saved_rows=4)
    body = c.get(r.url).content.decode()
    assert '<meta http-equiv="refresh" content="3">' in body
    assert '<progress class="w-100" max="100" value="60"' in body  # checking is a fifth, saving the rest
    assert "Klien disimpan: 4 dari 8" in body
    ClientImport.objects.filter(pk=client_import.pk).update(status=ImportStatus.QUEUED)

    tasks.run_client_import(client_import.pk)
    body = c.get(r.url).content.decode()
    assert "8 klien terdaftar" in body and 'http-equiv="refresh"' not in body
    assert Client.objects.count() == 8


# Committed for real, as in production: the task is published the moment the request's
# write commits, so the page learns at once that the queue was unreachable.
@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_keeps_the_import_under_review(page_as, supervisor, group_a1, monkeypatch):
    from cases.importing import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unavailable")

    monkeypatch.setattr(tasks.run_client_import, "apply_async", broker_down)
    monkeypatch.setattr(import_services, "INLINE_MAX_ROWS", 1)
    c = page_as(supervisor)
    client_import = uploaded(c, csv_bytes(people(3)))
    r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit"), follow=True)
    body = r.content.decode()
    assert "Impor tidak dapat dimulai saat ini; coba lagi sebentar lagi." in body
    assert 'value="commit"' in body  # the review again, ready to start once more
    client_import.refresh_from_db()
    assert client_import.status == ImportStatus.UPLOADED and client_import.content


def test_a_failed_import_names_its_rows_and_keeps_nothing(page_as, supervisor, group_a1, monkeypatch):
    real_register = import_services.client_register
    calls = []

    def fails_on_the_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database gone")
        return real_register(**kwargs)

    monkeypatch.setattr(import_services, "client_register", fails_on_the_second)
    c = page_as(supervisor)
    client_import = uploaded(c, csv_bytes(people(3)))
    r = c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit"), follow=True)
    body = r.content.decode()
    assert r.status_code == 200 and "Tidak ada yang diimpor" in body
    assert "<td>3</td><td>—</td><td>Baris ini tidak dapat disimpan.</td>" in body
    assert Client.objects.count() == 0
    client_import.refresh_from_db()
    assert client_import.content == b""


def test_admin_chooses_the_site(page_as, admin_user, site_a, site_b, group_b1):
    c = page_as(admin_user)
    body = c.get(UPLOAD).content.decode()
    assert 'name="site"' in body
    r = c.post(UPLOAD, {"file": a_file(csv_bytes(people(1)))})
    assert r.status_code == 200 and 'id="id_site_error"' in r.content.decode()
    client_import = uploaded(c, csv_bytes([import_row("Andi", group="KDS Anging Mammiri")]), site=site_b.pk)
    assert client_import.site == site_b
    c.post(f"/clients/import/{client_import.pk}/", review_data(client_import, "commit"))
    assert Client.objects.get().code.startswith("MKS-")


def test_a_supervisor_imports_into_their_own_site_only(page_as, supervisor, site_b, group_a1):
    c = page_as(supervisor)
    assert 'name="site"' not in c.get(UPLOAD).content.decode()
    client_import = uploaded(c, csv_bytes(people(1)), site=site_b.pk)  # a site in the form is ignored
    assert client_import.site == supervisor.site


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("daftar.pdf", b"%PDF-1.4 ...", "Unggah berkas .csv atau .xlsx."),
        ("daftar.xlsx", b"PK\x03\x04garbage", "Berkas XLSX tidak dapat dibaca"),
        ("daftar.csv", b"", "Berkas kosong."),
        ("daftar.csv", b"\x81\x8d\x8f\x90", "Berkas bukan teks yang dapat dibaca"),
    ],
)
def test_bad_files_give_form_errors_not_500(page_as, supervisor, name, content, message):
    r = page_as(supervisor).post(UPLOAD, {"file": a_file(content, name)})
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="id_file_error"' in body and message in body
    assert ClientImport.objects.count() == 0


def test_an_oversized_file_is_refused(page_as, supervisor, monkeypatch):
    from cases import importing

    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 2**20)
    r = page_as(supervisor).post(UPLOAD, {"file": a_file(b"x" * (2**20 + 1))})
    assert r.status_code == 200
    assert "Berkas lebih besar dari 1 MB: bagi menjadi beberapa berkas yang lebih kecil." in r.content.decode()
    assert ClientImport.objects.count() == 0


def test_uploads_never_touch_the_disk(page_as, supervisor, settings, monkeypatch):
    """A client list is never spooled to an unencrypted temporary file: a request over the
    in-memory limit keeps no file, and the form says the file is too large."""
    from django.core.files import uploadedfile

    def no_disk(*args, **kwargs):
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", no_disk)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 2**16
    r = page_as(supervisor).post(UPLOAD, {"file": a_file(csv_bytes(people(2000)))})
    assert r.status_code == 200
    assert "Berkas lebih besar dari 5 MB: bagi menjadi beberapa berkas yang lebih kecil." in r.content.decode()
    assert ClientImport.objects.count() == 0
    # Under the limit, the same page takes the file (in memory).
    r = page_as(supervisor).post(UPLOAD, {"file": a_file(csv_bytes(people(2)))})
    assert r.status_code == 302 and ClientImport.objects.count() == 1


def test_discard_deletes_the_file(page_as, supervisor, group_a1):
    c = page_as(supervisor)
    client_import = uploaded(c, csv_bytes(people(2)))
    # Even with choices the form would refuse (one field for two columns).
    data = review_data(client_import, "discard", column_1="full_name")
    r = c.post(f"/clients/import/{client_import.pk}/", data, follow=True)
    assert "Impor dibatalkan dan berkasnya dihapus." in r.content.decode()
    client_import.refresh_from_db()
    assert (client_import.status, client_import.content) == (ImportStatus.DISCARDED, b"")
    body = c.get(f"/clients/import/{client_import.pk}/").content.decode()
    assert "Impor ini dibatalkan; berkasnya sudah dihapus." in body


def test_history_lists_the_sites_imports_only(page_as, supervisor, outsider_supervisor, group_a1):
    uploaded(page_as(supervisor), csv_bytes(people(1)), "daftar-a.csv")
    assert "/clients/import/" in page_as(supervisor).get(UPLOAD).content.decode().split("Impor terakhir")[1]
    assert "Belum ada impor." in page_as(outsider_supervisor).get(UPLOAD).content.decode()


def test_review_page_queries_do_not_grow_with_rows(page_as, supervisor, group_a1, django_assert_max_num_queries):
    c = page_as(supervisor)
    small = uploaded(c, csv_bytes(people(3)))
    large = uploaded(c, csv_bytes(people(150)))
    # Session and user, the import, the site's groups, the site's matching clients, and
    # the page's own reads (messages, unread count).
    with django_assert_max_num_queries(8) as small_queries:
        assert c.get(f"/clients/import/{small.pk}/").status_code == 200
    with django_assert_max_num_queries(len(small_queries)):
        assert c.get(f"/clients/import/{large.pk}/").status_code == 200
