"""Mail each owner their articles and codes past the "review by" date (scheduled every 15
minutes; each owner is mailed at most once a week)."""

from django.core.management.base import BaseCommand

from knowledge import review


class Command(BaseCommand):
    help = "Mail owners the articles and response codes whose review date has passed."

    def handle(self, *args, **options):
        told = review.notify_overdue_reviews()
        self.stdout.write(f"owners told: {told}")
