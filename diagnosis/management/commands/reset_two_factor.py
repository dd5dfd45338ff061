"""python manage.py reset_two_factor USERNAME: remove a user's second-factor devices (lost phone).

The user's signed-in sessions end. Staff set up a new authenticator at their next sign-in (after
the password); merchant users simply sign in with their password until they turn it on again.
The reset is written to the audit trail.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from diagnosis.accounts import two_factor


class Command(BaseCommand):
    help = "Remove a user's two-factor devices (authenticator and recovery codes), e.g. lost phone."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        removed = two_factor.remove_devices(user)
        from diagnosis.core import audit

        audit.record(
            actor=None,
            action="account.two_factor_reset",
            obj=user,
            devices_removed=removed,
            via="manage.py reset_two_factor",
        )
        then = (
            "they set up a new authenticator at their next sign-in"
            if two_factor.is_required(user)
            else "they sign in with their password alone until they turn it on again"
        )
        self.stdout.write(f"Removed {removed} two-factor device(s) of {username}; {then}.")
