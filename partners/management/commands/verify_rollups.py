import sys

from django.core.management.base import BaseCommand
from django.db import transaction

from partners.rollups import rollups_differences, rollups_rebuild_all


class Command(BaseCommand):
    help = (
        "Recompute the NPS rollups from the raw responses and print every difference "
        "(there should be none). Exit status 1 when there is one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild", action="store_true", help="Rebuild the rollups when they differ."
        )

    def handle(self, *args, rebuild, **options):
        differences = rollups_differences()
        if not differences:
            self.stdout.write(self.style.SUCCESS("Rollups match the raw responses."))
            return
        for table, kind, key, counts in differences:
            self.stdout.write(f"{table} {kind}: {', '.join(key)} -> {counts}")
        if rebuild:
            with transaction.atomic():
                rollups_rebuild_all()
            self.stdout.write(self.style.WARNING("Rebuilt the rollups from the raw responses."))
            return
        self.stderr.write(f"{len(differences)} differences (at most 50 per kind shown).")
        sys.exit(1)
