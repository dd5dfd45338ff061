"""Send the notification e-mail whose (re)try is due now (scheduled every minute)."""

from django.core.management.base import BaseCommand

from diagnosis.tickets import notifications


class Command(BaseCommand):
    help = "Deliver pending notification e-mail whose next attempt is due."

    def handle(self, *args, **options):
        self.stdout.write(f"{notifications.deliver_due()} e-mail(s) sent")
