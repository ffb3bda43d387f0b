"""Who may see or decide a transfer (SPEC §12.3). Client reach is cases.access's; this adds
the transfer rules, and nothing else decides them:

- a supervisor of the client's site asks for a transfer; admins anywhere;
- supervisors see the transfers from and to their site; admins all; nobody else any;
- a supervisor of the receiving site accepts or declines; admins too.

The receiving site's supervisors see a requested transfer's client by code and nickname
before they may read the client: that is what the client's consent to share (or their own
request) allows, and each such answer is logged as a read of the client.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from cases import access as cases_access
from cases.models import Role, Site, User

from .models import Transfer


def transfers_visible_to(user) -> QuerySet:
    role = cases_access.role_of(user)
    if role == Role.ADMIN:
        return Transfer.objects.all()
    if role == Role.SUPERVISOR:
        return Transfer.objects.filter(Q(from_site_id=user.site_id) | Q(to_site_id=user.site_id))
    return Transfer.objects.none()


def transfer_for_user(user, pk) -> Transfer:
    try:
        return transfers_visible_to(user).select_related("client", "from_site", "to_site").get(pk=pk)
    except (Transfer.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_request_transfer(user, client) -> bool:
    """Supervisors of the client's site (and admins): the ones who assign it."""
    return cases_access.can_assign(user, client)


def may_request_transfers(user) -> bool:
    return cases_access.role_of(user) in (Role.ADMIN, Role.SUPERVISOR)


def can_decide(user, transfer) -> bool:
    """Accept or decline: supervisors of the receiving site, admins."""
    role = cases_access.role_of(user)
    return role == Role.ADMIN or (role == Role.SUPERVISOR and transfer.to_site_id == user.site_id)


def destination_sites(user, client) -> QuerySet:
    """Sites a client of `user`'s may be transferred to: every other site of the installation."""
    if not can_request_transfer(user, client):
        return Site.objects.none()
    return Site.objects.exclude(pk=client.site_id)


def receiving_workers(transfer) -> QuerySet:
    """Who may take the client at the new site: its active social workers."""
    return User.objects.filter(role=Role.SOCIAL_WORKER, site_id=transfer.to_site_id, is_active=True).order_by(
        "first_name", "username"
    )


def workers_assignable_by(user) -> QuerySet:
    """Social workers `user` may name when accepting (the service checks the site)."""
    role = cases_access.role_of(user)
    workers = User.objects.filter(role=Role.SOCIAL_WORKER, is_active=True)
    if role == Role.ADMIN:
        return workers
    if role == Role.SUPERVISOR:
        return workers.filter(site_id=user.site_id)
    return workers.none()
