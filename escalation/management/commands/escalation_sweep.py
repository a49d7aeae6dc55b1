from django.core.management.base import BaseCommand

from escalation.tasks import escalation_sweep


class Command(BaseCommand):
    help = (
        "Move incidents whose escalation stage timed out on to the next stage, notifying its "
        "targets. Safe to run from cron next to the django-q2 schedule."
    )

    def handle(self, *args, **options):
        result = escalation_sweep()
        self.stdout.write(f"{result['advanced']} incident(s) moved to their next escalation stage.")
