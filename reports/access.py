"""Who sees which report figures (SPEC §7 "reports"): social workers their own caseload,
volunteers their groups', supervisors their site's, admins every site's. Facility staff
have the referral report of their facility (reports/referrals.py), none of these."""

from django.db.models import QuerySet

from cases import access as cases_access
from cases.models import Role
from outreach import access as outreach_access

from . import sites

REPORT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.VOLUNTEER)


def may_see_reports(user) -> bool:
    return cases_access.role_of(user) in REPORT_ROLES


def may_review_caseload(user) -> bool:
    """The supervisor's review page and its figures: a site's supervisors, and admins (SPEC §9)."""
    return cases_access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def report_clients(user) -> QuerySet:
    """The clients the caseload and cascade figures count for `user`."""
    role = cases_access.role_of(user)
    clients = cases_access.clients_visible_to(user)
    if role == Role.SOCIAL_WORKER:
        # Their own caseload: not the clients shared with them for cover, nor break-glass.
        return clients.filter(assigned_social_worker=user)
    return clients if role in REPORT_ROLES else clients.none()


def report_clients_of_site(user, site) -> QuerySet:
    """The clients the period-true figures (reports.indicators) may count for `user` at
    `site`: a supervisor's and an admin's reach takes the site's past clients too, those it
    transferred out (reports.sites), whom its past periods still count; the others' reach is
    their caseload or groups as it is today."""
    role = cases_access.role_of(user)
    if site is None or role not in (Role.ADMIN, Role.SUPERVISOR):
        return report_clients(user)
    if role == Role.SUPERVISOR and site.pk != user.site_id:
        return report_clients(user).none()
    return sites.clients_of_site(site)


def report_incidents(user) -> QuerySet:
    """The incidents the incident figures count: those of the board `user` sees."""
    if not may_see_reports(user):
        return outreach_access.incidents_visible_to(user).none()
    return outreach_access.incidents_visible_to(user)
