"""Undo a survey import as a whole.

Exit status: 0 undone, 2 usage error (including an import id that does not exist).
"""

from django.core.management.base import BaseCommand, CommandError

from partners.management.commands.import_surveys import PLAIN
from partners.models import SurveyImport
from partners.surveys.importing import survey_import_undo


class Command(BaseCommand):
    help = "Undo a survey import as a whole: delete its responses and comments and its record."

    def add_arguments(self, parser):
        parser.add_argument("import_id", type=int, help="The number of the import (import #ID).")

    def handle(self, *args, import_id, **options):
        survey_import = SurveyImport.objects.filter(pk=import_id).first()
        if survey_import and self.stderr.isatty():
            self.stderr.write(f"Undoing import #{import_id} ({survey_import.file_name}, "
                              f"{survey_import.rows:,} responses)…", PLAIN)  # fmt: skip
        try:
            undone = survey_import_undo(survey_import_id=import_id)
        except SurveyImport.DoesNotExist:
            raise CommandError(f"There is no survey import #{import_id}.", returncode=2) from None
        self.stdout.write(self.style.SUCCESS(f"{undone.summary()}."))
