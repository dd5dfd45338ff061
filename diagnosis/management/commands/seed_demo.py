from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from diagnosis.accounts import demo


class Command(BaseCommand):
    help = (
        "Load reference data (knowledge base, wizard, banks) and, with DEBUG on, demo merchants, "
        "terminals, accounts with known passwords, tickets and an open incident. Safe to run "
        "again: it changes nothing that exists."
    )

    def handle(self, *args, **options):
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
        from diagnosis.tickets.demo import seed_tickets

        self.stdout.write(f"Demo tickets: {seed_tickets()} created.")
        from diagnosis.insight.demo import seed_incident

        self.stdout.write(f"Demo incident: {seed_incident()} created.")
        from diagnosis.status.demo import seed_maintenance_window

        self.stdout.write(f"Demo maintenance window: {seed_maintenance_window()} created.")

    def reference_commands(self):
        """Commands that load the reference content; each is idempotent on its own."""
        return ["load_knowledge", "load_wizard"]
