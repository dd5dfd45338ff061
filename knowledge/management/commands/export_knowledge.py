"""Write the published knowledge base back to knowledge/content/ (the loader's format)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from knowledge.exporting import export_content
from knowledge.loading import CONTENT_DIR


class Command(BaseCommand):
    help = (
        "Write categories, response codes, published articles and synonym groups to "
        "knowledge/content/ (or --output DIR) in the format load_knowledge reads."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=CONTENT_DIR, help="target directory")

    def handle(self, *args, output, **options):
        counts = export_content(output)
        self.stdout.write(", ".join(f"{name}: {value}" for name, value in counts.items()))
