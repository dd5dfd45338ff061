"""E-mail agents about first-reply deadlines that are near or missed (scheduled every minute)."""

from django.core.management.base import BaseCommand

from diagnosis.tickets import jobs


class Command(BaseCommand):
    help = "Warn agents about tickets whose first-reply deadline is near or has passed."

    def handle(self, *args, **options):
        told = jobs.sla_warnings()
        self.stdout.write(
            f"due soon: {len(told['warned'])} ticket(s); missed: {len(told['missed'])} ticket(s)"
        )
