import datetime

from django.conf import settings
from django.utils import timezone

from .models import IdempotencyKey


def purge_idempotency_keys(*, now=None) -> int:
    """Delete the keys older than settings.IDEMPOTENCY_KEY_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.IDEMPOTENCY_KEY_DAYS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
