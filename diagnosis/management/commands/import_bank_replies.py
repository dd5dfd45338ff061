"""Read a bank's answer file (CSV in UTF-8 or GBK, or XLSX) into the escalations of that bank:
`manage.py import_bank_replies PATH --bank CODE [--batch NUMBER] [--dry-run] [--user NAME]`.

Prints the same preview as the batch page (matched, unmatched, ambiguous, already answered,
conflicting) and, without --dry-run, records the answers in one transaction. A bad file is
reported line by line and nothing is written. Sample files: diagnosis/escalations/samples/.
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from diagnosis.core import permissions
from diagnosis.escalations import replies
from diagnosis.escalations.selectors import reply_candidates
from diagnosis.escalations.services import escalation_replies_apply
from diagnosis.models import Bank, EscalationBatch, EscalationTemplate, User


class Command(BaseCommand):
    help = "Import a bank's reply file (CSV UTF-8/GBK or XLSX) into its escalation batches."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--bank", required=True, help="bank code")
        parser.add_argument("--batch", default="", help="only this batch (its number)")
        parser.add_argument("--dry-run", action="store_true", help="preview only, write nothing")
        parser.add_argument(
            "--user", default="", help="agent recorded as the author (default: the superuser)"
        )

    def handle(self, *args, path, bank, batch, dry_run, user, **options):
        found = Bank.objects.filter(code=bank).select_related("escalation_template").first()
        if found is None:
            raise CommandError(f"Unknown bank code: {bank}")
        target = None
        if batch:
            target = EscalationBatch.objects.filter(number=batch, acquirer=found).first()
            if target is None:
                raise CommandError(f"No batch {batch} for bank {bank}")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        parsed = replies.read_reply_file(
            file.read_bytes(), file.name, EscalationTemplate.for_bank(found)
        )
        if parsed.errors:
            for line, message in parsed.errors:
                where = f"line {line}" if line else "file"
                self.stderr.write(f"{where}: {message}")
            raise CommandError(f"{len(parsed.errors)} error(s); nothing was imported.")
        if dry_run:
            entries = replies.classify(parsed.rows, reply_candidates(bank=found, batch=target))
        else:
            actor = self._actor(user)
            try:
                entries = escalation_replies_apply(
                    actor=actor, bank=found, rows=parsed.rows, batch=target
                )
            except (ValidationError, PermissionDenied) as error:
                raise CommandError("; ".join(getattr(error, "messages", [str(error)]))) from error
        self._report(entries, dry_run)

    def _actor(self, username):
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
        else:
            supers = list(User.objects.filter(is_superuser=True, is_active=True)[:2])
            actor = supers[0] if len(supers) == 1 else None
            if actor is None:
                raise CommandError("Say which agent imports the file: --user NAME")
        if actor is None or not permissions.can_manage_escalations(actor):
            raise CommandError(f"{username} may not import bank replies")
        return actor

    def _report(self, entries, dry_run):
        for entry in entries:
            ticket = entry.item.ticket.number if entry.item is not None else "—"
            self.stdout.write(
                f"line {entry.row.line}: {entry.status} {ticket} {entry.row.outcome} "
                f"{entry.row.reference} {entry.message}".rstrip()
            )
        counts = replies.summary(entries)
        summary = ", ".join(f"{key} {value}" for key, value in counts.items())
        self.stdout.write(("dry run, nothing written: " if dry_run else "imported: ") + summary)
