import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from diagnosis.accounts import demo


class Command(BaseCommand):
    help = (
        "Load reference data (knowledge base, wizard, banks) and, with DEBUG on, demo merchants, "
        "terminals, accounts with known passwords, tickets, an open incident and ninety days of "
        "demo history (diagnosis/demo/history.py). Safe to run again: it changes nothing that "
        "exists; --reset builds the history again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="remove the demo history and build it again"
        )
        parser.add_argument(
            "--no-history",
            dest="history",
            action="store_false",
            help="accounts, the curated demo tickets and incident only (no 90-day history)",
        )

    def handle(self, *args, reset=False, history=True, **options):
        started = time.perf_counter()
        for command in self.reference_commands():
            call_command(command, stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(f"Banks: {demo.seed_banks()} created.")
        if not settings.DEBUG:
            self.stdout.write(
                self.style.WARNING(
                    "DEBUG is off: demo accounts with known passwords were NOT created. "
                    "Create real accounts with `python manage.py createsuperuser`."
                )
            )
            return
        self.stdout.write(f"Demo merchants and terminals: {demo.seed_merchants()} created.")
        self.stdout.write("Demo accounts (DEBUG only):")
        for username, password, created in demo.seed_accounts():
            state = "created" if created else "exists, unchanged"
            self.stdout.write(f"  {username:<12} password: {password:<16} ({state})")
        self.stdout.write(
            "Staff sign in with a second factor. After the password, type a code from an "
            "authenticator app set up with the secret below, or a one-time recovery code:"
        )
        for username, secret, code in demo.seed_two_factor():
            self.stdout.write(f"  {username:<12} authenticator secret: {secret}")
            self.stdout.write(f"  {'':<12} recovery code (one use): {code}")
        if history:
            self.seed_history(reset)
        from diagnosis.tickets.demo import seed_tickets

        self.stdout.write(f"Demo tickets: {seed_tickets()} created.")
        from diagnosis.insight.demo import seed_incident

        self.stdout.write(f"Demo incident: {seed_incident()} created.")
        from diagnosis.status.demo import seed_maintenance_window

        self.stdout.write(f"Demo maintenance window: {seed_maintenance_window()} created.")
        from diagnosis.status.demo import seed_networks

        self.stdout.write(f"Demo card-network switches: {seed_networks()} created.")
        self.stdout.write(f"seed_demo took {time.perf_counter() - started:.1f} s.")

    def seed_history(self, reset):
        from diagnosis.demo import history

        if reset and history.reset():
            self.stdout.write("Demo history removed (--reset).")
        counts = history.build()
        if counts is None:
            self.stdout.write("Demo history: exists, unchanged (seed_demo --reset rebuilds it).")
            return
        self.stdout.write(
            "Demo history (90 days): {merchants} merchants, {terminals} terminals, {tickets} "
            "tickets, {events} timeline events, {batches} escalation batches, {incidents} "
            "incidents, {wizard_runs} wizard runs, {votes} article votes; built in "
            "{seconds:.1f} s.".format(**counts)
        )

    def reference_commands(self):
        """Commands that load the reference content; each is idempotent on its own."""
        return ["load_knowledge", "load_wizard"]
