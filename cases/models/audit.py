"""The append-only access log (SPEC §7): every read of a client and every write of a record."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .registry import Client


class AccessAction(models.TextChoices):
    READ = "read", _("Read")
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    BREAK_GLASS = "break_glass", _("Emergency access")


class AccessKind(models.TextChoices):
    """What a read showed: many clients (a list, a search, an export) or one."""

    LIST = "list", _("List")
    DETAIL = "detail", _("Detail")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the access log is append-only")

    def delete(self):
        raise PermissionError("the access log is append-only")


class AccessLog(models.Model):
    """Who did what to which record, when, from where. Field names only, never values.

    Rows cannot be changed or deleted through Django (save/delete/queryset refuse), and on
    PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE from anyone (TRUNCATE only passes
    a session that sets `basodara.allow_access_log_truncate = on`: the test suite's flush).
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    # For reads: a list of clients or one client's detail; empty for writes.
    kind = models.CharField(max_length=10, choices=AccessKind.choices, blank=True, default="", db_default="")
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    # The client the record is about, so that a client's whole log is one indexed query.
    client = models.ForeignKey(Client, models.PROTECT, null=True, blank=True, related_name="+", db_constraint=False)
    fields = models.JSONField(default=list, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "-at"], name="access_log_client_idx")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("the access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the access log is append-only")
