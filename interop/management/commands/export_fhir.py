"""`manage.py export_fhir --site CODE [--client CODE] [--output FILE] --as USERNAME`: the FHIR
R4 Bundle of a site's clients, or of one of them, written to a file as it is read."""

import os
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from cases import access as cases_access
from cases import audit
from cases.models import Client, Site, User
from interop import access, export


class Command(BaseCommand):
    help = (
        "Write the FHIR R4 Bundle of a site's clients (or of one client) to a file or standard output. "
        "The export is what USERNAME may read, and every client in it is logged as read by them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="The site's code, e.g. TTE.")
        parser.add_argument("--client", help="Only this client of the site (its code, e.g. TTE-2026-0001).")
        parser.add_argument("--output", help="The file to write (default: standard output).")
        parser.add_argument(
            "--as", dest="username", required=True, help="The user whose reach applies: a supervisor or an admin."
        )

    def handle(self, *args, site, client=None, output=None, username, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        found = Site.objects.filter(code=site.strip().upper()).first()
        if found is None:
            raise CommandError(f"No site with code {site!r}.")
        site = found
        # The same policy as the API: a whole site (its clients who consented to sharing)
        # for its supervisors and admins, one client for whoever may read it, if it consented.
        what = f"client {client!r} of site {site.code}" if client else f"site {site.code}"
        try:
            if client:
                pk = Client.objects.filter(site=site, code=client.strip().upper()).values_list("pk", flat=True).first()
                chosen = access.client_for_export(user, pk)
                clients = cases_access.clients_visible_to(user).filter(pk=chosen.pk)
                left_out = 0
            else:
                access.site_for_export(user, site.pk)
                reach = cases_access.clients_visible_to(user).filter(site=site)
                clients = access.shareable(reach)
                left_out = reach.exclude(cases_access.SHAREABLE_OUTSIDE).count()
        except Http404:
            raise CommandError(f"{username} may not export {what} (or it does not exist).") from None
        except PermissionDenied as refused:
            raise CommandError(f"{username} may not export {what}. {refused}") from None

        exported = 0
        log_reads = audit.client_reads_logger(what="fhir", user=user)

        def log_and_count(client_ids):
            nonlocal exported
            log_reads(client_ids)
            exported += len(client_ids)

        pieces = export.bundle_pieces(user=user, site=site, clients=clients, log_reads=log_and_count)
        if output:
            _write(Path(output), pieces)
        else:
            for piece in pieces:
                self.stdout.write(piece, ending="")
            self.stdout.write("")
        self.stderr.write(f"Exported {exported} client(s) of {site.code} to {output or 'standard output'}.")
        if left_out:
            self.stderr.write(f"Left out {left_out} client(s) without consent to sharing.")


def _write(path, pieces):
    """Write to `path` through a private (0600) partial file renamed at the end, so that a
    failed export leaves no half file, and the client data is readable by the owner only."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            for piece in pieces:
                out.write(piece)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
