from django.core.management.base import BaseCommand, CommandError

from cases.security.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the configured (empty) database, then "
        "check every table's row count and checksum against the backup's manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file.")
        parser.add_argument("--force", action="store_true", help="Replace a database that already holds data.")

    def handle(self, *args, path, force=False, **options):
        try:
            differences = restore(path, force=force)
        except BackupError as e:
            raise CommandError(str(e)) from e
        if differences:
            for table, d in differences.items():
                self.stderr.write(f"{table}: expected {d['expected']}, found {d['found']}")
            raise CommandError(f"{len(differences)} tables differ from the backup's manifest")
        self.stdout.write(f"Restored {path}; every table matches the manifest.")
