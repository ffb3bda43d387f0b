"""Imports of client lists: upload, review, and the all-or-nothing commit that registers
every row through `client_register` in one transaction.

The uploaded file is kept in the import's row, encrypted with the field key (Fernet), and
only while the import is open: a web worker and a Celery worker share the database, not
a disk, and the file holds names, NIKs and HIV dates. It is emptied when the import ends
(imported, refused, discarded) and, for uploads nobody finished, by the periodic clean-up
after a day. Nothing of the file goes to a log or a task argument: tasks get the id.
"""

import logging
import time
from datetime import timedelta
from functools import partial

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases import access, audit, queue
from cases.exceptions import Conflict
from cases.models import ClientImport, ImportStatus
from cases.security import crypto
from cases.services.registry import client_codes_reserve, client_register

from .columns import guess_mapping
from .errors import ImportFileError
from .files import Table, read_table
from .rows import Plan, check_rows

logger = logging.getLogger(__name__)

# Up to this many rows an import runs in the request that starts it (a few seconds);
# longer files go to a worker and the page follows its progress.
INLINE_MAX_ROWS = 200
# An upload left unreviewed this long loses its file.
UNFINISHED_HOURS = 24
# Longer than the import task's hard time limit: a run this old died with its worker, and
# its transaction with it, so another run may take the import over from the start.
RUNNING_LEASE = timedelta(minutes=20)
# The Celery task that runs an import (cases/tasks.py), published by name.
RUN_TASK = "cases.tasks.run_client_import"


class ImportRowError(Exception):
    """Saving one row failed during the commit; everything before it is rolled back."""

    def __init__(self, row, message=""):
        super().__init__(row)
        self.row = row
        self.message = message


def _encrypt(content: bytes) -> bytes:
    return crypto.fernet().encrypt(content)


def _decrypt(token) -> bytes:
    return crypto.fernet().decrypt(bytes(token))


def _file_error(message):
    return [{"row": None, "column": "", "message": str(message)}]


@transaction.atomic
def client_import_upload(*, actor, site, file_name, content, sheet="") -> ClientImport:
    """Keep an uploaded client list for review; the file is read once to refuse it early."""
    if site is None or not access.may_import_clients_at(actor, site):
        raise ValidationError({"site": _("You can only import clients into your own site.")})
    try:
        table = read_table(content, file_name, sheet=sheet)
    except ImportFileError as e:
        raise ValidationError({"file": str(e)}) from None
    client_imports_expire()
    with audit.acting_as(actor):
        return audit.create(
            ClientImport,
            site=site,
            created_by=actor,
            file_name=file_name[-200:],
            file_kind=table.kind,
            sheet=sheet,
            content=_encrypt(content),
            mapping={str(i): name for i, name in guess_mapping(table.headers).items()},
            total_rows=len(table.rows),
            language=translation.get_language() or "",
        )


def client_import_table(client_import) -> Table:
    """The stored file read again (ImportFileError once it is gone)."""
    if not client_import.content:
        raise ImportFileError(_("The uploaded file is no longer kept: upload it again."))
    try:
        content = _decrypt(client_import.content)
    except InvalidToken:
        # Its encryption key was removed from FIELD_ENCRYPTION_KEY since the upload.
        raise ImportFileError(_("The uploaded file can no longer be read: upload it again.")) from None
    return read_table(content, client_import.file_name, sheet=client_import.sheet)


def client_import_check(*, actor, client_import, progress=None) -> Plan:
    """The dry run: every row checked with the import's current choices; nothing written."""
    return check_rows(
        actor=actor,
        site=client_import.site,
        table=client_import_table(client_import),
        mapping=client_import.mapping,
        consent_date=client_import.consent_date,
        progress=progress,
    )


def _lock_for_review(client_import):
    # Lock the row: a second tab starting or discarding the same import must not slip in
    # between the status check and the save.
    locked = ClientImport.objects.select_for_update().get(pk=client_import.pk)
    if locked.status != ImportStatus.UPLOADED:
        raise Conflict(_("This import has already been started or discarded."))
    return locked


@transaction.atomic
def client_import_review(*, actor, client_import, mapping, skip_duplicates, consent_date=None) -> ClientImport:
    """Keep the reviewer's choices: the column mapping and what to do with duplicates."""
    locked = _lock_for_review(client_import)
    locked.mapping = {str(i): name for i, name in mapping.items() if name}
    locked.skip_duplicates = skip_duplicates
    locked.consent_date = consent_date
    with audit.acting_as(actor):
        audit.save(locked, update_fields=["mapping", "skip_duplicates", "consent_date"])
    return locked


@transaction.atomic
def client_import_discard(*, actor, client_import) -> ClientImport:
    locked = _lock_for_review(client_import)
    locked.status = ImportStatus.DISCARDED
    locked.finished_at = timezone.now()
    locked.content = b""
    with audit.acting_as(actor):
        audit.save(locked, update_fields=["status", "finished_at", "content"])
    return locked


def client_import_start(*, actor, client_import, inline=None, progress=None) -> ClientImport:
    """Commit a reviewed import: in this process for a small file (or `inline`), else in a
    worker once the current transaction commits. Starting twice is refused."""
    # A conditional UPDATE claims it: of two clicks on "Import", one starts it.
    claimed = ClientImport.objects.filter(pk=client_import.pk, status=ImportStatus.UPLOADED).update(
        status=ImportStatus.QUEUED,
        committed_by=actor,
        started_at=timezone.now(),
        language=translation.get_language() or "",
    )
    if not claimed:
        raise Conflict(_("This import has already been started or discarded."))
    if inline is None:
        inline = client_import.total_rows <= INLINE_MAX_ROWS
    if inline:
        client_import_run(import_id=client_import.pk, progress=progress)
    else:
        transaction.on_commit(partial(_enqueue, client_import.pk))
    client_import.refresh_from_db()
    return client_import


def _enqueue(import_id):
    try:
        queue.publish(RUN_TASK, import_id)
    except Exception:  # noqa: BLE001 — broker down: the import goes back to review, to be started again
        logger.warning("broker unavailable; client import %s returned to review", import_id)
        ClientImport.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.UPLOADED, committed_by=None
        )


@transaction.atomic
def client_import_commit(*, actor, plan, skip_duplicates, codes=(), progress=None) -> tuple[list, list]:
    """Register every row of a checked plan through client_register, all or nothing:
    (codes created, spreadsheet rows skipped as duplicates). Any failure rolls back all.
    `codes`, reserved beforehand (client_codes_reserve), are given out in order; without
    them each client takes the next code, holding the site's counter to the end."""
    if plan.has_errors:
        raise ValidationError(_("The file has errors; nothing was imported."))
    codes = iter(codes)
    created, skipped = [], []
    total = len(plan.rows)
    for done, row in enumerate(plan.rows, start=1):
        if skip_duplicates and row.duplicate:
            skipped.append(row.number)
        else:
            try:
                client = client_register(
                    actor=actor, support_groups=row.support_groups, code=next(codes, None), **row.fields
                )
            except ValidationError as e:
                # Checked a moment ago, refused now: the site changed meanwhile (a user
                # deactivated, a group renamed). The rule's message names no value.
                raise ImportRowError(row.number, " ".join(e.messages)) from e
            except Exception as e:
                raise ImportRowError(row.number) from e
            created.append(client.code)
        if progress is not None:
            progress("saved", done, total)
    return created, skipped


def _finish(client_import, status, *, errors=(), warnings=(), created=(), skipped=()) -> ClientImport:
    client_import.status = status
    client_import.finished_at = timezone.now()
    client_import.errors = list(errors)
    client_import.warnings = list(warnings)
    client_import.created_codes = list(created)
    client_import.created_count = len(created)
    client_import.skipped_rows = list(skipped)
    client_import.skipped_count = len(skipped)
    if status == ImportStatus.DONE:
        client_import.validated_rows = client_import.saved_rows = client_import.total_rows
    client_import.content = b""  # names, NIKs and HIV dates: not kept past the import
    audit.save(
        client_import,
        update_fields=[
            "status",
            "finished_at",
            "errors",
            "warnings",
            "created_codes",
            "created_count",
            "skipped_rows",
            "skipped_count",
            "validated_rows",
            "saved_rows",
            "content",
        ],
    )
    return client_import


def client_import_run(*, import_id, progress=None) -> ClientImport | None:
    """Check and commit one started import, all or nothing, and record how it ended.

    Idempotent: an import finished, or taken by a run that is still within its lease, is
    left alone (None). The writes are logged as the person who started the import.
    """
    now = timezone.now()
    claimed = (
        ClientImport.objects.filter(pk=import_id)
        .filter(Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING, started_at__lt=now - RUNNING_LEASE))
        .update(status=ImportStatus.RUNNING, started_at=now, validated_rows=0, saved_rows=0)
    )
    if not claimed:
        return None
    client_import = ClientImport.objects.select_related("site", "committed_by").get(pk=import_id)
    actor = client_import.committed_by
    with audit.acting_as(actor), translation.override(client_import.language or settings.LANGUAGE_CODE):
        # Asked again when it runs: whoever started it may have left the site, changed role
        # or been deactivated while it waited for a worker.
        if not (actor.is_active and access.may_import_clients_at(actor, client_import.site)):
            return _finish(
                client_import,
                ImportStatus.FAILED,
                errors=_file_error(
                    _("Whoever started this import may no longer import clients at this site: nothing was imported.")
                ),
            )
        try:
            plan = client_import_check(actor=actor, client_import=client_import, progress=progress)
            if plan.has_errors:
                return _finish(client_import, ImportStatus.FAILED, errors=plan.errors(), warnings=plan.warnings())
            # The codes first, in a moment's transaction of their own: registrations at the
            # site must not wait for the counter while the rows are saved.
            to_create = len(plan.to_create(skip_duplicates=client_import.skip_duplicates))
            codes = client_codes_reserve(site=client_import.site, count=to_create) if to_create else []
            with transaction.atomic():
                created, skipped = client_import_commit(
                    actor=actor,
                    plan=plan,
                    skip_duplicates=client_import.skip_duplicates,
                    codes=codes,
                    progress=progress,
                )
                # In the same transaction as the clients: the record says "done" only if they exist.
                return _finish(
                    client_import, ImportStatus.DONE, warnings=plan.warnings(), created=created, skipped=skipped
                )
        except ImportFileError as e:
            return _finish(client_import, ImportStatus.FAILED, errors=_file_error(e))
        except ImportRowError as e:
            if not isinstance(e.__cause__, ValidationError):
                # Not the error's text: a database error may quote the values it refused.
                logger.error("client import %s failed at row %s: %s", import_id, e.row, type(e.__cause__).__name__)
            message = e.message or _("This row could not be saved.")
            errors = [{"row": e.row, "column": "", "message": message}]
            errors += _file_error(_("Nothing was imported."))
            return _finish(client_import, ImportStatus.FAILED, errors=errors)
        except Exception as e:  # noqa: BLE001 — recorded on the import, whose file is then dropped
            logger.error("client import %s failed: %s", import_id, type(e).__name__)
            return _finish(
                client_import,
                ImportStatus.FAILED,
                errors=_file_error(_("The import failed; nothing was imported. Try again or ask an administrator.")),
            )


def client_imports_expire(*, now=None) -> int:
    """Imports left unfinished for a day lose their file (it holds client data): uploads
    nobody started within a day of the upload, and started ones no worker finished within
    a day of the start (their message was lost; a run holds its lease for minutes)."""
    now = now or timezone.now()
    stale = now - timedelta(hours=UNFINISHED_HOURS)
    return ClientImport.objects.filter(
        Q(status=ImportStatus.UPLOADED, created_at__lt=stale)
        | Q(status__in=(ImportStatus.QUEUED, ImportStatus.RUNNING), started_at__lt=stale)
    ).update(status=ImportStatus.DISCARDED, content=b"", finished_at=now)


class ImportProgress:
    """Writes a running import's progress where the page that polls it can read it.

    The rows are saved in one long transaction, whose own writes nobody else sees until
    it commits; on PostgreSQL the progress goes through a connection of its own, which
    commits each figure at once. SQLite allows one writer at a time, so there the figures
    are written while rows are checked (outside the transaction) and the saving shows when
    it ends. Writes at most once a second.
    """

    INTERVAL_SECONDS = 1.0
    COLUMNS = {"validated": "validated_rows", "saved": "saved_rows"}

    def __init__(self, import_id):
        self.import_id = import_id
        self._last = 0.0
        self._own = None
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            self._own = connections.create_connection(DEFAULT_DB_ALIAS)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._own is not None:
            self._own.close()

    def __call__(self, stage, done, total):
        now = time.monotonic()
        if done < total and now - self._last < self.INTERVAL_SECONDS:
            return
        self._last = now
        column = self.COLUMNS[stage]
        if self._own is not None:
            with self._own.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ClientImport._meta.db_table} SET {column} = %s WHERE id = %s",  # noqa: S608 — fixed names
                    [done, self.import_id],
                )
        elif not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            ClientImport.objects.filter(pk=self.import_id).update(**{column: done})
