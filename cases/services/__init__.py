"""Writes. Each service is atomic and the only way its records change."""

from .arv import (
    refill_record,
    tracing_claim,
    tracing_record_attempt,
    viral_load_record,
)
from .notifications import notification_deliver, notification_mark_read, notifications_enqueue_pending
from .outcomes import client_status_change, client_status_now
from .registry import (
    BREAK_GLASS_HOURS,
    client_assign,
    client_break_glass,
    client_check_new,
    client_register,
    client_share,
    client_share_revoke,
    client_shares_expire,
    client_update,
    support_group_create,
    support_group_update,
    user_create,
    user_reset_second_factor,
    user_update,
    user_validate,
)

__all__ = [
    "BREAK_GLASS_HOURS",
    "client_assign",
    "client_break_glass",
    "client_check_new",
    "client_register",
    "client_share",
    "client_share_revoke",
    "client_shares_expire",
    "client_status_change",
    "client_status_now",
    "client_update",
    "notification_deliver",
    "notification_mark_read",
    "notifications_enqueue_pending",
    "refill_record",
    "support_group_create",
    "support_group_update",
    "tracing_claim",
    "tracing_record_attempt",
    "user_create",
    "user_reset_second_factor",
    "user_update",
    "user_validate",
    "viral_load_record",
]
