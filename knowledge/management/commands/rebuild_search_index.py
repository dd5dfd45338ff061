"""Build and store the search index of the current content (the workers do it after each
edit, the scheduler checks every minute); web processes load the stored index."""

from django.core.management.base import BaseCommand

from knowledge import search


class Command(BaseCommand):
    help = "Build the current search index once and store it for every process."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="build even if this version is stored"
        )

    def handle(self, *args, force=False, **options):
        if force:
            index = search.load_index(search.current_version())
            search.publish(index)
        else:
            index = search.build_and_publish()
        if index is None:
            self.stdout.write("the current version is stored already")
            return
        self.stdout.write(
            f"built {len(index.docs)} documents in {index.build_seconds:.2f} s and stored it"
        )
