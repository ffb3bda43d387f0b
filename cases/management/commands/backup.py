from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.security.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the whole database to a file, with a manifest of row counts and checksums."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="The backup file (default var/backups/basodara-<time>.dump).")

    def handle(self, *args, output=None, **options):
        path = Path(output or Path(settings.VAR_DIR) / "backups" / f"basodara-{timezone.now():%Y%m%d-%H%M%S}.dump")
        try:
            manifest = backup(path)
        except BackupError as e:
            raise CommandError(str(e)) from e
        rows = sum(t["rows"] for t in manifest["tables"].values())
        self.stdout.write(f"Backed up {len(manifest['tables'])} tables, {rows} rows, to {path}")
