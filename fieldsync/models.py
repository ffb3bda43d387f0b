"""What the API answered to each `Idempotency-Key` a user sent (SPEC §12.6)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """One create the API accepted under a client-generated key, kept with its user.

    Only successful creates are kept: a refused entry (400, 403, 404, 409) leaves no row,
    so the field app may send it again once the reason is gone.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused (409).
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="fieldsync_key_once_per_user")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"
