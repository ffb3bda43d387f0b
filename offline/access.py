"""Who works offline (SPEC §12.6): the field roles, on their own caseload."""

from cases import access as cases_access
from cases.models import Role

FIELD_ROLES = (Role.SOCIAL_WORKER, Role.VOLUNTEER)


def may_work_offline(user) -> bool:
    return cases_access.role_of(user) in FIELD_ROLES


def offline_clients(user):
    """The clients a field worker may record for: their own caseload, nobody else's."""
    return cases_access.clients_for_records(user)
