"""Importing client lists (CSV, XLSX): reading, column mapping, row errors with their
spreadsheet row numbers, duplicates, the dry run, the all-or-nothing commit through
client_register, the worker path, and the management command."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases import importing, services
from cases.importing import workflow as import_services
from cases.models import AccessLog, Client, ClientCodeCounter, ClientImport, ImportStatus
from cases.security import crypto
from tests.factories import IMPORT_HEADERS, csv_bytes, import_row, people, xlsx_bytes

pytestmark = pytest.mark.django_db


def check(actor, content, name="daftar.csv", *, mapping=None, consent_date=None, sheet=""):
    table = importing.read_table(content, name, sheet=sheet)
    mapping = importing.guess_mapping(table.headers) if mapping is None else mapping
    return importing.check_rows(actor=actor, site=actor.site, table=table, mapping=mapping, consent_date=consent_date)


def errors_of(plan):
    return [(e["row"], e["column"], e["message"]) for e in plan.errors()]


def counts():
    """What an import may write: clients, log entries, code counters, import records."""
    return (
        Client.objects.count(),
        AccessLog.objects.count(),
        list(ClientCodeCounter.objects.values_list("last_number", flat=True)),
        ClientImport.objects.count(),
    )


def upload(actor, content, name="daftar.csv", **review):
    client_import = importing.client_import_upload(actor=actor, site=actor.site, file_name=name, content=content)
    if review:
        mapping = {int(i): f for i, f in client_import.mapping.items()}
        client_import = importing.client_import_review(
            actor=actor,
            client_import=client_import,
            mapping=review.get("mapping", mapping),
            skip_duplicates=review.get("skip_duplicates", True),
            consent_date=review.get("consent_date"),
        )
    return client_import


# --- reading files and recognising columns -----------------------------------------------------


def test_indonesian_headers_are_recognised_with_notes_and_punctuation():
    headers = ["No.", "Nama Lengkap (sesuai KTP)", "JK (L/P)", "Tgl. Lahir", "No. HP", "NIK*", "KDS/LKS"]
    headers += ["Pendamping", "Peksos", "Tanggal Diagnosis", "Mulai ARV", "Setuju SMS", "Catatan"]
    assert importing.guess_mapping(headers) == {
        1: "full_name",
        2: "sex",  # "JK" once the note in brackets is dropped
        3: "date_of_birth",
        4: "phone",
        5: "nik",
        6: "support_groups",
        7: "companion",
        8: "assigned_social_worker",
        9: "hiv_diagnosis_date",
        10: "art_start_date",
        11: "consent_sms",
    }
    assert importing.guess_mapping(["Jenis Kelamin (L/P)", "JK"]) == {0: "sex"}


def test_english_headers_and_field_names_are_recognised():
    headers = ["full_name", "Nickname", "Sex", "Date of birth", "Phone", "Address", "consent_date", "Support group"]
    assert importing.guess_mapping(headers) == {
        0: "full_name",
        1: "nickname",
        2: "sex",
        3: "date_of_birth",
        4: "phone",
        5: "address",
        6: "consent_date",
        7: "support_groups",
    }


def test_a_field_is_taken_by_its_first_column_only():
    assert importing.guess_mapping(["Nama", "Nama lengkap"]) == {0: "full_name"}


@pytest.mark.parametrize(
    "content",
    [
        csv_bytes(people(2)),
        csv_bytes(people(2), delimiter=";", bom=True),
        csv_bytes(people(2), delimiter="\t"),
        csv_bytes(people(2), delimiter=";", title="DAFTAR KLIEN KDS SAHABAT 2026"),
    ],
    ids=["comma", "semicolon-bom", "tab", "title-above-header"],
)
def test_csv_as_excel_writes_it(content):
    table = importing.read_table(content, "Daftar.CSV")
    assert table.headers == IMPORT_HEADERS
    assert [cells[0] for _n, cells in table.rows] == ["Klien Impor 1", "Klien Impor 2"]
    first_row = 3 if b"DAFTAR" in content else 2
    assert [n for n, _c in table.rows] == [first_row, first_row + 1]


def test_csv_in_the_windows_code_page_is_read():
    content = "Nama lengkap;Jenis kelamin\r\nJosé Ramos-Horta;L\r\n".encode("cp1252")
    table = importing.read_table(content, "daftar.csv")
    assert table.rows == [(2, ["José Ramos-Horta", "L"])]


def test_blank_rows_keep_the_spreadsheet_numbering():
    content = csv_bytes([people(1)[0], [""] * len(IMPORT_HEADERS), people(2)[1]])
    assert [n for n, _c in importing.read_table(content, "a.csv").rows] == [2, 4]


def test_xlsx_first_sheet_or_a_named_sheet():
    content = xlsx_bytes(people(3), sheet="Klien 2026", before=["Petunjuk"])
    table = importing.read_table(content, "daftar.xlsx", sheet="klien 2026")
    assert table.kind == "xlsx" and table.headers == IMPORT_HEADERS and len(table.rows) == 3
    with pytest.raises(importing.ImportFileError) as e:
        importing.read_table(content, "daftar.xlsx")  # the first sheet holds no list
    assert str(e.value) == "Berkas tidak berisi baris."
    with pytest.raises(importing.ImportFileError) as e:
        importing.read_table(content, "daftar.xlsx", sheet="Data")
    assert str(e.value) == "Tidak ada lembar bernama Data. Lembar dalam berkas ini: Petunjuk, Klien 2026."


NOT_A_LIST = "Unggah berkas .csv atau .xlsx."
BROKEN_XLSX = "Berkas XLSX tidak dapat dibaca: buka di aplikasi lembar kerja lalu simpan ulang."


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("daftar.pdf", b"%PDF-1.4", NOT_A_LIST),
        (
            "daftar.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
            "Berkas Excel lama (.xls) tidak dapat dibaca: simpan sebagai .xlsx atau .csv.",
        ),
        ("daftar.csv", b"PK\x03\x04rest", NOT_A_LIST),
        ("daftar.xlsx", b"PK\x03\x04 not really a workbook", BROKEN_XLSX),
        ("daftar.csv", b"", "Berkas kosong."),
        ("daftar.csv", b"\r\n;;\r\n", "Berkas tidak berisi baris."),
        (
            "daftar.csv",
            "Nama lengkap;Jenis kelamin\r\n".encode(),
            "Berkas memiliki baris judul kolom tetapi tidak ada klien di bawahnya.",
        ),
        (
            "daftar.csv",
            b"\x81\x8d\x8f\x90\x9d\xff\xfe",
            "Berkas bukan teks yang dapat dibaca: simpan sebagai CSV UTF-8.",
        ),
    ],
    ids=["pdf", "xls", "zip-named-csv", "broken-xlsx", "empty", "blank", "header-only", "binary"],
)
def test_unusable_files_are_refused_with_a_reason(name, content, message):
    with pytest.raises(importing.ImportFileError) as e:
        importing.read_table(content, name)
    assert str(e.value) == message


def test_files_over_the_size_or_row_limit_are_refused(monkeypatch):
    content = csv_bytes(people(6))
    monkeypatch.setattr(importing.files, "MAX_FILE_BYTES", len(content) - 1)
    with pytest.raises(importing.ImportFileError) as e:
        importing.read_table(content, "a.csv")
    assert "lebih besar dari" in str(e.value)
    monkeypatch.undo()
    monkeypatch.setattr(importing.files, "MAX_ROWS", 5)
    with pytest.raises(importing.ImportFileError) as e:
        importing.read_table(content, "a.csv")
    assert str(e.value) == "Berkas berisi lebih dari 5 baris: bagi menjadi beberapa berkas yang lebih kecil."


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_blank_lines_neither_hide_clients_nor_let_a_long_file_in(monkeypatch, kind):
    """The row limit counts rows that hold something: a file at the limit with blank lines
    between its rows is read whole, and one over it is refused, never cut short."""
    monkeypatch.setattr(importing.files, "MAX_ROWS", 5)
    blank = [""] * len(IMPORT_HEADERS)

    def spaced(rows):
        return [line for row in rows for line in (row, blank, blank)]

    def read(rows):
        content = csv_bytes(spaced(rows)) if kind == "csv" else xlsx_bytes(spaced(rows))
        return importing.read_table(content, f"a.{kind}")

    table = read(people(5))
    assert len(table.rows) == 5 and table.rows[-1][0] == 2 + 3 * 4  # the last client's line
    with pytest.raises(importing.ImportFileError, match="lebih dari 5 baris"):
        read(people(6))


def test_an_xlsx_that_unpacks_too_big_is_refused_unread(monkeypatch):
    """A zip bomb dressed as a spreadsheet is refused from its directory, before openpyxl."""
    import openpyxl

    monkeypatch.setattr(importing.files, "MAX_XLSX_UNPACKED_BYTES", 1000)
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("opened"))
    with pytest.raises(importing.ImportFileError, match="XLSX"):
        importing.read_table(xlsx_bytes(people(50)), "a.xlsx")


def test_overrides_correct_the_guessed_mapping():
    headers = ["Nama Dampingan", "Nama", "JK", "Lahir", "Catatan"]
    assert importing.guess_mapping(headers) == {1: "full_name", 2: "sex"}
    mapping = importing.mapping_with_overrides(
        headers, {"nama dampingan": "full_name", "Nama": "nickname", "LAHIR": "date_of_birth", "JK": ""}
    )
    assert mapping == {0: "full_name", 1: "nickname", 3: "date_of_birth"}
    for overrides, message in [
        ({"Alamat": "address"}, "Tidak ada kolom Alamat dalam berkas."),
        ({"Catatan": "notes"}, "Bidang notes tidak dikenal. Bidang: "),
    ]:
        with pytest.raises(importing.ImportFileError) as e:
            importing.mapping_with_overrides(headers, overrides)
        assert str(e.value).startswith(message)


# --- cells ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "17/08/1990",
        "17-08-1990",
        "17.8.1990",
        "1990-08-17",
        "1990-08-17 00:00:00",
        "17 Agustus 1990",
        "17 agt 1990",
        "17-Aug-1990",
        datetime.date(1990, 8, 17),
        datetime.datetime(1990, 8, 17, 0, 0),
        33102,  # an Excel day number in a cell not formatted as a date
        33102.0,
        "33102",
    ],
)
def test_dates_as_indonesians_and_spreadsheets_write_them(value):
    assert importing.parse_date(value) == datetime.date(1990, 8, 17)


@pytest.mark.parametrize(
    "value, message",
    [
        ("08/17/1990", "Ini tampak seperti bulan/hari/tahun: tulis tanggal sebagai hari/bulan/tahun."),
        ("31/02/1990", "Tanggal ini tidak ada."),
        ("17/08/90", "Tanggal tidak terbaca: tulis sebagai hh/bb/tttt, mis. 17/08/1990."),
        ("kemarin", "Tanggal tidak terbaca: tulis sebagai hh/bb/tttt, mis. 17/08/1990."),
        (1990, "Tanggal tidak terbaca: tulis sebagai hh/bb/tttt, mis. 17/08/1990."),
    ],
)
def test_unreadable_dates(value, message):
    with pytest.raises(importing.CellError) as e:
        importing.parse_date(value)
    assert str(e.value) == message


@pytest.mark.parametrize(
    "value, sex",
    [("L", "M"), ("p", "F"), ("Laki-laki", "M"), ("PEREMPUAN", "F"), ("M", "M"), ("f", "F"), ("Pria", "M")],
)
def test_sex_in_either_language(value, sex):
    assert importing.parse_sex(value) == sex


@pytest.mark.parametrize(
    "value, expected",
    [
        (81234567890, "081234567890"),  # a number cell lost its leading zero
        ("0812-3456-7890", "081234567890"),
        ("6281234567890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("", ""),
    ],
)
def test_phone_numbers_are_tidied(value, expected):
    assert importing.parse_phone(value) == expected


def test_yes_no_and_status():
    assert [importing.parse_yes_no(v) for v in ("ya", "Y", "tidak", "T", "", None, True, "x")] == [
        True,
        True,
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    assert [importing.parse_status(v) for v in ("", "Aktif", "LTFU", "Meninggal dunia", "transferred_out")] == [
        "active",
        "active",
        "ltfu",
        "deceased",
        "transferred_out",
    ]


# --- rows ---------------------------------------------------------------------------------------


def test_a_valid_row_becomes_what_client_register_is_given(supervisor, group_a1, volunteer, worker):
    row = import_row(
        "  Siti   Aminah ",
        nickname="Siti",
        phone="81234567890",
        nik="8271 0157 0890 0001",
        companion="Volunteer_A1",
        worker="@worker_a",
        sms="ya",
    )
    plan = check(supervisor, csv_bytes([row]))
    assert errors_of(plan) == [] and plan.warnings() == []
    (checked,) = plan.rows
    assert checked.fields == {
        "site": supervisor.site,
        "full_name": "Siti Aminah",
        "nickname": "Siti",
        "sex": "F",
        "date_of_birth": datetime.date(1990, 8, 17),
        "phone": "081234567890",
        "nik": "8271015708900001",
        "companion": volunteer,
        "assigned_social_worker": worker,
        "consent_date": datetime.date(2026, 1, 10),
        "consent_sms": True,
    }
    assert checked.support_groups == [group_a1]


def test_every_error_is_reported_with_its_spreadsheet_row_and_column(supervisor, group_a1, volunteer, worker):
    future = (timezone.now() + datetime.timedelta(days=40)).strftime("%d/%m/%Y")
    rows = [
        import_row("Baik Sekali"),  # row 3 (a title stands on row 1)
        import_row("Jenis Salah", sex="X"),
        import_row("Tanggal Salah", born="31/02/1990"),
        import_row("", born="01/01/1980"),
        import_row("NIK Pendek", nik="82710157089"),
        import_row("Kelompok Asing", group="KDS Lain"),
        import_row("Pendamping Asing", companion="siapa"),
        import_row("Peran Salah", companion="worker_a"),
        import_row("Lahir Nanti", born=future),
        import_row("HP Salah", phone="nomor saya"),
        import_row("SMS Salah", sms="mungkin"),
        import_row("Tanpa Persetujuan", consent=""),
    ]
    plan = check(supervisor, csv_bytes(rows, delimiter=";", title="Daftar"))
    assert errors_of(plan) == [
        (4, "Jenis kelamin", "Jenis kelamin tidak dikenal: gunakan L atau P (atau M atau F)."),
        (5, "Tanggal lahir", "Tanggal ini tidak ada."),
        (6, "Nama lengkap", "Sel ini kosong, padahal wajib diisi."),
        (7, "NIK", "NIK harus terdiri dari tepat 16 digit angka."),
        (8, "Kelompok", "Tidak ada kelompok dukungan bernama KDS Lain di sentra ini."),
        (9, "Pendamping", "Tidak ada pengguna siapa di sentra ini."),
        (10, "Pendamping", "Pilih pendamping yang aktif di sentra klien."),
        (11, "Tanggal lahir", "Tanggal ini tidak boleh melewati hari ini."),
        (12, "No HP", "Masukkan nomor telepon berupa angka, mis. +6281234567890."),
        (13, "Setuju SMS", "Isi dengan ya atau tidak."),
        (14, "Tanggal persetujuan", "Sel ini kosong, padahal wajib diisi."),
    ]
    assert plan.has_errors and plan.rows[0].errors == []


def test_model_rules_across_fields_are_the_registrys(supervisor, group_a1):
    headers = [*IMPORT_HEADERS, "Tanggal diagnosis", "Hamil"]
    rows = [
        import_row("Diagnosis Dulu") + ["01/01/1980", "tidak"],
        import_row("Hamil Laki", sex="L") + ["", "ya"],
    ]
    plan = check(supervisor, csv_bytes(rows, headers=headers))
    assert errors_of(plan) == [
        (2, "Tanggal diagnosis", "Tanggal diagnosis tidak boleh sebelum tanggal lahir."),
        (3, "Hamil", "Hanya klien perempuan yang dapat dicatat hamil."),
    ]


def test_the_whole_file_is_refused_without_its_required_columns(supervisor):
    headers = ["Nama lengkap", "Tanggal lahir", "Kolom X"]
    plan = check(supervisor, csv_bytes([["A", "01/01/1990", "x"]], headers=headers))
    assert errors_of(plan) == [
        (None, "", "Tidak ada kolom untuk Jenis kelamin."),
        (
            None,
            "",
            "Tidak ada kolom untuk tanggal persetujuan: pilih kolomnya, atau isi tanggal semua klien menyetujui.",
        ),
    ]
    assert plan.rows == []


def test_a_consent_date_for_everyone_fills_rows_without_one(supervisor, group_a1):
    headers = IMPORT_HEADERS[:-2]  # no consent columns
    rows = [r[:-2] for r in people(2)]
    plan = check(supervisor, csv_bytes(rows, headers=headers), consent_date=datetime.date(2025, 12, 1))
    assert errors_of(plan) == []
    assert {r.fields["consent_date"] for r in plan.rows} == {datetime.date(2025, 12, 1)}


def test_xlsx_cells_typed_as_dates_and_numbers(supervisor, group_a1):
    rows = [
        import_row("Tanggal Excel", born=datetime.datetime(1990, 8, 17), phone=81234567890, nik=8271015708900001),
        import_row("Nomor Excel", born=33102, consent=datetime.date(2026, 1, 10), nik=8271015708900010),
    ]
    plan = check(supervisor, xlsx_bytes(rows), "daftar.xlsx")
    assert errors_of(plan) == []
    first, second = plan.rows
    assert first.fields["date_of_birth"] == second.fields["date_of_birth"] == datetime.date(1990, 8, 17)
    assert (first.fields["phone"], first.fields["nik"]) == ("081234567890", "8271015708900001")
    # A NIK typed as a number ending in 0 may have lost its last digit to Excel's 15 digits.
    assert plan.warnings() == [
        {"row": 3, "message": "NIK tersimpan sebagai angka: periksa digit terakhirnya (format kolom sebagai teks)."}
    ]


def test_duplicates_within_the_file(supervisor, group_a1):
    rows = [
        import_row("Ani", nik="8271015708900001"),
        import_row("Budi", sex="L", born="01/02/1985"),
        import_row("Ani Lain", nik="8271015708900001", born="02/02/1992"),  # same NIK as row 2
        import_row("budi", sex="L", born="1985-02-01"),  # same name and birth date as row 3
        import_row("Budi", sex="L", born="02/02/1985"),  # same name, another birth date: not a duplicate
    ]
    plan = check(supervisor, csv_bytes(rows))
    assert errors_of(plan) == []
    assert plan.warnings() == [
        {"row": 4, "message": "NIK sama dengan baris 2."},
        {"row": 5, "message": "Nama dan tanggal lahir sama dengan baris 3."},
    ]
    assert [r.number for r in plan.to_skip(skip_duplicates=True)] == [4, 5]
    assert len(plan.to_create(skip_duplicates=False)) == 5


def test_duplicates_of_the_sites_clients_only(supervisor, group_a1, client_a, client_b):
    rows = [
        import_row("Nama Lain", nik=client_a.nik, born="01/01/1970"),
        import_row(" SITI rahmawati ", born="17/05/1990"),
        import_row(client_b.full_name, sex="L", born="17/05/1990"),  # a client of another site
    ]
    plan = check(supervisor, csv_bytes(rows))
    assert plan.warnings() == [
        {"row": 2, "message": f"NIK sama dengan klien {client_a.code}."},
        {"row": 3, "message": f"Nama dan tanggal lahir sama dengan klien {client_a.code}."},
    ]


def test_groups_by_name_with_or_without_their_kind_and_facilities_by_name(supervisor, group_a1, facility_a):
    from tests.factories import FacilityFactory, SupportGroupFactory

    kie_raha = SupportGroupFactory(site=supervisor.site, kind="KDS", name="Sahabat Kie Raha")
    FacilityFactory(site=None, name="Puskesmas Kota")
    FacilityFactory(site=supervisor.site, name="Puskesmas Kota")
    FacilityFactory(site=None, name="Klinik Jauh")  # of no site: every site refers to it
    headers = ["Nama lengkap", "JK", "Tanggal lahir", "Tanggal persetujuan", "Kelompok", "Faskes ARV"]
    rows = [
        ["Ani", "P", "01/02/1990", "10/01/2026", "kds sahabat kie raha\nKDS Sahabat", facility_a.name.upper()],
        ["Budi", "L", "01/02/1991", "10/01/2026", "Sahabat Kie Raha", "klinik jauh"],
        ["Cici", "P", "01/02/1992", "10/01/2026", "", "Puskesmas Kota"],
        ["Dedi", "L", "01/02/1993", "10/01/2026", "", "RS Lain"],
    ]
    plan = check(supervisor, csv_bytes(rows, headers=headers))
    assert plan.rows[0].support_groups == [kie_raha, group_a1]
    assert plan.rows[0].fields["art_facility"] == facility_a
    assert plan.rows[1].support_groups == [kie_raha] and plan.rows[1].fields["art_facility"].name == "Klinik Jauh"
    assert errors_of(plan) == [
        (4, "Faskes ARV", "Ada beberapa fasilitas layanan bernama Puskesmas Kota: pilih nanti di halaman klien."),
        (5, "Faskes ARV", "Tidak ada fasilitas layanan bernama RS Lain."),
    ]


def test_checking_does_not_query_per_row(
    supervisor, group_a1, volunteer, worker, client_a, django_assert_max_num_queries
):
    def file_of(n):
        return csv_bytes(
            [
                import_row(f"Klien {i}", nik=f"82710157089{i:05d}", companion="volunteer_a1", worker="worker_a")
                for i in range(n)
            ]
        )

    small, large = file_of(5), file_of(300)
    # Groups of the site, the users the file names, the site's clients with the file's keys.
    with django_assert_max_num_queries(3):
        check(supervisor, small)
    with django_assert_max_num_queries(3):
        plan = check(supervisor, large)
    assert errors_of(plan) == [] and len(plan.rows) == 300


def test_client_check_new_reports_every_field_at_once(supervisor, volunteer):
    with pytest.raises(ValidationError) as e:
        services.client_check_new(
            actor=supervisor,
            site=supervisor.site,
            full_name="",
            sex="M",
            date_of_birth=datetime.date(1990, 1, 1),
            consent_date=datetime.date(2026, 1, 1),
            assigned_social_worker=volunteer,
            pregnant=True,
        )
    assert set(e.value.message_dict) == {"full_name", "assigned_social_worker", "pregnant"}


# --- the dry run and the commit -----------------------------------------------------------------


def test_upload_keeps_the_file_encrypted_and_guesses_the_mapping(supervisor, group_a1):
    client_import = upload(supervisor, csv_bytes([import_row("Siti Aminah Rahasia")]))
    assert b"Rahasia" not in bytes(client_import.content)
    assert b"Rahasia" in crypto.fernet().decrypt(bytes(client_import.content))
    assert client_import.mapping == {str(i): f for i, f in importing.guess_mapping(IMPORT_HEADERS).items()}
    assert (client_import.status, client_import.total_rows) == (ImportStatus.UPLOADED, 1)
    entry = AccessLog.objects.get(object_type="cases.clientimport")
    assert (entry.user, entry.action, entry.object_id) == (supervisor, "create", str(client_import.pk))


def test_dry_run_writes_nothing(supervisor, group_a1, client_a):
    client_import = upload(supervisor, csv_bytes(people(5) + [import_row("Siti Rahmawati", born="17/05/1990")]))
    before = counts()
    plan = importing.client_import_check(actor=supervisor, client_import=client_import)
    assert len(plan.rows) == 6 and not plan.has_errors and len(plan.warnings()) == 1
    assert counts() == before


def test_commit_registers_every_row_through_client_register(supervisor, group_a1, volunteer, worker):
    rows = [import_row("Ani", companion="volunteer_a1", worker="worker_a", sms="ya")] + people(2)
    client_import = upload(supervisor, csv_bytes(rows), skip_duplicates=True)
    client_import = importing.client_import_start(actor=supervisor, client_import=client_import)

    assert client_import.status == ImportStatus.DONE
    assert client_import.created_codes == [
        f"TTE-{timezone.localdate(timezone=supervisor.site.tzinfo).year}-{n:04d}" for n in (1, 2, 3)
    ]
    assert (client_import.created_count, client_import.skipped_count, client_import.errors) == (3, 0, [])
    assert client_import.content == b"" and client_import.committed_by == supervisor
    ani = Client.objects.get(full_name="Ani")
    assert (ani.companion, ani.assigned_social_worker, ani.consent_sms) == (volunteer, worker, True)
    assert list(ani.support_groups.all()) == [group_a1]
    # The companion and social worker reach the client, as after a registration by hand.
    from cases import access

    assert access.clients_visible_to(volunteer).filter(pk=ani.pk).exists()
    assert access.clients_editable_by(worker).filter(pk=ani.pk).exists()
    # Each client's creation is in the access log, as the supervisor who imported it.
    created = AccessLog.objects.filter(action="create", object_type="cases.client")
    assert sorted(created.values_list("client_id", flat=True)) == sorted(Client.objects.values_list("pk", flat=True))
    assert set(created.values_list("user", flat=True)) == {supervisor.pk}
    # And the import itself: who, and how many (on its record).
    finished = AccessLog.objects.filter(object_type="cases.clientimport", action="update").last()
    assert finished.user == supervisor and "status" in finished.fields


def test_duplicates_are_skipped_or_imported_flagged_never_merged(supervisor, group_a1, client_a):
    same_nik = import_row("Nama Lain", nik=client_a.nik, born="01/01/1970")
    rows = [same_nik, import_row("Cici"), import_row("cici")]

    skipped = importing.client_import_start(
        actor=supervisor, client_import=upload(supervisor, csv_bytes(rows), skip_duplicates=True)
    )
    assert (skipped.created_count, skipped.skipped_rows) == (1, [2, 4])
    assert [w["row"] for w in skipped.warnings] == [2, 4]
    assert not Client.objects.filter(possible_duplicate=True).exists()

    rows = [same_nik, import_row("Dodi", sex="L"), import_row("dodi", sex="L")]
    flagged = importing.client_import_start(
        actor=supervisor, client_import=upload(supervisor, csv_bytes(rows), skip_duplicates=False)
    )
    assert (flagged.created_count, flagged.skipped_count) == (3, 0)
    assert set(Client.objects.filter(possible_duplicate=True).values_list("full_name", flat=True)) == {
        client_a.full_name,
        "Nama Lain",
        "Dodi",
        "dodi",
    }
    assert Client.objects.count() == 1 + 1 + 3  # nothing merged


def test_a_bad_row_means_nothing_is_written(supervisor, group_a1):
    rows = people(5)
    rows[2][2] = "?"  # row 4 of the spreadsheet
    client_import = upload(supervisor, csv_bytes(rows), skip_duplicates=True)
    before = counts()
    with pytest.raises(ValidationError):
        importing.client_import_commit(
            actor=supervisor,
            plan=importing.client_import_check(actor=supervisor, client_import=client_import),
            skip_duplicates=True,
        )
    client_import = importing.client_import_start(actor=supervisor, client_import=client_import)
    assert client_import.status == ImportStatus.FAILED
    assert client_import.errors == [
        {
            "row": 4,
            "column": "Jenis kelamin",
            "message": "Jenis kelamin tidak dikenal: gunakan L atau P (atau M atau F).",
        }
    ]
    assert client_import.content == b""
    clients, _log, counters, imports = counts()
    assert (clients, counters, imports) == (before[0], before[2], before[3])
    assert not AccessLog.objects.filter(object_type="cases.client").exists()


@pytest.mark.parametrize("failure", [RuntimeError("disk full"), None], ids=["crash", "refused"])
def test_a_failure_in_the_middle_of_the_commit_rolls_everything_back(supervisor, group_a1, monkeypatch, failure):
    client_import = upload(supervisor, csv_bytes(people(5)), skip_duplicates=True)
    before = counts()
    real_register = import_services.client_register
    calls = []

    def register_fails_on_the_fourth(**kwargs):
        calls.append(kwargs["full_name"])
        if len(calls) == 4:
            raise failure or ValidationError({"companion": "Pilih pendamping yang aktif di sentra klien."})
        return real_register(**kwargs)

    monkeypatch.setattr(import_services, "client_register", register_fails_on_the_fourth)
    client_import = importing.client_import_start(actor=supervisor, client_import=client_import)

    assert len(calls) == 4
    assert client_import.status == ImportStatus.FAILED
    message = "Baris ini tidak dapat disimpan." if failure else "Pilih pendamping yang aktif di sentra klien."
    assert client_import.errors == [
        {"row": 5, "column": "", "message": message},
        {"row": None, "column": "", "message": "Tidak ada yang diimpor."},
    ]
    assert (client_import.created_count, client_import.created_codes, client_import.content) == (0, [], b"")
    clients, log_entries, counters, imports = counts()
    # The three clients saved before the failure are gone, with their log entries. The five
    # codes reserved before the saving began stay taken: a gap in the numbers, never a reuse.
    assert (clients, before[2], counters) == (before[0], [], [5])
    assert not AccessLog.objects.filter(object_type="cases.client").exists()
    assert log_entries == before[1] + 1  # the import's own record of its end


def test_starting_twice_is_refused_and_running_twice_does_nothing(supervisor, group_a1):
    from cases.exceptions import Conflict

    client_import = upload(supervisor, csv_bytes(people(2)), skip_duplicates=True)
    importing.client_import_start(actor=supervisor, client_import=client_import)
    with pytest.raises(Conflict):
        importing.client_import_start(actor=supervisor, client_import=client_import)
    assert importing.client_import_run(import_id=client_import.pk) is None
    assert Client.objects.count() == 2


def test_a_large_file_goes_to_a_worker_by_id(supervisor, group_a1, monkeypatch, django_capture_on_commit_callbacks):
    from cases.importing import tasks

    sent = []
    monkeypatch.setattr(tasks.run_client_import, "apply_async", lambda args, *a, **kw: sent.append(tuple(args)))
    monkeypatch.setattr(import_services, "INLINE_MAX_ROWS", 3)
    client_import = upload(supervisor, csv_bytes(people(4)), skip_duplicates=True)
    with django_capture_on_commit_callbacks(execute=True):
        client_import = importing.client_import_start(actor=supervisor, client_import=client_import)
    assert client_import.status == ImportStatus.QUEUED and Client.objects.count() == 0
    assert sent == [(client_import.pk,)]  # the id only: no names, no file

    tasks.run_client_import(client_import.pk)
    client_import.refresh_from_db()
    assert (client_import.status, client_import.created_count, client_import.saved_rows) == (ImportStatus.DONE, 4, 4)
    assert set(AccessLog.objects.filter(object_type="cases.client").values_list("user", flat=True)) == {supervisor.pk}
    tasks.run_client_import(client_import.pk)  # delivered again: nothing more
    assert Client.objects.count() == 4


def test_a_broker_outage_returns_the_import_to_review(
    supervisor, group_a1, monkeypatch, django_capture_on_commit_callbacks
):
    from cases.importing import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unavailable")

    monkeypatch.setattr(tasks.run_client_import, "apply_async", broker_down)
    monkeypatch.setattr(import_services, "INLINE_MAX_ROWS", 1)
    client_import = upload(supervisor, csv_bytes(people(2)), skip_duplicates=True)
    with django_capture_on_commit_callbacks(execute=True):
        importing.client_import_start(actor=supervisor, client_import=client_import)
    client_import.refresh_from_db()
    assert (client_import.status, client_import.committed_by) == (ImportStatus.UPLOADED, None)
    assert client_import.content != b""


def test_a_run_that_died_is_taken_over_after_its_lease(supervisor, group_a1):
    client_import = upload(supervisor, csv_bytes(people(2)), skip_duplicates=True)
    ClientImport.objects.filter(pk=client_import.pk).update(
        status=ImportStatus.RUNNING, committed_by=supervisor, started_at=timezone.now()
    )
    assert importing.client_import_run(import_id=client_import.pk) is None  # a live run holds it
    ClientImport.objects.filter(pk=client_import.pk).update(
        started_at=timezone.now() - import_services.RUNNING_LEASE - datetime.timedelta(seconds=1)
    )
    assert importing.client_import_run(import_id=client_import.pk).status == ImportStatus.DONE
    assert Client.objects.count() == 2


def test_progress_is_recorded_outside_the_import(supervisor, group_a1, monkeypatch):
    client_import = upload(supervisor, csv_bytes(people(3)), skip_duplicates=True)
    seen = []
    ClientImport.objects.filter(pk=client_import.pk).update(status=ImportStatus.QUEUED, committed_by=supervisor)
    importing.client_import_run(import_id=client_import.pk, progress=lambda *a: seen.append(a))
    assert seen == [("validated", 1, 3), ("validated", 2, 3), ("validated", 3, 3)] + [
        ("saved", 1, 3),
        ("saved", 2, 3),
        ("saved", 3, 3),
    ]


def test_unfinished_uploads_lose_their_file_after_a_day(supervisor, group_a1):
    old = upload(supervisor, csv_bytes(people(1)))
    recent = upload(supervisor, csv_bytes(people(1)))
    ClientImport.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    from cases.importing import tasks

    tasks.expire_client_imports()
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.content) == (ImportStatus.DISCARDED, b"")
    assert recent.status == ImportStatus.UPLOADED and recent.content


def test_an_import_started_late_in_its_day_is_not_discarded_before_it_runs(supervisor, group_a1):
    """The day counts from the start for a started import, not from the upload."""
    client_import = upload(supervisor, csv_bytes(people(2)))
    ClientImport.objects.filter(pk=client_import.pk).update(created_at=timezone.now() - datetime.timedelta(hours=23))
    importing.client_import_start(actor=supervisor, client_import=client_import, inline=False)
    ClientImport.objects.filter(pk=client_import.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    importing.client_imports_expire()
    client_import.refresh_from_db()
    assert client_import.status == ImportStatus.QUEUED and client_import.content
    # A start no worker took up within a day (its message lost) ends like an old upload.
    importing.client_imports_expire(now=timezone.now() + datetime.timedelta(hours=25))
    client_import.refresh_from_db()
    assert (client_import.status, client_import.content) == (ImportStatus.DISCARDED, b"")


@pytest.mark.parametrize("change", [{"role": "social_worker"}, {"is_active": False}])
def test_an_import_runs_only_if_its_starter_still_may_import(supervisor, group_a1, change):
    from cases.models import Client, User

    client_import = upload(supervisor, csv_bytes(people(2)))
    importing.client_import_start(actor=supervisor, client_import=client_import, inline=False)
    User.objects.filter(pk=supervisor.pk).update(**change)
    importing.client_import_run(import_id=client_import.pk)
    client_import.refresh_from_db()
    assert client_import.status == ImportStatus.FAILED and client_import.content == b""
    assert "tidak lagi boleh" in client_import.errors[0]["message"]
    assert not Client.objects.exists()


def test_only_admins_and_the_sites_supervisors_import(admin_user, supervisor, outsider_supervisor, worker, site_a):
    content = csv_bytes(people(1))
    for user in (worker, outsider_supervisor):
        with pytest.raises(ValidationError) as e:
            importing.client_import_upload(actor=user, site=site_a, file_name="a.csv", content=content)
        assert e.value.message_dict == {"site": ["Anda hanya dapat mengimpor klien ke sentra Anda sendiri."]}
    assert importing.client_import_upload(actor=admin_user, site=site_a, file_name="a.csv", content=content).pk


# --- the command -------------------------------------------------------------------------------


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_clients", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def list_file(tmp_path):
    def write(content, name="daftar.csv"):
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write


def test_command_dry_run_reports_and_writes_nothing(supervisor, group_a1, client_a, list_file):
    rows = people(3) + [import_row("Siti Rahmawati", born="17/05/1990", nik="8271015708900001")]
    path = list_file(csv_bytes(rows, delimiter=";"))
    before = counts()
    out, err = run(path, "--site", "tte", "--as", "supervisor_a", "--dry-run", "--skip-duplicates")
    assert counts() == before
    assert "Nama lengkap → Nama lengkap" in out
    assert "Baris 2: Klien Impor 1 · K1 · F · 02/02/1961 · KDS Sahabat · —" in out
    assert "8271015708900001" not in out
    assert f"Baris 5: Nama dan tanggal lahir sama dengan klien {client_a.code}." in out
    assert "Uji coba: tidak ada yang ditulis. 3 klien akan dibuat, 1 baris dilewati." in out
    assert err.splitlines()[-1] == "Diperiksa 4/4 baris"


def test_command_commits_with_a_mapping_and_reports_codes(supervisor, group_a1, list_file):
    headers = ["Nama Dampingan", "JK", "Lahir", "Kelompok", "Catatan"]
    rows = [["Ani", "P", "01/02/1990", "KDS Sahabat", "x"], ["Budi", "L", "03/04/1985", "", "y"]]
    path = list_file(xlsx_bytes(rows, headers=headers, sheet="Data", before=["Petunjuk"]), "daftar.xlsx")
    options = ["--site", "TTE", "--as", "supervisor_a", "--sheet", "Data", "--consent-date", "2026-01-05"]
    options += ["--map", "Nama Dampingan=full_name", "--map", "Lahir=date_of_birth", "--map", "Catatan="]
    out, err = run(path, *options)
    year = timezone.localdate(timezone=supervisor.site.tzinfo).year
    assert f"2 klien dibuat: TTE-{year}-0001, TTE-{year}-0002" in out
    assert "Disimpan 2/2 baris" in err
    client_import = ClientImport.objects.get()
    assert (client_import.status, client_import.created_by, client_import.content) == ("done", supervisor, b"")
    assert set(Client.objects.values_list("consent_date", flat=True)) == {datetime.date(2026, 1, 5)}
    assert set(AccessLog.objects.filter(object_type="cases.client").values_list("user", flat=True)) == {supervisor.pk}


def test_command_errors_name_the_rows_and_nothing_is_written(supervisor, group_a1, list_file):
    rows = people(5)
    rows[2][3] = "31/02/1990"
    path = list_file(csv_bytes(rows))
    before = counts()
    out = io.StringIO()
    with pytest.raises(CommandError) as e:
        call_command(
            "import_clients", str(path), "--site", "TTE", "--as", "supervisor_a", stdout=out, stderr=io.StringIO()
        )
    assert str(e.value) == "1 kesalahan: tidak ada yang diimpor."
    assert "Kesalahan: Baris 4, Tanggal lahir: Tanggal ini tidak ada." in out.getvalue()
    assert counts() == before


NOT_THEIR_SITE = "tidak boleh mengimpor klien ke TTE: hanya admin dan supervisor sentra itu."
SUPERVISOR = ["--as", "supervisor_a"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--as", "worker_a"], f"worker_a {NOT_THEIR_SITE}"),
        (["--as", "supervisor_b"], f"supervisor_b {NOT_THEIR_SITE}"),
        (["--as", "nobody"], "Tidak ada pengguna aktif nobody."),
        ([*SUPERVISOR, "--site", "XYZ"], "Tidak ada sentra dengan kode XYZ."),
        ([*SUPERVISOR, "--map", "Alamat=address"], "Tidak ada kolom Alamat dalam berkas."),
        ([*SUPERVISOR, "--map", "nonsense"], '--map menerima "judul kolom=bidang", mis. "Nama ODHA=full_name".'),
        ([*SUPERVISOR, "--consent-date", "10/01/2026"], "--consent-date harus berupa tanggal TTTT-BB-HH."),
        (SUPERVISOR, "1 baris tampak duplikat: pilih --skip-duplicates atau --import-duplicates."),
    ],
    ids=["worker", "outsider", "unknown-user", "unknown-site", "unknown-column", "bad-map", "bad-date", "duplicates"],
)
def test_command_refuses_with_a_clear_message(
    supervisor, worker, outsider_supervisor, group_a1, list_file, args, message
):
    path = list_file(csv_bytes(people(2) + [people(1)[0]]))
    site = [] if "--site" in args else ["--site", "TTE"]
    with pytest.raises(CommandError) as e:
        run(path, *site, *args)
    assert str(e.value) == message
    assert Client.objects.count() == 0


def test_command_refuses_a_missing_or_oversized_file(supervisor, tmp_path, list_file, monkeypatch):
    with pytest.raises(CommandError) as e:
        run(tmp_path / "hilang.csv", "--site", "TTE", "--as", "supervisor_a")
    assert str(e.value).startswith("Tidak dapat membaca ")
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 2**20)
    with pytest.raises(CommandError) as e:
        run(list_file(csv_bytes(people(1)) + b"\r\n" * 2**19), "--site", "TTE", "--as", "supervisor_a")
    assert str(e.value) == "Berkas lebih besar dari 1 MB: bagi menjadi beberapa berkas yang lebih kecil."
