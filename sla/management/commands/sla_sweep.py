from django.core.management.base import BaseCommand

from sla.tasks import sla_sweep


class Command(BaseCommand):
    help = (
        "Record SLA warnings (75 % of a target used) and breaches that fell due, escalating and "
        "notifying. Safe to run from cron next to the django-q2 schedule: runs never overlap work."
    )

    def handle(self, *args, **options):
        result = sla_sweep()
        self.stdout.write(f"{result['warned']} clock(s) at risk, {result['breached']} breached.")
