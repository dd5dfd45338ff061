"""python manage.py create_api_token USERNAME [--name NAME]: print a new API token (once)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from diagnosis.core import permissions
from diagnosis.tickets.api_tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a merchant user and print it. It is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to recognise the token later.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not permissions.can_manage_api_tokens(user):
            raise CommandError(
                f"{username!r} is not an active merchant user: API tokens belong to merchant users."
            )
        token, raw = api_token_create(user=user, name=name or "manage.py create_api_token")
        self.stdout.write(raw)
        self.stderr.write(
            f"Token {token.prefix}… for {username} ({user.merchant}). Store it now: "
            "it cannot be shown again."
        )
