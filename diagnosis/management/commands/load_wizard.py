from django.core.management.base import BaseCommand, CommandError

from diagnosis.wizard.loader import CONTENT_FILE, WizardContentError, load_wizard


class Command(BaseCommand):
    help = (
        "Load the troubleshooting wizard (diagnosis/wizard/content/wizard.json) into the draft and "
        "publish it. Needs the knowledge base (load_knowledge) first. Safe to run again: new "
        "questions, outcomes and code routes are added, unedited ones updated, editors' "
        "changes and deletions are kept, and editors' unpublished drafts are never published."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(CONTENT_FILE), help="the tree JSON to load")
        parser.add_argument(
            "--no-publish", action="store_true", help="only update the draft; don't publish"
        )

    def handle(self, *args, **options):
        try:
            report = load_wizard(options["file"], publish=not options["no_publish"])
        except WizardContentError as error:
            for problem in error.problems:
                self.stderr.write(f"  - {problem.text('zh-hans')} / {problem.text('en')}")
            raise CommandError(f"Wizard content not loaded: {error}") from error
        self.stdout.write(f"Wizard: {report.summary()}.")
        for problem in report.problems:
            self.stdout.write(
                self.style.WARNING(f"  - {problem.text('zh-hans')} / {problem.text('en')}")
            )
        if options["verbosity"] > 1:
            for label, keys in (
                ("kept (edited)", report.kept_edited),
                ("not restored (deleted)", report.kept_deleted),
            ):
                if keys:
                    self.stdout.write(f"  {label}: {', '.join(keys)}")
