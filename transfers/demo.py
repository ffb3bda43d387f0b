"""The demo's second site and a transfer waiting there (seed_demo's hook, through the
services): Sentra Tidore, across the strait from Ternate, with its supervisor, and one client
of Ternate who asked to move there, so a new user sees the transfer inbox at once."""

from cases import services as case_services
from cases.management.commands.seed_demo import DEMO_PASSWORD
from cases.models import Client, ClientStatus, Role, Site, User

from . import services

SITE_CODE = "TDR"
SITE_NAME = "Sentra Tidore"
SUPERVISOR = ("spv_tidore", "Hasmawati", "Conoras")
REASON = "Pindah ke Tidore ikut suami; melanjutkan ARV di RSUD Tidore."


def seed_transfer(*, site, today):
    """Make the second site and its supervisor, and ask them to take a client of `site`;
    the accounts made."""
    admin = User.objects.get(username="admin")
    tidore = Site(name=SITE_NAME, code=SITE_CODE, timezone="Asia/Jayapura")
    tidore.full_clean()
    tidore.save()
    username, first_name, last_name = SUPERVISOR
    supervisor_tdr = case_services.user_create(
        actor=admin,
        username=username,
        password=DEMO_PASSWORD,
        role=Role.SUPERVISOR,
        first_name=first_name,
        last_name=last_name,
        site=tidore,
    )
    supervisor = User.objects.get(site=site, role=Role.SUPERVISOR, username="supervisor")
    client = (
        Client.objects.filter(
            site=site,
            status=ClientStatus.ACTIVE,
            consent_share=True,
            consent_withdrawn_on__isnull=True,
            closed_on__isnull=True,
        )
        .order_by("code")
        .first()
    )
    services.transfer_request(actor=supervisor, client=client, to_site=tidore, reason=REASON)
    return [supervisor_tdr]
