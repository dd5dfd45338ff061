"""Run the scheduler: `python manage.py run_scheduler` (config/scheduler.py lists the jobs).

It only enqueues the jobs' tasks at their intervals; workers run them. One per deployment.
"""

import logging

from django.core.management.base import BaseCommand

from config.scheduler import Scheduler


class Command(BaseCommand):
    help = "Enqueue the help desk's periodic jobs (auto-close, SLA warnings, incidents, …)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue every job once, exit")

    def handle(self, *args, once=False, **options):
        logging.getLogger("config").setLevel(logging.INFO)
        self.stdout.write("Scheduler: enqueues the periodic jobs for the workers. Ctrl-C stops it.")
        Scheduler().run(once=once)
