"""Import aggregate NPS submissions (counts an MSO reports about itself) from a CSV file.

Exit status: 0 imported (or checked, with --dry-run), 1 the file was refused (nothing was
written), 2 the file could not be read.
"""

from django.core.management.base import BaseCommand, CommandError

from partners.aggregate_import import COLUMNS_HELP, aggregates_import
from partners.csvfiles import DATE_FORMATS_HELP, ImportRefused


class Command(BaseCommand):
    help = (
        f"Import self-reported NPS submissions from a CSV file with the columns {COLUMNS_HELP} "
        "(names in any order and case). Each line is for a practice (its code) or an MSO (its "
        f"name or slug), never both. Dates: {DATE_FORMATS_HELP}; both days are inclusive. "
        "The file is checked as a whole: any error refuses it and nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file, UTF-8 (CSV UTF-8 from Excel).")
        parser.add_argument("--dry-run", action="store_true", help="Check and count only.")

    def handle(self, *args, file, dry_run=False, **options):
        try:
            with open(file, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.", returncode=2) from exc
        try:
            result = aggregates_import(data=data, dry_run=dry_run)
        except ImportRefused as exc:
            lines = [f"Refused {file}: nothing was imported.", *map(str, exc.errors)]
            raise CommandError("\n".join(lines), returncode=1) from exc
        if dry_run:
            self.stdout.write(
                f"Checked {file}: {result.summary()} would be imported; nothing was written."
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {file}: {result.summary()}."))
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
