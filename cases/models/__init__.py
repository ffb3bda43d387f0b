from .arv import DaysSupplied, Refill, Tracing, TracingAttempt, TracingMethod, TracingOutcome, TracingStatus, ViralLoad
from .notifications import Notification, NotificationChannel, NotificationKind, NotificationStatus
from .registry import (
    Client,
    ClientCodeCounter,
    ClientGroupObjectPermission,
    ClientStatus,
    ClientUserObjectPermission,
    Facility,
    FacilityKind,
    FamilyDisclosure,
    GrantKind,
    GroupKind,
    ReferralService,
    Role,
    Sex,
    Site,
    SupportGroup,
    User,
    latest_today,
    name_key,
    nik_validator,
    phone_validator,
    site_code_validator,
    validate_not_future,
    validate_services,
    validate_timezone,
)

__all__ = [
    "Client", "ClientCodeCounter", "ClientGroupObjectPermission", "ClientStatus", "ClientUserObjectPermission",
    "DaysSupplied", "Facility", "FacilityKind", "FamilyDisclosure", "GrantKind", "GroupKind", "Notification",
    "NotificationChannel", "NotificationKind", "NotificationStatus", "ReferralService", "Refill", "Role", "Sex",
    "Site", "SupportGroup", "Tracing", "TracingAttempt", "TracingMethod", "TracingOutcome", "TracingStatus",
    "User", "ViralLoad", "latest_today", "name_key", "nik_validator", "phone_validator", "site_code_validator",
    "validate_not_future", "validate_services", "validate_timezone",
]
