"""NIK, phone and address are encrypted at rest; NIK matching works through a keyed hash."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from cases.models import Client
from tests.factories import make_client

NIK, PHONE, ADDRESS = "8271015705900001", "+6281240000001", "Jl. Pahlawan Revolusi 12, Ternate"


def raw_row(client):
    with connection.cursor() as cursor:
        cursor.execute("SELECT nik, phone, address, nik_hash FROM cases_client WHERE id = %s", [client.pk])
        return cursor.fetchone()


def test_raw_database_row_holds_no_clear_text(client_a):
    nik, phone, address, nik_hash = raw_row(client_a)
    for clear, stored in ((NIK, nik), (PHONE, phone), (ADDRESS, address)):
        assert clear not in stored and stored.startswith("gAAAAA")
    assert NIK not in nik_hash and len(nik_hash) == 64
    assert raw_row(client_a)[0] != raw_row(client_a)[1]
    client_a.refresh_from_db()
    assert (client_a.nik, client_a.phone, client_a.address) == (NIK, PHONE, ADDRESS)


def test_no_clear_text_anywhere_in_the_database_dump(client_a):
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump = repr(cursor.fetchall())
            assert NIK not in dump and PHONE not in dump and "Pahlawan" not in dump, table


def test_api_reads_and_writes_clear_values(as_user, worker, client_a):
    r = as_user(worker).get(f"/api/v1/clients/{client_a.pk}/")
    assert (r.json()["nik"], r.json()["phone"], r.json()["address"]) == (NIK, PHONE, ADDRESS)
    r = as_user(worker).patch(f"/api/v1/clients/{client_a.pk}/", {"nik": "8271015705900009"}, format="json")
    assert r.status_code == 200 and r.json()["nik"] == "8271015705900009"
    assert "8271015705900009" not in raw_row(client_a)[0]


def test_empty_values_stay_empty_and_filterable(supervisor):
    client = make_client(actor=supervisor, full_name="Tanpa Telepon")
    assert raw_row(client)[:3] == ("", "", "")
    assert Client.objects.filter(phone="").filter(pk=client.pk).exists()


def test_duplicate_nik_found_through_the_hash(supervisor):
    first = make_client(actor=supervisor, full_name="Satu", nik=NIK)
    second = make_client(actor=supervisor, full_name="Dua", nik=NIK)
    first.refresh_from_db()
    assert first.possible_duplicate and second.possible_duplicate


def test_key_rotation(client_a, settings):
    old = settings.FIELD_ENCRYPTION_KEY
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    call_command("rotate_field_encryption", stdout=open("/dev/null", "w"))
    settings.FIELD_ENCRYPTION_KEY = new  # the old key is gone: rows must still read
    client_a.refresh_from_db()
    assert (client_a.nik, client_a.phone) == (NIK, PHONE)


def test_key_rotation_covers_uploaded_client_lists(supervisor, settings):
    from cases import importing
    from tests.factories import csv_bytes, people

    content = csv_bytes(people(2))
    client_import = importing.client_import_upload(
        actor=supervisor, site=supervisor.site, file_name="a.csv", content=content
    )
    old = settings.FIELD_ENCRYPTION_KEY
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    call_command("rotate_field_encryption", stdout=open("/dev/null", "w"))
    settings.FIELD_ENCRYPTION_KEY = new
    client_import.refresh_from_db()
    assert importing.client_import_table(client_import).rows[0][1][0] == "Klien Impor 1"


def test_production_requires_the_keys(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "example.org",
        "DJANGO_SETTINGS_MODULE": "basodara.settings",
    }
    env.pop("FIELD_ENCRYPTION_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEY" in result.stderr


@pytest.mark.parametrize("bad", ["123", "82710157059000AB"])
def test_nik_validation_still_applies(as_user, supervisor, bad):
    r = as_user(supervisor).post(
        "/api/v1/clients/",
        {"full_name": "X", "sex": "F", "date_of_birth": "1990-01-01", "consent_date": "2026-01-01", "nik": bad},
        format="json",
    )
    assert r.status_code == 400 and "nik" in r.json()
