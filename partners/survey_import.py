"""Import of patient survey files: streamed, checked as a whole, all or nothing, reversible.

The file is read once, as a stream. Python checks each row's format and writes the rows into a
temporary staging table (COPY on PostgreSQL, batched inserts on SQLite); the checks that need
the whole file or the database (unknown practice codes, response ids repeated in the file or
already imported) run in SQL over the staging table. Only when there is no error are the rows
copied into the response table with one INSERT ... SELECT and the rollups updated, all in one
transaction. Memory does not grow with the size of the file.
"""

import csv
import datetime
import hashlib
import io
import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from .models import SurveyImport, SurveyResponse
from .rollups import rollups_add_import, rollups_remove_import
from .services import ImportRefused, LineError

REQUIRED_COLUMNS = ("practice", "responded_on", "score")
OPTIONAL_COLUMNS = ("response_id", "comment")
MAX_ERRORS = 1000
BATCH = 5000
STAGING = "survey_staging"
RESPONSE_ID_MAX = SurveyResponse._meta.get_field("response_id").max_length
SOURCE_MAX = SurveyResponse._meta.get_field("source").max_length
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass
class SurveyImportReport:
    """What a file holds and what importing it did (or, in a preview, would do)."""

    file_name: str
    source: str
    checksum: str = ""
    rows: int = 0
    imported: int = 0
    skipped: int = 0
    practices: int = 0
    first_day: datetime.date | None = None
    last_day: datetime.date | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    warnings: list = field(default_factory=list)
    survey_import_id: int | None = None

    @property
    def nps(self):
        n = self.promoters + self.passives + self.detractors
        return None if n == 0 else 100 * (self.promoters - self.detractors) / n

    def summary(self):
        text = f"{self.imported} responses imported"
        if self.skipped:
            text += f", {self.skipped} skipped (response id already imported from {self.source})"
        return text + "."


class SurveyImportRefused(ImportRefused):
    """The file was refused; ``errors`` holds the first MAX_ERRORS, ``error_count`` all."""

    def __init__(self, errors, error_count=None):
        self.error_count = error_count if error_count is not None else len(errors)
        super().__init__(errors)

    def report_lines(self):
        lines = [str(e) for e in self.errors]
        if self.error_count > len(self.errors):
            lines.append(f"... and {self.error_count - len(self.errors)} more errors.")
        return lines


class _Errors:
    """Collects line errors, keeping the first MAX_ERRORS and counting the rest."""

    def __init__(self):
        self.kept, self.count = [], 0

    def add(self, line, message, column=""):
        self.count += 1
        if len(self.kept) < MAX_ERRORS:
            self.kept.append(LineError(line, message, column))

    def refuse(self):
        self.kept.sort(key=lambda e: (e.line, e.column))
        raise SurveyImportRefused(self.kept, self.count)


def parse_day(text):
    """YYYY-MM-DD or M/D/YYYY; raise ValueError otherwise."""
    if ISO_DATE.match(text):
        return datetime.date.fromisoformat(text)
    match = US_DATE.match(text)
    if match:
        month, day, year = map(int, match.groups())
        return datetime.date(year, month, day)
    raise ValueError(text)


class _HashingReader(io.RawIOBase):
    """Passes a binary stream through while computing its SHA-256 and reporting progress."""

    def __init__(self, raw, progress=None):
        self.raw, self.sha256, self.size, self.progress = raw, hashlib.sha256(), 0, progress

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        self.sha256.update(data)
        self.size += len(data)
        if self.progress and data:
            self.progress(self.size)
        buffer[: len(data)] = data
        return len(data)


def _lines(stream, errors):
    """Decode a binary stream line by line; a line with bytes that are not UTF-8 is reported
    and replaced by an empty record, so the other lines are still checked."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.add(number, f"byte 0x{raw[exc.start]:02x} is not UTF-8 text; "
                               "save the file as CSV UTF-8")  # fmt: skip
            yield "\n" if raw.endswith(b"\n") else ""
            continue
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield text


def _records(stream, errors):
    """Yield (line where the record starts, values) for every non-blank CSV record."""
    reader = csv.reader(_lines(stream, errors))
    line = 1
    try:
        for values in reader:
            if values and any(v.strip() for v in values):
                yield line, values
            line = reader.line_num + 1
    except csv.Error as exc:
        errors.add(line, f"this is not valid CSV ({exc})")


def _header(records, errors):
    first = next(records, None)
    if first is None:
        raise SurveyImportRefused([LineError(0, "The file is empty.")])
    line, names = first
    header = [n.strip().lower() for n in names]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise SurveyImportRefused([LineError(line, (
            f"missing column{plural} {', '.join(missing)}; the header must name "
            f"{', '.join(REQUIRED_COLUMNS)} and optionally {', '.join(OPTIONAL_COLUMNS)}"
        ))])  # fmt: skip
    repeated = sorted({n for n in header if n and header.count(n) > 1})
    if repeated:
        raise SurveyImportRefused([LineError(line, f"column {name} appears more than once")
                                   for name in repeated])  # fmt: skip
    known = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    index = {name: header.index(name) for name in known if name in header}
    warnings = [f"column {name or position} is not used and was ignored"
                for position, name in enumerate(header, start=1) if name not in index]  # fmt: skip
    return len(header), index, warnings


def _staged_rows(records, width, index, errors, today):
    """Check each record's format; yield the good ones as staging rows."""
    i_practice, i_day, i_score = (index[c] for c in REQUIRED_COLUMNS)
    i_id, i_comment = index.get("response_id"), index.get("comment")
    for line, values in records:
        if len(values) != width:
            errors.add(line, f"expected {width} fields as in the header, found {len(values)}")
            continue
        ok = True
        code = values[i_practice].strip()
        if not code:
            errors.add(line, "the practice code is missing", "practice")
            ok = False
        text = values[i_day].strip()
        day = None
        if not text:
            errors.add(line, "the date is missing", "responded_on")
            ok = False
        else:
            try:
                day = parse_day(text)
            except ValueError:
                errors.add(line, f"'{text}' is not a date (use YYYY-MM-DD or M/D/YYYY)",
                           "responded_on")  # fmt: skip
                ok = False
            else:
                if day > today:
                    errors.add(line, f"{day.isoformat()} is in the future", "responded_on")
                    ok = False
        text = values[i_score].strip()
        score = None
        if not text:
            errors.add(line, "the score is missing", "score")
            ok = False
        elif not INTEGER.match(text):
            errors.add(line, f"'{text}' is not a whole number from 0 to 10", "score")
            ok = False
        else:
            score = int(text)
            if not 0 <= score <= 10:
                errors.add(line, f"{score} is outside the scale 0 to 10", "score")
                ok = False
        response_id = (values[i_id].strip() or None) if i_id is not None else None
        if response_id and len(response_id) > RESPONSE_ID_MAX:
            errors.add(line, f"longer than {RESPONSE_ID_MAX} characters", "response_id")
            ok = False
        comment = values[i_comment].strip() if i_comment is not None else ""
        if ok:
            yield (line, code, day, score, response_id, comment)


def _create_staging(cursor):
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}", [])
    cursor.execute(f"""
        CREATE TEMP TABLE {STAGING} (
            line integer NOT NULL, practice_code varchar(64) NOT NULL,
            responded_on date NOT NULL, score smallint NOT NULL,
            response_id varchar({RESPONSE_ID_MAX}), comment text NOT NULL
        )
    """, [])  # fmt: skip


def _load_staging(cursor, rows):
    """COPY on PostgreSQL, batched inserts on SQLite. Returns the number of rows staged."""
    columns = "line, practice_code, responded_on, score, response_id, comment"
    count = 0
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {STAGING} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    sql = f"INSERT INTO {STAGING} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            cursor.executemany(sql, batch)
            count += len(batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)
        count += len(batch)
    return count


def _check_in_sql(cursor, errors):
    cursor.execute(f"""
        SELECT s.line, s.practice_code FROM {STAGING} s
        LEFT JOIN partners_practice p ON p.code = s.practice_code
        WHERE p.id IS NULL ORDER BY s.line LIMIT {MAX_ERRORS + 1}
    """, [])  # fmt: skip
    unknown = cursor.fetchall()
    if unknown:
        cursor.execute(f"""
            SELECT COUNT(*) FROM {STAGING} s
            LEFT JOIN partners_practice p ON p.code = s.practice_code WHERE p.id IS NULL
        """, [])  # fmt: skip
        total = cursor.fetchone()[0]
        for line, code in unknown[:MAX_ERRORS]:
            errors.add(line, f"unknown practice code '{code}'", "practice")
        errors.count += total - len(unknown[:MAX_ERRORS])
    cursor.execute(f"""
        SELECT line, response_id, first_line FROM (
            SELECT line, response_id, MIN(line) OVER (PARTITION BY response_id) AS first_line
            FROM {STAGING} WHERE response_id IS NOT NULL
        ) x WHERE line > first_line ORDER BY line
    """, [])  # fmt: skip
    for line, response_id, first_line in cursor.fetchall():
        errors.add(line, f"'{response_id}' already appears on line {first_line}", "response_id")


def _skip_already_imported(cursor, source):
    """Drop rows whose response id was imported from this source before; return how many."""
    cursor.execute(f"""
        DELETE FROM {STAGING} WHERE response_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM partners_surveyresponse r
            WHERE r.source = %s AND r.response_id = {STAGING}.response_id)
    """, [source])  # fmt: skip
    return max(cursor.rowcount, 0)


def _describe(cursor, report):
    cursor.execute(f"""
        SELECT COUNT(DISTINCT practice_code), MIN(responded_on), MAX(responded_on),
               SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END),
               SUM(CASE WHEN score IN (7, 8) THEN 1 ELSE 0 END),
               SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)
        FROM {STAGING}
    """, [])  # fmt: skip
    practices, first, last, p, pa, d = cursor.fetchone()
    report.practices = practices or 0
    report.first_day = _as_date(first)
    report.last_day = _as_date(last)
    report.promoters, report.passives, report.detractors = p or 0, pa or 0, d or 0


def _as_date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _refuse_repeated_file(report, has_ids):
    if has_ids:
        return  # repeated ids are skipped row by row instead
    earlier = SurveyImport.objects.filter(checksum=report.checksum).select_related(
        "imported_by"
    ).first()
    if earlier:
        who = f" by {earlier.imported_by}" if earlier.imported_by else ""
        when = timezone.localtime(earlier.imported_at).strftime("%Y-%m-%d %H:%M")
        raise SurveyImportRefused([LineError(0, (
            f"This file was already imported as import #{earlier.pk} ({earlier.file_name}, "
            f"{when}{who}). Undo that import first to import it again."
        ))])  # fmt: skip


def surveys_import(*, stream, file_name, source="", user=None, dry_run=False, progress=None):
    """Import a survey CSV from a binary ``stream``; return a SurveyImportReport.

    Raises SurveyImportRefused (nothing written) when the file has any error. With
    ``dry_run`` everything is checked and described, then rolled back: the preview.
    ``progress``, if given, is called with the number of bytes read so far (about once
    per megabyte).
    """
    source = (source or "").strip()
    if len(source) > SOURCE_MAX:
        raise SurveyImportRefused([LineError(0, f"The source name is longer than {SOURCE_MAX}.")])
    hashing = _HashingReader(stream, progress)
    buffered = io.BufferedReader(hashing, buffer_size=1 << 20)
    errors = _Errors()
    report = SurveyImportReport(file_name=file_name, source=source)
    records = _records(buffered, errors)
    width, index, report.warnings = _header(records, errors)
    today = timezone.localdate()
    with transaction.atomic():
        with connection.cursor() as cursor:
            _create_staging(cursor)
            report.rows = _load_staging(
                cursor, _staged_rows(records, width, index, errors, today)
            )
            report.checksum = hashing.sha256.hexdigest()
            _check_in_sql(cursor, errors)
            if errors.count:
                errors.refuse()
            if report.rows == 0:
                raise SurveyImportRefused([LineError(0, "The file has a header but no rows.")])
            has_ids = "response_id" in index
            _refuse_repeated_file(report, has_ids)
            report.skipped = _skip_already_imported(cursor, source) if has_ids else 0
            _describe(cursor, report)
            report.imported = report.rows - report.skipped
            if dry_run:
                transaction.set_rollback(True)
                return report
            survey_import = SurveyImport.objects.create(
                source=source, file_name=file_name[:255], checksum=report.checksum,
                imported_by=user if user and user.is_authenticated else None,
                rows=report.imported, skipped=report.skipped, has_response_ids=has_ids,
            )  # fmt: skip
            report.survey_import_id = survey_import.pk
            cursor.execute(f"""
                INSERT INTO partners_surveyresponse
                    (practice_id, responded_on, score, source, response_id, survey_import_id, line)
                SELECT p.id, s.responded_on, s.score, %s, s.response_id, %s, s.line
                FROM {STAGING} s JOIN partners_practice p ON p.code = s.practice_code
            """, [source, survey_import.pk])  # fmt: skip
            cursor.execute(f"""
                INSERT INTO partners_surveycomment (response_id, text)
                SELECT r.id, s.comment FROM {STAGING} s
                JOIN partners_surveyresponse r ON r.survey_import_id = %s AND r.line = s.line
                WHERE s.comment <> ''
            """, [survey_import.pk])  # fmt: skip
            cursor.execute(f"DROP TABLE {STAGING}", [])
            rollups_add_import(survey_import_id=survey_import.pk)
    return report


def survey_import_undo(*, survey_import_id):
    """Delete an import's responses (and comments) and the import record; rollups follow.

    Returns the number of responses deleted.
    """
    with transaction.atomic():
        survey_import = SurveyImport.objects.select_for_update().get(pk=survey_import_id)
        rollups_remove_import(survey_import_id=survey_import.pk)
        with connection.cursor() as cursor:
            cursor.execute("""
                DELETE FROM partners_surveycomment WHERE response_id IN (
                    SELECT id FROM partners_surveyresponse WHERE survey_import_id = %s)
            """, [survey_import.pk])  # fmt: skip
            cursor.execute(
                "DELETE FROM partners_surveyresponse WHERE survey_import_id = %s",
                [survey_import.pk],
            )
            deleted = cursor.rowcount
        survey_import.delete()
    return deleted

