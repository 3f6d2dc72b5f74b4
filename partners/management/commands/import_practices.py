"""Import MSOs, practices and their affiliations from a CSV file.

Exit status: 0 imported, 1 the file was refused (nothing was written),
2 the file could not be read.
"""

from django.core.management.base import BaseCommand, CommandError

from partners.csvfiles import DATE_FORMATS_HELP, ImportRefused, columns_help
from partners.practice_import import (
    PRACTICE_COLUMNS,
    PRACTICE_OPTIONAL_COLUMNS,
    practices_import,
)


class Command(BaseCommand):
    help = (
        "Import practices from a CSV file with the columns "
        f"{columns_help(PRACTICE_COLUMNS, PRACTICE_OPTIONAL_COLUMNS)} (names in any order and "
        f"case). Dates: {DATE_FORMATS_HELP}; end dates are inclusive. The file is checked as a "
        "whole: any error refuses it and nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file, UTF-8 (CSV UTF-8 from Excel).")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.", returncode=2) from exc
        try:
            result = practices_import(data=data)
        except ImportRefused as exc:
            lines = [f"Refused {file}: nothing was imported.", *map(str, exc.errors)]
            raise CommandError("\n".join(lines), returncode=1) from exc
        self.stdout.write(self.style.SUCCESS(f"Imported {file}: {result.summary()}"))
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
