"""Import patient survey responses from a plain CSV file or a survey tool's export.

Exit status: 0 imported (or checked, with --dry-run), 1 the file was refused and nothing
was written (the errors are on standard error), 2 usage error.
"""

import os
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from partners.csvfiles import DATE_FORMATS_HELP, columns_help
from partners.surveys.formats import (
    FORMATS,
    PLAIN_OPTIONAL,
    PLAIN_REQUIRED,
    Mapping,
    zone_or_error,
)
from partners.surveys.formats import PLAIN as PLAIN_FORMAT
from partners.surveys.importing import SOURCE_MAX, SurveyImportRefused, surveys_import


def describe(report):
    """The preview of a file, as lines of text (also used by the upload page's tests)."""
    nps = "n/a" if report.nps is None else f"{report.nps:.1f}"
    days = (
        f"{report.first_day.isoformat()} to {report.last_day.isoformat()}"
        if report.first_day else "none"
    )  # fmt: skip
    lines = [f"rows: {report.rows:,}"]
    if report.skipped:
        lines.append(f"already imported before, skipped: {report.skipped:,}")
    lines.append(f"practices: {report.practices:,}")
    for practice in report.practice_rows:
        lines.append(f"  {practice_line(practice)}")
    if report.practices > len(report.practice_rows):
        lines.append(f"  ... and {report.practices - len(report.practice_rows):,} more practices")
    return [
        *lines,
        f"dates: {days}",
        f"NPS of the file: {nps} (promoters {report.promoters:,}, passives {report.passives:,}, "
        f"detractors {report.detractors:,})",
    ]


def practice_line(practice):
    """A practice of a preview: who it is, so that a file aimed at the wrong one shows."""
    where = ", ".join(p for p in (practice["city"], practice["state"]) if p)
    mso = practice["mso"] or "no MSO today"
    rows, comments = practice["rows"], practice["comments"]
    return (f"{practice['code']} {practice['name']} ({where}; {mso}): {rows:,} "
            f"row{'s' if rows != 1 else ''}, {comments:,} comment{'s' if comments != 1 else ''}")


def describe_layout(report):
    """What was read from where, as lines of text: the format, columns, day rule, drops."""
    layout = report.layout
    if not layout or layout["format"] == PLAIN_FORMAT.key:
        reading = layout.get("reading", "") if layout else ""
        return [] if reading in ("", "CSV (UTF-8, commas)") else [f"read as: {reading}"]
    practice = (f"column {layout['practice_column']}" if layout["practice_column"]
                else f"{layout['practice']} for the whole file")  # fmt: skip
    identity = ("none: each row is known by its time and answers, so a later download skips "
                "what is already imported")  # fmt: skip
    lines = [
        f"format: {layout['format_label']} ({layout['header_rows']} header "
        f"row{'s' if layout['header_rows'] != 1 else ''})",
        f"read as: {layout['reading']}",
        f"score: column {layout['score_column']}",
        f"date: column {layout['date_column']}, {layout['day_rule']}",
        f"response id: {'column ' + layout['id_column'] if layout['id_column'] else identity}",
        f"practice: {practice}",
    ]
    if layout["dropped"]:
        lines.append(f"personal data, not imported: {', '.join(layout['dropped'])}")
    if report.unfinished:
        lines.append(f"unfinished responses skipped: {report.unfinished:,}")
    if report.tests:
        lines.append(f"previews, test responses and spam skipped: {report.tests:,}")
    if report.unanswered:
        lines.append(f"rows without a score skipped: {report.unanswered:,}")
    return lines


def PLAIN(text):  # noqa: N802 - a style, named as Django's are
    """Not in the error colour the command's standard error is written in on a terminal."""
    return text


class TerminalProgress:
    """On a terminal, the share of the file read, counting up on one line, then each stage
    of the work after the reading on a line of its own. Elsewhere (a pipe, a log): nothing."""

    def __init__(self, out, *, name, total):
        self.out, self.name, self.total = out, name, max(total, 1)
        self.shown = -1

    def __call__(self, done):
        percent = done * 100 // self.total
        if percent != self.shown:
            self.shown = percent
            self.out.write(f"\rReading {self.name}: {percent}%", PLAIN, ending="")
            self.out.flush()

    def stage(self, message, percent):
        self.out.write(f"\n{message}…", PLAIN, ending="")
        self.out.flush()

    def done(self):
        if self.shown >= 0:
            self.out.write("", PLAIN)  # end the last line


class Command(BaseCommand):
    help = (
        "Import survey responses from a survey tool's export ("
        + ", ".join(f.label for f in FORMATS.values() if f is not PLAIN_FORMAT)
        + ") as CSV, TSV or XLSX, or from a plain CSV file with the columns "
        f"{columns_help(PLAIN_REQUIRED, PLAIN_OPTIONAL)} (names in any order and case; "
        f"dates: {DATE_FORMATS_HELP}). "
        "The file is checked as a whole: any error refuses it and nothing is imported. "
        "Exit status: 0 imported, 1 refused, 2 usage error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file: CSV or TSV (UTF-8 or UTF-16), or XLSX.")
        parser.add_argument(
            "--format", default="auto", choices=["auto", *FORMATS],
            help="The tool that wrote the file; auto (the default) detects it from the header.",
        )  # fmt: skip
        parser.add_argument("--practice", default="",
                            help="One practice (code or name) for the whole file.")
        parser.add_argument("--practice-column", default="",
                            help="The column holding each row's practice code or name.")
        parser.add_argument("--score-column", default="", help="The column of the 0-10 score.")
        parser.add_argument("--date-column", default="", help="The column of the date.")
        parser.add_argument("--id-column", default="", help="The column of the response id.")
        parser.add_argument(
            "--tz", default="",
            help="The time zone UTC stamps (Typeform, Formbricks) are converted to; default "
            "the project's TIME_ZONE.",
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="Check and describe only.")
        parser.add_argument(
            "--source", default="", help="The survey vendor or export the file comes from."
        )
        parser.add_argument("--user", default="", help="The username recorded as importer.")

    def handle(self, *args, file, dry_run, source, user, **options):
        if options["tz"]:
            try:
                zone_or_error(options["tz"])
            except ValueError as exc:
                raise CommandError(f"--tz: {exc}.", returncode=2) from None
        mapping = Mapping(
            format=options["format"], score_column=options["score_column"],
            date_column=options["date_column"], id_column=options["id_column"],
            practice_column=options["practice_column"], practice=options["practice"],
            time_zone=options["tz"],
        )  # fmt: skip
        if len(source.strip()) > SOURCE_MAX:
            raise CommandError(f"--source is longer than {SOURCE_MAX} characters.", returncode=2)
        importer = None
        if user:
            try:
                importer = get_user_model()._default_manager.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"There is no user {user}.", returncode=2) from None
        try:
            stream = open(file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.", returncode=2) from exc
        progress = None
        if self.stderr.isatty():
            progress = TerminalProgress(self.stderr, name=os.path.basename(file),
                                        total=os.fstat(stream.fileno()).st_size)  # fmt: skip
        try:
            with stream:
                report = surveys_import(
                    stream=stream, file_name=os.path.basename(file), source=source,
                    user=importer, dry_run=dry_run, progress=progress,
                    on_stage=progress and progress.stage, mapping=mapping,
                )  # fmt: skip
        except SurveyImportRefused as exc:
            if progress:
                progress.done()
            self.stderr.write(f"Refused {file}: nothing was imported.")
            for line in exc.report_lines():
                self.stderr.write(line)
            sys.exit(1)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.", returncode=2) from exc
        if progress:
            progress.done()
        if options["format"] == "auto" and report.format != PLAIN_FORMAT.key:
            self.stdout.write(f"Detected format: {FORMATS[report.format].label}")
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        for line in [*describe_layout(report), *describe(report)]:
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(
                f"Dry run: {report.imported:,} responses would be imported"
                + (f", {report.skipped:,} skipped as already imported." if report.skipped else ".")
                + " Nothing was written."
            )
            return
        if report.all_imported:
            self.stdout.write(f"Nothing imported: all {report.rows:,} responses of {file} were "
                              "already imported. Nothing was written.")  # fmt: skip
            return
        self.stdout.write(self.style.SUCCESS(
            f"Imported {file} as import #{report.survey_import_id}: {report.summary()}"
        ))  # fmt: skip
