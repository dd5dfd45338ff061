"""Send the agents' daily digest (those who asked for it). Scheduled every 10 minutes: it goes
out once a working day, after DIGEST_TIME; `--force` sends today's now (if not sent yet)."""

from django.core.management.base import BaseCommand

from diagnosis.tickets import jobs


class Command(BaseCommand):
    help = "Send today's digest to agents who asked for it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="send now, even before DIGEST_TIME or on a day off"
        )

    def handle(self, *args, force=False, **options):
        self.stdout.write(f"{jobs.daily_digests(force=force)} digest(s) built")
