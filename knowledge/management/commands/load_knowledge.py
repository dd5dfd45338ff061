from django.core.management.base import BaseCommand, CommandError

from knowledge.loading import ContentError, load_content


class Command(BaseCommand):
    help = (
        "Load the knowledge base (categories, response codes, articles) from knowledge/content/. "
        "Safe to run again: new content is added, unedited records are updated, and records an "
        "editor has changed since they were loaded are left alone."
    )

    def handle(self, *args, **options):
        try:
            reports = load_content()
        except ContentError as error:
            raise CommandError(f"Knowledge content is invalid: {error}") from error
        for name, report in reports.items():
            self.stdout.write(f"Knowledge {name}: {report.summary()}.")
            if report.kept and options["verbosity"] > 1:
                self.stdout.write(f"  kept (edited): {', '.join(report.kept)}")
