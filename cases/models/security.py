"""Failed sign-ins, kept to lock an account out after repeated failures (SPEC §10)."""

from django.db import models


class LoginFailure(models.Model):
    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["username", "ip", "-at"], name="login_failure_recent_idx")]
