import json

from django.core.management.base import BaseCommand, CommandError

from diagnosis.wizard.snapshot import draft_snapshot, latest_version
from diagnosis.wizard.validation import database_context, validate_tree


class Command(BaseCommand):
    help = (
        "Validate the wizard: the editors' draft and the live published version (or a JSON file "
        "with --file). Prints every problem in Chinese and English and exits non-zero if any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="validate this tree JSON instead of the database")

    def handle(self, *args, **options):
        context = database_context()
        if options["file"]:
            try:
                with open(options["file"], encoding="utf-8") as handle:
                    targets = [(options["file"], json.load(handle))]
            except (OSError, ValueError) as error:
                raise CommandError(f"cannot read {options['file']}: {error}") from error
        else:
            targets = [("draft", draft_snapshot())]
            live = latest_version()
            if live is None:
                self.stdout.write(self.style.WARNING("No published version yet."))
            else:
                targets.append((f"live version {live.number}", live.snapshot))
        total = 0
        for name, tree in targets:
            problems = validate_tree(tree, **context)
            total += len(problems)
            if not problems:
                self.stdout.write(self.style.SUCCESS(f"{name}: OK"))
                continue
            self.stdout.write(self.style.ERROR(f"{name}: {len(problems)} problem(s)"))
            for problem in problems:
                self.stdout.write(f"  - [{problem.kind}] {problem.text('zh-hans')}")
                self.stdout.write(f"    {problem.text('en')}")
        if total:
            raise CommandError(f"the wizard has {total} problem(s)")
