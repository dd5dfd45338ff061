"""Scan recent tickets for incidents (many merchants of one acquirer failing at once), and
resolve incidents whose tickets stopped arriving (INCIDENT_RESOLVE_MINUTES).

Tickets are also checked one by one by a background task right after they are saved, and the
scheduler runs the same catch-up every 5 minutes (no cron line needed). Run it by hand to scan a
longer period after changing the thresholds: `python manage.py detect_incidents --hours 24`.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from diagnosis.insight.detection import detect_incidents, resolve_stale_incidents


class Command(BaseCommand):
    help = "Open incidents when many merchants of one acquirer report bank-side failures."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help="scan the tickets of the last HOURS hours (default: the detection window)",
        )
        parser.add_argument(
            "--no-resolve",
            action="store_true",
            help="do not resolve incidents whose tickets stopped arriving",
        )

    def handle(self, *args, hours=None, no_resolve=False, **options):
        now = timezone.now()
        if hours is not None and not (0 < hours <= 24 * 366):
            raise CommandError("--hours must be between 0 and 8784")
        minutes = hours * 60 if hours is not None else settings.INCIDENT_WINDOW_MINUTES
        opened = detect_incidents(since=now - timedelta(minutes=minutes), until=now, now=now)
        for incident in opened:
            self.stdout.write(
                f"opened incident #{incident.pk}: acquirer {incident.acquirer_id}, "
                f"{incident.merchant_count} merchants since {incident.started_at:%Y-%m-%d %H:%M}"
            )
        self.stdout.write(f"{len(opened)} incident(s) opened")
        if not no_resolve:
            resolved = resolve_stale_incidents(now=now)
            self.stdout.write(f"{len(resolved)} quiet incident(s) resolved")
