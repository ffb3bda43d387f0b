"""Imports of client lists from the spreadsheets groups keep (CSV, XLSX)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .registry import Site


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Awaiting review")
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Nothing imported")
    DISCARDED = "discarded", _("Discarded")


# An import in one of these states still needs its file; in any other the file is gone.
IMPORT_OPEN_STATUSES = (ImportStatus.UPLOADED, ImportStatus.QUEUED, ImportStatus.RUNNING)


class ClientImport(models.Model):
    """One uploaded client list, from review to its all-or-nothing commit.

    The row is the record of the import (who, when, which site, how many created and
    skipped) and, while it runs in a worker, its progress. The uploaded file is kept
    encrypted only while the import is open and emptied once it ends (see
    cases.importing.workflow): it holds names, NIKs and HIV dates. Errors name a row, a
    column and a rule, never a value from the file.
    """

    site = models.ForeignKey(Site, models.PROTECT, related_name="client_imports", db_index=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    committed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)

    file_name = models.CharField(_("file name"), max_length=200)
    file_kind = models.CharField(max_length=4)  # "csv" or "xlsx"
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    # Fernet ciphertext of the uploaded file (cases.crypto), empty once the import is over.
    content = models.BinaryField(blank=True, default=b"", editable=False)

    # The reviewer's choices: spreadsheet column (as a string index) → client field.
    mapping = models.JSONField(default=dict, blank=True)
    skip_duplicates = models.BooleanField(default=True)
    consent_date = models.DateField(null=True, blank=True)
    # Messages are written in the language of whoever started the import.
    language = models.CharField(max_length=10, blank=True)

    total_rows = models.PositiveIntegerField(default=0)
    validated_rows = models.PositiveIntegerField(default=0)
    saved_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    created_codes = models.JSONField(default=list, blank=True)
    skipped_rows = models.JSONField(default=list, blank=True)
    # [{"row": 3, "column": "Tanggal lahir", "message": "…"}]; row None for the whole file.
    errors = models.JSONField(default=list, blank=True)
    # [{"row": 5, "message": "Same NIK as client TTE-2026-0001."}]: possible duplicates.
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("client import")
        verbose_name_plural = _("client imports")
        indexes = [
            # The import page's history of a site, newest first.
            models.Index(fields=["site", "-created_at"], name="client_import_site_idx"),
            # The clean-up of uploads left unreviewed: open imports by age.
            models.Index(fields=["status", "created_at"], name="client_import_open_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ImportStatus.values), name="client_import_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.site.code} import {self.pk}"

    @property
    def is_open(self):
        return self.status in IMPORT_OPEN_STATUSES

    @property
    def percent(self):
        """Progress for the page: checking the rows is the first fifth, saving them the rest."""
        if not self.total_rows:
            return 0
        return min(100, (self.validated_rows * 20 + self.saved_rows * 80) // self.total_rows)
