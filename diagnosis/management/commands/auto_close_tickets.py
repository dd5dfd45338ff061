"""Close resolved tickets nobody answered for AUTO_CLOSE_DAYS; remind the merchant first
(AUTO_CLOSE_REMIND_DAYS before). Scheduled every 15 minutes."""

from django.core.management.base import BaseCommand

from diagnosis.tickets import jobs


class Command(BaseCommand):
    help = "Remind merchants of, then close, resolved tickets without an answer."

    def handle(self, *args, **options):
        done = jobs.auto_close()
        self.stdout.write(
            f"closed: {len(done['closed'])} ticket(s); reminded: {len(done['reminded'])} ticket(s)"
        )
