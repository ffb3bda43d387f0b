"""A large client list imported by a real Celery worker on PostgreSQL: the task gets the
import's id only, the page can follow the progress while the rows are saved in one
transaction, and no client is visible until all of them are."""

import time

import pytest

from cases import importing
from cases.models import AccessLog, Client, ClientImport, ImportStatus
from tests.factories import csv_bytes, make_client, people
from tests.integration.conftest import DEADLINE_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 1500


def test_a_worker_imports_a_large_file_with_live_progress(supervisor, group_a1, workers):
    workers()
    client_import = importing.client_import_upload(
        actor=supervisor, site=supervisor.site, file_name="daftar.csv", content=csv_bytes(people(ROWS))
    )
    mapping = {int(i): name for i, name in client_import.mapping.items()}
    client_import = importing.client_import_review(
        actor=supervisor, client_import=client_import, mapping=mapping, skip_duplicates=True
    )
    # Outside any transaction: the task is published at once, to the worker's Redis.
    client_import = importing.client_import_start(actor=supervisor, client_import=client_import)
    assert client_import.status == ImportStatus.QUEUED

    # What the polling page sees, sampled until the import ends. While the rows are being
    # saved, someone registers a client at the same site: it must not wait for the import
    # (its codes were reserved before its long transaction began).
    samples = []
    registered_in = None
    deadline = time.monotonic() + DEADLINE_SECONDS * 4
    while time.monotonic() < deadline:
        row = ClientImport.objects.values("status", "validated_rows", "saved_rows").get(pk=client_import.pk)
        samples.append((row["status"], row["validated_rows"], row["saved_rows"], Client.objects.count()))
        if row["status"] not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            break
        if registered_in is None and 0 < row["saved_rows"] < ROWS // 2:
            started = time.monotonic()
            walk_in = make_client(actor=supervisor, full_name="Datang Sendiri")
            registered_in = time.monotonic() - started
        time.sleep(0.05)
    client_import.refresh_from_db()
    assert client_import.status == ImportStatus.DONE, (client_import.errors, samples[-5:])

    saving = [s for s in samples if s[0] == ImportStatus.RUNNING and 0 < s[2] < ROWS]
    assert saving, f"no progress seen while saving: {samples[:3]} … {samples[-3:]}"
    # Progress moves while the imported clients stay invisible: one transaction, all or nothing.
    assert all(clients <= 1 for _s, _v, _saved, clients in saving)  # at most the walk-in
    assert (client_import.created_count, client_import.saved_rows, client_import.content) == (ROWS, ROWS, b"")
    assert registered_in is not None and registered_in < 5, registered_in
    assert walk_in.code not in client_import.created_codes
    assert Client.objects.count() == ROWS + 1
    logged = AccessLog.objects.filter(object_type="cases.client", action="create").exclude(client=walk_in)
    assert logged.count() == ROWS and set(logged.values_list("user", flat=True)) == {supervisor.pk}
