"""Who may export what as FHIR. Client reach and readable fields are decided by cases.access;
this module adds the rule for a whole site (SPEC §7: a site's data is its supervisors' and
the admins') and the client's consent: an export is made for outside systems, and a record
leaves for them only with consent to share, as a referral to an outside facility does
(SPEC §4, §7)."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from cases import access as cases_access
from cases.models import Client, Role, Site

SITE_EXPORT_ROLES = (Role.ADMIN, Role.SUPERVISOR)


def shareable(clients) -> QuerySet:
    """Of `clients`, those who consented to sharing and have not withdrawn consent."""
    return clients.filter(cases_access.SHAREABLE_OUTSIDE)


def client_for_export(user, pk) -> Client:
    """The client `pk` if `user` may read it (else 404) and it may be shared (else 403:
    the reader already sees the consent fields, so the refusal tells them nothing new)."""
    client = cases_access.client_for_user(user, pk)
    if not cases_access.may_share_outside(client):
        raise PermissionDenied(
            _("The client has not consented to sharing with outside facilities (or withdrew consent): no export.")
        )
    return client


def may_export_sites(user) -> bool:
    return cases_access.role_of(user) in SITE_EXPORT_ROLES


def site_for_export(user, pk) -> Site:
    """The site `pk` if `user` may export all its clients; 404 if the site is out of reach,
    403 if `user` sees the site but may not export it (a social worker of the site)."""
    try:
        site = cases_access.sites_visible_to(user).get(pk=pk)
    except (Site.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not may_export_sites(user):
        raise PermissionDenied
    return site
