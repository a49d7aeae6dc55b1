from django.core.management.base import BaseCommand, CommandError

from incidents.tasks import DEFAULT_STALE_HOURS, auto_close
from itsm.errors import InvalidInput


class Command(BaseCommand):
    help = "Close incidents that have stayed resolved for --stale-hours (default 48). For cron users."

    def add_arguments(self, parser):
        parser.add_argument("--stale-hours", type=int, default=DEFAULT_STALE_HOURS, help="1 to 720 hours.")
        parser.add_argument(
            "--dry-run", action="store_true", help="List the eligible incidents; change nothing."
        )

    def handle(self, *args, stale_hours, dry_run, **options):
        try:
            result = auto_close(stale_hours=stale_hours, dry_run=dry_run)
        except InvalidInput as exc:
            raise CommandError("--stale-hours must be whole hours from 1 to 720.") from exc
        if dry_run:
            self.stdout.write(f"{len(result['eligible'])} incident(s) would be closed: {result['eligible']}")
        else:
            self.stdout.write(f"Closed {len(result['closed'])} incident(s).")
