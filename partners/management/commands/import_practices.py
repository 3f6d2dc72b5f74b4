"""Import MSOs, practices and their affiliations from a CSV file.

Exit status: 0 imported, 1 the file was refused (nothing was written),
2 the file could not be read.
"""

from django.core.management.base import BaseCommand, CommandError

from partners.services import (
    DATE_FORMATS_HELP,
    PRACTICE_COLUMNS,
    PRACTICE_OPTIONAL_COLUMNS,
    ImportRefused,
    practices_import,
)


class Command(BaseCommand):
    help = (
        f"Import practices from a CSV file with the columns {','.join(PRACTICE_COLUMNS)} "
        f"and optionally {','.join(PRACTICE_OPTIONAL_COLUMNS)}. Dates: {DATE_FORMATS_HELP}; "
        "end dates are inclusive. The file is checked as a whole: any error refuses it and "
        "nothing is imported."
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
