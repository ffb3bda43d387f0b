import datetime

from django.core.management.base import BaseCommand, CommandError

from cases import outbox
from cases.outbox import delivery


class Command(BaseCommand):
    help = "Run the reminder scans now (the same code beat runs every 15 minutes) and enqueue delivery."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today", help="Scan as if every site's date were YYYY-MM-DD (for catching up or testing)."
        )

    def handle(self, *args, today=None, **options):
        if today:
            try:
                today = datetime.date.fromisoformat(today)
            except ValueError:
                raise CommandError("--today must be a date as YYYY-MM-DD") from None
        counts = outbox.run_all(today=today)
        for kind, count in sorted(counts.items()):
            self.stdout.write(f"{kind}: {count}")
        enqueued = delivery.notifications_enqueue_pending()
        self.stdout.write(f"enqueued for delivery: {len(enqueued)}")
