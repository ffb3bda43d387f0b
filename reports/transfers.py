"""Transfers in and out of a site in a period (SPEC §12.3, issue 17 "reports"): counted by
the day each client moved (`accepted_on`), for the whole site. Supervisors see their site's,
admins a chosen site's or, across every site, the moves between sites."""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from cases import access as cases_access
from cases.models import Role
from transfers.models import Transfer, TransferStatus

FIGURES = ("transfers_in", "transfers_out")
DEFINITIONS = {
    "transfers_in": _(
        "Clients who moved to the site from another site of the installation in the period (a transfer "
        "accepted, counted on the day the client moved), for the whole site."
    ),
    "transfers_out": _(
        "Clients who moved from the site to another site of the installation in the period (a transfer "
        "accepted, counted on the day the client moved); the site's reports count them out of care from "
        "that day, as transferred out."
    ),
}


def may_see_transfer_report(user) -> bool:
    return cases_access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def transfer_report(user, scope) -> dict:
    """{figure: {value, definition}} for the scope's site (every site for an admin without one)."""
    moved = Transfer.objects.filter(
        status=TransferStatus.ACCEPTED, accepted_on__gte=scope.start, accepted_on__lte=scope.end
    )
    if scope.site is None:
        counts = moved.aggregate(transfers_in=Count("pk"), transfers_out=Count("pk"))
    else:
        counts = moved.aggregate(
            transfers_in=Count("pk", filter=Q(to_site=scope.site)),
            transfers_out=Count("pk", filter=Q(from_site=scope.site)),
        )
    return {name: {"value": counts[name], "definition": str(DEFINITIONS[name])} for name in FIGURES}
