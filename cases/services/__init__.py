"""Writes. Each service is atomic and the only way its records change."""

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
    organisation_record_create,
    organisation_record_update,
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
    "organisation_record_create",
    "organisation_record_update",
    "support_group_create",
    "support_group_update",
    "user_create",
    "user_reset_second_factor",
    "user_update",
    "user_validate",
]
