import json

from django.core.management.base import BaseCommand, CommandError

from partners.csv_export import csv_export_writer
from scorecards.documents import snapshot_csv_rows
from scorecards.models import ScorecardSnapshot
from scorecards.selectors import latest_snapshot, snapshot_document


class Command(BaseCommand):
    help = "Write a scorecard snapshot (the latest by default) as JSON or CSV to standard output."

    def add_arguments(self, parser):
        parser.add_argument("--snapshot", type=int, help="Snapshot id (default: the latest).")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, snapshot, format, **options):
        if snapshot is None:
            found = latest_snapshot()
            if found is None:
                raise CommandError(
                    "There is no snapshot yet; run compute_scorecards first.", returncode=1
                )
        else:
            found = ScorecardSnapshot.objects.select_related("methodology").filter(
                pk=snapshot
            ).first()
            if found is None:
                raise CommandError(f"There is no snapshot #{snapshot}.", returncode=1)
        document = snapshot_document(found)
        if format == "json":
            self.stdout.write(json.dumps(document, indent=2))
            return
        writer = csv_export_writer(self.stdout, lineterminator="\n")
        writer.writerows(snapshot_csv_rows(document))
