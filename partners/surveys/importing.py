"""Import of patient survey files: streamed, checked as a whole, all or nothing, reversible.

The file is read once, as a stream, and never held in memory. Python parses the CSV and checks
every row (format, range, date, practice code: the practices are held in a dict, about 10,000
of them) and writes the rows into a temporary staging table: COPY on PostgreSQL, batched
inserts on SQLite. The checks that need the whole file or the stored responses (a response id
repeated in the file, or already imported from the same source) run in SQL over the staging
table; a large file's repeated ids are left to the unique index, which finds them as it is
built. Only when no line has an error are the rows copied into the response table with one
INSERT ... SELECT and the rollups updated from the rows counted per practice and month, all in
one transaction.

On PostgreSQL a large file (settings.SURVEY_OWN_TABLE_ROWS rows or more) is loaded into a table
of its own instead: filled with one INSERT ... SELECT, then attached to the partitioned
response table, which builds its indexes once and checks its foreign keys with one join each
(partners.migrations 0014). Inserted into the shared table, every row would update four
indexes and queue two foreign-key checks run one by one at the commit: three times slower.
Undoing such an import drops its table.

Every message is written by Python from values Python parsed, so both databases report the
same errors in the same order: by line, then by the column's place in the header.
"""

import csv
import datetime
import hashlib
import itertools
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from auditlog.models import LogEntry
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..audit import audit_event, audit_paused
from ..csvfiles import (
    ImportRefused,
    LineError,
    csv_error_message,
    csv_width_message,
    day_out_of_range,
    is_blank,
    not_a_date_message,
    parse_date,
    shown,
)
from ..models import Practice, SurveyImport, SurveyResponse
from ..rollups import month_sql, rollups_add_months, rollups_remove_import
from ..selectors import practices_with_current_mso
from ..signals import evidence_changed
from .formats import (
    IDENTITY_PREFIX,
    PLAIN,
    Mapping,
    day_as_written,
    day_in_zone,
    not_a_stamp_message,
    parse_stamp,
    score_from_choice,
    value_kind,
    zone_or_error,
)
from .reading import bad_byte_in, survey_layout_read, table_open

MAX_ERRORS = 1000
BATCH = 5000  # rows per INSERT on SQLite
COPY_BATCH = 50_000  # rows per COPY on PostgreSQL; progress is reported between batches
STAGING = "survey_staging"
MONTHS = "survey_staging_months"
RESPONSES = SurveyResponse._meta.db_table
# The advisory lock under which response ids are checked against the stored ones; the same
# number is in the trigger of partners.migrations 0014, which checks the other writers.
RESPONSE_IDS_LOCK = 4_217_001
RESPONSE_ID_MAX = SurveyResponse._meta.get_field("response_id").max_length
SOURCE_MAX = SurveyResponse._meta.get_field("source").max_length
FILE_NAME_MAX = SurveyImport._meta.get_field("file_name").max_length
INTEGER = re.compile(r"[+-]?[0-9]+")
SCORES = {str(n): n for n in range(11)}
DAY_CACHE_MAX = 100_000
SCORE_CACHE_MAX = 1000
MAX_UNMATCHED = 50
PREVIEW_PRACTICES = 50  # practices listed by name in a preview, the most rows first
SAME_KIND_SHOWN = 3  # example lines kept when most rows of a column fail the same way


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
    format: str = "plain"
    layout: dict = field(default_factory=dict)  # what was read from where (Layout.describe)
    unfinished: int = 0  # rows the export marks unfinished: skipped
    tests: int = 0  # previews, test responses and spam the export marks: skipped
    unanswered: int = 0  # rows without an answer to the score question: skipped
    practice_rows: list = field(default_factory=list)  # per practice: who it is, rows, comments

    @property
    def all_imported(self):
        """Every response of the file is stored already: there is nothing to import."""
        return self.rows > 0 and self.imported == 0

    @property
    def nps(self):
        n = self.promoters + self.passives + self.detractors
        return None if n == 0 else 100 * (self.promoters - self.detractors) / n

    def summary(self):
        text = f"{self.imported:,} responses imported"
        if self.skipped and self.layout.get("identity"):
            text += f", {self.skipped:,} skipped (already imported before)"
        elif self.skipped:
            text += f", {self.skipped:,} skipped (response id already imported from {self.source})"
        if self.unfinished:
            text += f", {self.unfinished:,} unfinished responses skipped"
        if self.tests:
            text += f", {self.tests:,} previews, test responses or spam skipped"
        if self.unanswered:
            text += f", {self.unanswered:,} rows without a score skipped"
        return text + "."


class SurveyImportRefused(ImportRefused):
    """The file was refused; ``errors`` holds the first MAX_ERRORS, ``error_count`` all."""

    def __init__(self, errors, error_count=None):
        self.error_count = error_count if error_count is not None else len(errors)
        super().__init__(errors)
        self.args = ("\n".join(self.report_lines()),)  # str(exc) says how many were left out

    def report_lines(self):
        lines = [str(e) for e in self.errors]
        if self.error_count > len(self.errors):
            lines.append(f"... and {self.error_count - len(self.errors)} more errors.")
        return lines


def _refuse(message, line=0, column=""):
    raise SurveyImportRefused([LineError(line, message, column)])


class _Errors:
    """The errors found so far: the first MAX_ERRORS by line and column, and how many in all.

    A problem may carry a kind ("Yes/No answers" in the score column): when most rows of a
    column fail the same way, the refusal says so once and lists only the first lines."""

    def __init__(self, layout):
        self.kept, self.count, self.names = [], 0, layout.names
        self.exported = layout.format is not PLAIN
        self.kinds = {}  # (position, kind) -> rows

    def column(self, position):
        if position is None:
            return ""
        return self.names[position] or str(position + 1)

    def add(self, line, problems):
        """Add one line's problems, each (column position or None, message[, kind])."""
        self.count += len(problems)
        for problem in problems:
            if len(problem) > 2:
                key = (problem[0], problem[2])
                self.kinds[key] = self.kinds.get(key, 0) + 1
        room = MAX_ERRORS - len(self.kept)
        if room > 0:
            problems.sort(key=lambda p: -1 if p[0] is None else p[0])
            for problem in problems[:room]:
                error = LineError(line, problem[1], self.column(problem[0]))
                error.kind = (problem[0], problem[2]) if len(problem) > 2 else None
                self.kept.append(error)

    def merge(self, errors, count):
        """Add errors found in SQL (the first MAX_ERRORS by line) and their total count."""
        self.count += count
        self.kept.extend(errors)
        self.kept.sort(key=self._order)
        del self.kept[MAX_ERRORS:]

    def _order(self, error):
        names, column = self.names, error.column
        if column in names:
            return error.line, names.index(column)
        return error.line, int(column) - 1 if column.isdigit() else -1

    def _same_kind(self, rows):
        """One line per column whose rows mostly fail the same way; its errors but the first
        few are dropped from the list (they still count)."""
        summaries, dropped = [], set()
        if not self.exported:
            return summaries  # a plain file's columns are named, not guessed
        for (position, kind), count in sorted(self.kinds.items(), key=lambda i: -i[1]):
            if count < 5 or count * 2 < rows:
                continue
            summaries.append(LineError(0, (
                f"Column {self.column(position)} holds {kind}, not scores from 0 to 10: "
                f"{count:,} of {rows:,} rows. Choose the column with the 0-to-10 answers; "
                f"the first lines are listed below."
            ) if position is not None and kind != "dates" else (
                f"Column {self.column(position)} does not hold dates: {count:,} of {rows:,} "
                "rows. Choose the date column; the first lines are listed below."
            )))  # fmt: skip
            dropped.add((position, kind))
        if dropped:
            seen = dict.fromkeys(dropped, 0)
            kept = []
            for error in self.kept:
                key = getattr(error, "kind", None)  # errors merged from SQL have none
                if key in seen:
                    seen[key] += 1
                    if seen[key] > SAME_KIND_SHOWN:
                        continue
                kept.append(error)
            self.kept = kept
        return summaries

    def refuse(self, first=(), rows=0):
        """Refuse the file with the errors kept, after ``first`` (a summary, not counted) and
        a line for each column whose ``rows`` mostly fail the same way."""
        self.kept.sort(key=self._order)
        first = [*self._same_kind(rows), *first]
        raise SurveyImportRefused([*first, *self.kept], self.count + len(first) * (
            self.count > len(self.kept)))  # "... and N more" counts the rows left out only


class _Practices:
    """The practices a file's values are matched to: codes for a plain file; codes, then
    names (matched in any case, when one practice only has that name) for an export."""

    def __init__(self, by_names):
        rows = list(Practice.objects.order_by().values_list("code", "name", "pk"))
        self.ids = {code: pk for code, _name, pk in rows}
        self.folded, self.shared = {}, {}
        if by_names:
            named = {}
            for code, name, pk in rows:
                named.setdefault(name.strip().casefold(), []).append((code, pk))
            for key, practices in named.items():
                if len(practices) == 1:
                    self.folded[key] = practices[0][1]
                else:
                    self.shared[key] = sorted(code for code, _pk in practices)
            for code, _name, pk in rows:
                self.folded[code.casefold()] = pk

    def match(self, value):
        """(practice id or None, message when None)."""
        pk = self.folded.get(value.casefold()) if self.folded else None
        if pk is not None:
            if len(self.ids) < DAY_CACHE_MAX * 2:
                self.ids[value] = pk  # the fast path finds it next time
            return pk, ""
        shared = self.shared.get(value.casefold())
        if shared:
            return None, (f"practice name '{shown(value)}' is shared by practices "
                          f"{', '.join(shared[:5])}; use the practice code")  # fmt: skip
        if self.folded:
            return None, f"'{shown(value)}' is not a practice code or name"
        return None, f"unknown practice code '{shown(value)}'"


class _Requote(Exception):
    """A tab-separated file read with Excel's quotes has a record they cannot read: it is read
    again without quote handling."""


_DAY_PREFIX = re.compile(r"[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/"
                         r"(?:[0-9]{4}|[0-9]{2}[ ,T])")  # fmt: skip


class _Rows:
    """Checks the data records and yields the rows to stage.

    A good row is (line, practice id, ISO date, score, response id, comment). A bad row is
    reported and, if it has a usable response id, staged as (line, None, None, None, response
    id, None) so that a repeated id is reported on it too; any error refuses the whole file.
    Exports may hold rows that are not responses to import: unfinished ones, previews, tests
    and spam (as the format's skips say) and ones without an answer to the score question;
    they are skipped and counted. An export's row without a response id gets one from its
    stamp and answers (``identity``), so that a later download of the same survey skips it.
    """

    def __init__(self, reader, layout, source, errors, practices, today, pending=(),
                 practice_id=None, requote=False):  # fmt: skip
        self.reader, self.layout, self.source, self.errors = reader, layout, source, errors
        self.practices, self.today = practices, today.isoformat()
        self.pending, self.practice_id, self.requote = pending, practice_id, requote
        self.needs_requote = False
        self.days = {}  # date as written (or its first 10 characters) -> ISO date
        self.scores = dict(SCORES)  # score as written -> score
        self.good = self.without_id = self.unanswered = self.seen = 0
        self.skipped = {"unfinished": 0, "test": 0}
        self.unmatched = {}  # practice value -> rows
        self.i_comment = layout.index.get("comment")
        fmt = layout.format
        self.exported = fmt is not PLAIN
        # The day as written is in the first 10 characters of any stamp (YYYY-MM-DD or
        # MM/DD/YYYY), so they are the key of the cache; converted stamps are keyed whole.
        self.day_cut = 10 if self.exported and not fmt.utc else None
        if not self.exported:
            self.day_of, self.day_message = parse_date, not_a_date_message
        elif fmt.utc:
            self.day_of, self.day_message = day_in_zone(zone_or_error(layout.zone)), \
                not_a_stamp_message
        else:
            self.day_of, self.day_message = day_as_written, not_a_stamp_message

    @property
    def unfinished(self):
        return self.skipped["unfinished"]

    @property
    def tests(self):
        return self.skipped["test"]

    def _skip(self, values):
        """Whether the export marks the row as no patient's response; counted if so."""
        for position, marked, blank, kind, only in self.layout.skips:
            value = values[position].strip()
            if (not value) if blank else ((value in marked) is not only):
                self.skipped[kind] += 1
                return True
        return False

    def _identity(self, values):
        """A response id for an export's row without one: its stamp (as a date and time, so
        that a CSV and an XLSX download agree) and its answers, hashed."""
        i_day = self.layout.index["responded_on"]
        cells = [v.strip() for v in values]
        try:
            cells[i_day] = parse_stamp(cells[i_day])[0].isoformat()
        except ValueError:
            pass
        digest = hashlib.blake2b("\x1f".join(cells).encode("utf-8", "surrogateescape"),
                                 digest_size=16).hexdigest()  # fmt: skip
        return IDENTITY_PREFIX + digest

    def __iter__(self):
        """The fast path: every lookup hits, nothing to report. Anything else goes to _check."""
        yield from self._pending()
        reader, errors, index = self.reader, self.errors, self.layout.index
        width = len(self.layout.names)
        i_code = index.get("practice")
        fixed = self.practice_id
        i_day, i_score = index["responded_on"], index["score"]
        i_id = index.get("response_id")
        skips = self.layout.skips
        cut = self.day_cut
        practices, days, scores, source = self.practices.ids, self.days, self.scores, self.source
        next_line = reader.line_num + 1
        while True:
            try:
                for values in reader:
                    line, next_line = next_line, reader.line_num + 1
                    if len(values) != width:
                        if not is_blank(values):
                            self.seen += 1
                            errors.add(line, [(None, csv_width_message(values, width))])
                        continue
                    if skips and self._skip(values):
                        continue
                    self.seen += 1
                    practice_id = fixed if i_code is None else practices.get(values[i_code].strip())
                    day = days.get(values[i_day][:cut])
                    score = scores.get(values[i_score])
                    response_id = None
                    if i_id is not None:
                        response_id = values[i_id].strip() or None
                    if (practice_id is None or day is None or score is None or source.bad_bytes
                            or (response_id and len(response_id) > RESPONSE_ID_MAX)):  # fmt: skip
                        row = self._check(line, values, response_id)
                        if row is None:
                            continue
                        practice_id, day, score, response_id = row
                    row = self._row(line, values, practice_id, day, score, response_id)
                    if row is not None:
                        yield row
                return
            except csv.Error as exc:
                if self.requote:
                    # Stop here (the COPY under way ends cleanly); the file is read again.
                    self.needs_requote = True
                    return
                # The reader goes on with the next record: report every line that is wrong.
                errors.add(next_line, [(None, csv_error_message(exc))])
                next_line = reader.line_num + 1

    def _pending(self):
        """The data records read with the header rows: thoroughly checked, one by one."""
        index, width = self.layout.index, len(self.layout.names)
        for line, values in self.pending:
            if len(values) != width:
                self.seen += 1
                self.errors.add(line, [(None, csv_width_message(values, width))])
                continue
            if self.layout.skips and self._skip(values):
                continue
            self.seen += 1
            response_id = None
            if "response_id" in index:
                response_id = values[index["response_id"]].strip() or None
            checked = self._check(line, values, response_id)
            if checked is None:
                continue
            row = self._row(line, values, *checked)
            if row is not None:
                yield row

    def _row(self, line, values, practice_id, day, score, response_id):
        """The row to stage for a checked record: a good row, a bad row that has a response id
        (so that a repeated id is reported on it too), or None. A good row of an export
        without ids gets its identity here."""
        if practice_id is None:
            return (line, None, None, None, response_id, None) if response_id else None
        if self.layout.identity:
            response_id = self._identity(values)
        comment = None
        if self.i_comment is not None:
            comment = values[self.i_comment].strip() or None
            if comment and "\r" in comment:
                comment = comment.replace("\r\n", "\n")
        self.good += 1
        if response_id is None:
            self.without_id += 1
        return line, practice_id, day, score, response_id, comment

    def _check(self, line, values, response_id):
        """Check one row thoroughly. Return None for a row to skip (blank, or an export's row
        without a score); otherwise report its problems and return (practice id, ISO date,
        score, response id): the practice id is None when the row has a problem, the response
        id None when it cannot be used."""
        index = self.layout.index
        problems = []
        bad = set()
        if self.source.bad_bytes:
            for position, value in enumerate(values):
                message = bad_byte_in(value)
                if message:
                    problems.append((position, message))
                    bad.add(position)
        if is_blank(values):
            return None
        if self.exported and not values[index["score"]].strip():
            self.unanswered += 1  # the patient did not answer the score question
            return None

        position = index.get("practice")
        practice_id = self.practice_id
        if position is None or position in bad:
            pass
        else:
            code = values[position].strip()
            practice_id = self.practices.ids.get(code)
            if not code:
                problems.append((position, "the practice code is missing"))
            elif practice_id is None:
                practice_id, message = self.practices.match(code)
                if practice_id is None:
                    problems.append((position, message))
                    if len(self.unmatched) < MAX_UNMATCHED or code in self.unmatched:
                        self.unmatched[code] = self.unmatched.get(code, 0) + 1

        position = index["responded_on"]
        text = values[position].strip()
        day = None
        if position in bad:
            pass
        elif not text:
            problems.append((position, "the date is missing"))
        else:
            try:
                day = self.day_of(text).isoformat()
            except ValueError:
                problems.append((position, self.day_message(text), "dates"))
            else:
                if day > self.today:
                    problems.append((position, f"{day} is in the future"))
                    day = None
                elif out_of_range := day_out_of_range(day):
                    problems.append((position, out_of_range))
                    day = None
                elif len(self.days) < DAY_CACHE_MAX:
                    key = values[position][: self.day_cut]
                    if self.day_cut is None or _DAY_PREFIX.match(key):
                        self.days[key] = day

        position = index["score"]
        text = values[position].strip()
        score = None
        if position in bad:
            pass
        elif not text:
            problems.append((position, "the score is missing"))
        elif INTEGER.fullmatch(text):
            if len(text) > 3 or not 0 <= int(text) <= 10:
                problems.append((position, f"{shown(text)} is outside the scale 0 to 10",
                                 value_kind(text)))  # fmt: skip
            else:
                score = int(text)
        elif not self.exported:
            problems.append((position, f"'{shown(text)}' is not a whole number from 0 to 10",
                             value_kind(text)))  # fmt: skip
        else:
            try:
                score = score_from_choice(text)
            except ValueError as exc:
                problems.append((position, str(exc), value_kind(text)))
            else:
                if len(self.scores) < SCORE_CACHE_MAX:
                    self.scores[values[position]] = score

        position = index.get("response_id")
        if position in bad:
            response_id = None
        elif response_id and len(response_id) > RESPONSE_ID_MAX:
            problems.append((position, f"the response id is {len(response_id)} characters "
                                       f"long; the limit is {RESPONSE_ID_MAX}"))  # fmt: skip
            response_id = None

        if problems:
            self.errors.add(line, problems)
            practice_id = None
        return practice_id, day, score, response_id

    def unmatched_error(self):
        """One error listing the practice values that matched no practice, with their rows."""
        if not self.unmatched or not self.exported:
            return []
        listed = ", ".join(f"'{shown(v)}' ({n:,} row{'s' if n != 1 else ''})"
                           for v, n in sorted(self.unmatched.items(), key=lambda i: -i[1]))
        column = self.layout.column("practice")
        return [LineError(0, (f"Values of column {column} that match no practice code or "
                              f"name: {listed}."))]  # fmt: skip


# --- Staging and SQL -----------------------------------------------------------------------

_STAGED = "line, practice_id, responded_on, score, response_id, comment"


def _create_staging(cursor):
    """The staging table. On PostgreSQL each row draws its response's id from the responses'
    sequence as it is copied in, while Python is still reading the file, so that the INSERT
    does not wait for a million ids; a refused file leaves a gap in the ids, as any insert
    rolled back does."""
    postgresql = connection.vendor == "postgresql"
    temp = "pg_temp" if postgresql else "temp"
    cursor.execute(f"DROP TABLE IF EXISTS {temp}.{STAGING}", [])
    collate = ' COLLATE "C"' if postgresql else ""  # as the responses' (migration 0014)
    ids = ""
    if postgresql:
        cursor.execute("SELECT quote_literal(pg_get_serial_sequence(%s, 'id'))", [RESPONSES])
        ids = f"id bigint NOT NULL DEFAULT nextval({cursor.fetchone()[0]}::regclass),"
    cursor.execute(f"""
        CREATE TEMP TABLE {STAGING} ({ids}
            line integer NOT NULL, practice_id bigint, responded_on date, score smallint,
            response_id varchar({RESPONSE_ID_MAX}){collate}, comment text
        )
    """, [])  # fmt: skip


def _load_staging(cursor, rows, after_batch):
    """COPY on PostgreSQL, batched inserts on SQLite; ``after_batch()`` runs between batches,
    when the connection is free again (a query during a COPY would wait for it for ever)."""
    rows = iter(rows)
    if connection.vendor == "postgresql":
        while True:
            with cursor.cursor.copy(f"COPY {STAGING} ({_STAGED}) FROM STDIN") as copy:
                copied = 0
                for row in itertools.islice(rows, COPY_BATCH):
                    copy.write_row(row)
                    copied += 1
            after_batch()
            if copied < COPY_BATCH:
                break
        # Temporary tables are never analyzed automatically; the planner needs the counts.
        cursor.execute(f"ANALYZE {STAGING}", [])
        return
    sql = f"INSERT INTO {STAGING} ({_STAGED}) VALUES (%s, %s, %s, %s, %s, %s)"
    while batch := list(itertools.islice(rows, BATCH)):
        cursor.executemany(sql, batch)
        after_batch()


def _check_repeated_ids(cursor, errors, column):
    """Report every line whose response id appears on an earlier line of the file."""
    cursor.execute(f"""
        SELECT 1 FROM {STAGING} WHERE response_id IS NOT NULL
        GROUP BY response_id HAVING COUNT(*) > 1 LIMIT 1
    """, [])  # fmt: skip
    if cursor.fetchone() is None:
        return
    cursor.execute(f"""
        SELECT line, response_id, first_line, COUNT(*) OVER () FROM (
            SELECT line, response_id, MIN(line) OVER (PARTITION BY response_id) AS first_line
            FROM {STAGING} WHERE response_id IS NOT NULL
        ) x WHERE line > first_line ORDER BY line LIMIT {MAX_ERRORS}
    """, [])  # fmt: skip
    rows = cursor.fetchall()
    errors.merge([
        LineError(line, f"response id '{shown(response_id)}' already appears on line {first}",
                  column)
        for line, response_id, first, _total in rows
    ], rows[0][3])  # fmt: skip


def _refuse_repeated_file(cursor, checksum):
    """A file with rows without a response id cannot be imported twice: refuse it by checksum."""
    if connection.vendor == "postgresql":
        # Two imports of the same file at once: the second waits and then sees the first.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(checksum[:15], 16)])
    earlier = (SurveyImport.objects.filter(checksum=checksum)
               .select_related("imported_by").order_by("pk").first())  # fmt: skip
    if earlier:
        who = f" by {earlier.imported_by}" if earlier.imported_by else ""
        when = timezone.localtime(earlier.imported_at).strftime("%Y-%m-%d %H:%M")
        _refuse(f"This file was already imported as import #{earlier.pk} ({earlier.file_name}, "
                f"{when}{who}). Undo that import first to import it again.")  # fmt: skip


def _skip_already_imported(cursor, source, *, identity=False):
    """Drop the rows whose response id was imported from this source before; return how many.
    A row's identity (an export's row without an id) is looked up under every source: it is
    the same response whatever the admin called the file's source."""
    if identity:
        sources = sorted({source, *SurveyImport.objects.values_list("source", flat=True)
                          .distinct().order_by()})  # fmt: skip
        matching = "r.source IN (" + ", ".join(["%s"] * len(sources)) + ")"
    else:
        sources, matching = [source], "r.source = %s"
    delete = f"""
        DELETE FROM {STAGING} WHERE response_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM {RESPONSES} r
            WHERE {matching} AND r.response_id = {STAGING}.response_id)
    """
    if connection.vendor != "postgresql":
        cursor.execute(delete, sources)
        return max(cursor.rowcount, 0)
    cursor.execute(f"""
        WITH gone AS ({delete} RETURNING response_id)
        SELECT COUNT(*), COUNT(DISTINCT response_id) FROM gone
    """, sources)  # fmt: skip
    skipped, distinct = cursor.fetchone()
    if skipped > distinct:  # only when the repeated ids were left to the index
        raise _RepeatedIds
    return skipped


def _number_repeated_identities(cursor):
    """Two rows of one file with the same stamp and answers are two responses: the second
    one's identity gets ".2", the third's ".3", in the order of the file."""
    cursor.execute(f"""
        SELECT 1 FROM {STAGING} WHERE response_id IS NOT NULL
        GROUP BY response_id HAVING COUNT(*) > 1 LIMIT 1
    """, [])  # fmt: skip
    if cursor.fetchone() is None:
        return
    cursor.execute(f"""
        UPDATE {STAGING} SET response_id = {STAGING}.response_id || '.' || CAST(d.n AS text)
        FROM (SELECT line, ROW_NUMBER() OVER (PARTITION BY response_id ORDER BY line) AS n
              FROM {STAGING} WHERE response_id IS NOT NULL) d
        WHERE {STAGING}.line = d.line AND d.n > 1
    """, [])  # fmt: skip


def _count_months(cursor):
    """The rows to import counted per practice and month, with the first and last day, in the
    table MONTHS: what the report, the preview, the practices' locks and the rollups read,
    some ten thousand rows where the file may have millions."""
    cursor.execute(f"DROP TABLE IF EXISTS {MONTHS}", [])
    cursor.execute(f"""
        CREATE TEMP TABLE {MONTHS} AS
        SELECT practice_id, {month_sql("responded_on")} AS month,
               MIN(responded_on) AS first_day, MAX(responded_on) AS last_day,
               CAST(SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS integer) AS promoters,
               CAST(SUM(CASE WHEN score IN (7, 8) THEN 1 ELSE 0 END) AS integer) AS passives,
               CAST(SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS integer) AS detractors,
               CAST(COUNT(comment) AS integer) AS comments
        FROM {STAGING} GROUP BY 1, 2
    """, [])  # fmt: skip
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {MONTHS}", [])


def _describe(cursor, report):
    cursor.execute(f"""
        SELECT COUNT(DISTINCT practice_id), MIN(first_day), MAX(last_day),
               SUM(promoters), SUM(passives), SUM(detractors)
        FROM {MONTHS}
    """, [])  # fmt: skip
    practices, first, last, promoters, passives, detractors = cursor.fetchone()
    report.practices = practices or 0
    report.first_day, report.last_day = _as_date(first), _as_date(last)
    report.promoters, report.passives = promoters or 0, passives or 0
    report.detractors = detractors or 0
    # Who the rows are about, so that a file aimed at the wrong practice shows before import.
    cursor.execute(f"""
        SELECT practice_id, SUM(promoters + passives + detractors) AS n, SUM(comments)
        FROM {MONTHS} GROUP BY practice_id ORDER BY n DESC, practice_id LIMIT {PREVIEW_PRACTICES}
    """, [])  # fmt: skip
    counts = cursor.fetchall()
    known = practices_with_current_mso(ids=[pk for pk, _r, _c in counts],
                                       day=timezone.localdate())  # fmt: skip
    report.practice_rows = [{**known[pk], "rows": rows, "comments": comments}
                            for pk, rows, comments in counts if pk in known]  # fmt: skip


def _as_date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def own_table(survey_import_id):
    """The name of the table a large import's responses are kept in (PostgreSQL)."""
    return f"{RESPONSES}_{int(survey_import_id)}"


def _insert(cursor, survey_import, source):
    if connection.vendor == "postgresql":
        if survey_import.rows >= settings.SURVEY_OWN_TABLE_ROWS:
            _insert_own_table(cursor, survey_import, source)
            return
        cursor.execute(f"""
            INSERT INTO {RESPONSES} (id, practice_id, responded_on, score, source, response_id,
                                     survey_import_id, line)
            SELECT id, practice_id, responded_on, score, %s, response_id, %s, line
            FROM {STAGING}
        """, [source, survey_import.pk])  # fmt: skip
        cursor.execute(f"""
            INSERT INTO partners_surveycomment (response_id, text)
            SELECT id, comment FROM {STAGING} WHERE comment IS NOT NULL
        """, [])  # fmt: skip
        return
    cursor.execute(f"""
        INSERT INTO {RESPONSES}
            (practice_id, responded_on, score, source, response_id, survey_import_id, line)
        SELECT practice_id, responded_on, score, %s, response_id, %s, line FROM {STAGING}
    """, [source, survey_import.pk])  # fmt: skip
    # Each comment looks its response up through the (survey_import, line) index. A join
    # lets the planner, which expects few rows for a brand-new import id, scan the staging
    # table once per response.
    cursor.execute(f"""
        INSERT INTO partners_surveycomment (response_id, text)
        SELECT (SELECT r.id FROM {RESPONSES} r
                WHERE r.survey_import_id = %s AND r.line = s.line), s.comment
        FROM {STAGING} s WHERE s.comment IS NOT NULL
    """, [survey_import.pk])  # fmt: skip


def _insert_own_table(cursor, survey_import, source):
    """PostgreSQL: the responses into a new table, attached as the partition ``batch`` = the
    import's id. ATTACH builds the partitioned table's indexes on it, each by one sort, and
    checks its foreign keys with one join each. The CHECK constraints come with LIKE and hold
    row by row; so does one for the partition bound, which spares ATTACH a scan to prove it
    and is dropped once the partition's own bound says the same."""
    batch, table = survey_import.pk, own_table(survey_import.pk)
    cursor.execute(f"CREATE TABLE {table} (LIKE {RESPONSES} INCLUDING DEFAULTS INCLUDING"
                   f" CONSTRAINTS, CONSTRAINT {table}_bound CHECK (batch = {batch}))")  # fmt: skip
    cursor.execute(f"""
        INSERT INTO {table} (id, practice_id, responded_on, score, source, response_id,
                             survey_import_id, line, batch)
        SELECT id, practice_id, responded_on, score, %s, response_id, %s, line, %s
        FROM {STAGING}
    """, [source, batch, batch])  # fmt: skip
    cursor.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")  # the sorts
    cursor.execute(f"ALTER TABLE {RESPONSES} ATTACH PARTITION {table} FOR VALUES IN ({batch})")
    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_bound")
    cursor.execute(f"""
        INSERT INTO partners_surveycomment (response_id, batch, text)
        SELECT id, %s, comment FROM {STAGING} WHERE comment IS NOT NULL
    """, [batch])  # fmt: skip


def _has_own_table(cursor, survey_import_id):
    if connection.vendor != "postgresql":
        return False
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [own_table(survey_import_id)])
    return cursor.fetchone()[0]


@contextmanager
def _response_ids_checked(cursor):
    """PostgreSQL: the response ids of the rows written inside are checked against the stored
    ones by this import (under the lock the trigger takes too), not again by the trigger."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RESPONSE_IDS_LOCK])
    cursor.execute("SELECT set_config('partners.response_ids_checked', 'on', true)")
    yield  # an error or a rollback inside undoes the setting with the savepoint
    if not transaction.get_rollback():
        cursor.execute("SELECT set_config('partners.response_ids_checked', 'off', true)")


# --- The service ---------------------------------------------------------------------------


# The work after the reading, in stages: (message, where the stage starts in percent of that
# work). Measured on PostgreSQL with a million rows: the checks take a tenth of it, writing
# the responses (and, for a large file, building its indexes and checking its foreign keys)
# three quarters, the rollups and the commit the rest.
STAGE_CHECKING = "Checking the file as a whole", 0
STAGE_WRITING = "Writing {:,} responses", 10
STAGE_ROLLUPS = "Updating the NPS rollups", 85
STAGE_SAVING = "Saving: the database checks every response before it commits", 93


def surveys_import(*, stream, file_name, source="", user=None, dry_run=False, progress=None,
                   on_stage=None, mapping=None):  # fmt: skip
    """Import a survey file from a binary ``stream``; return a SurveyImportReport.

    ``mapping`` (a formats.Mapping) names the format, or "auto" to detect it, and the columns
    to read; by default the file is in the plain format. ``stream`` is read once, in chunks,
    with ``read(size)`` only (an XLSX workbook is read twice: its checksum, then its first
    sheet, row by row; a tab-separated file whose quotes cannot be read is read again without
    quote handling). Raises SurveyImportRefused (nothing written) when the file has any
    error. With ``dry_run`` everything is checked and described, then rolled back: the
    preview. A file whose every response is stored already writes nothing either. ``progress``,
    if given, is called with the number of bytes read so far, after each batch of rows staged.
    ``on_stage``, if given, is called with (message, percent) as each stage of the work after
    the reading begins: the import's transaction is open then, so what it writes to the
    database is seen only if it writes through a connection of its own.
    """
    mapping = mapping or Mapping(format="plain")
    source = (source or "").strip()
    if len(source) > SOURCE_MAX:
        _refuse(f"The source name is longer than {SOURCE_MAX} characters.")
    quoted = None
    while True:
        try:
            table = table_open(stream, quoted=quoted)
        except ImportRefused as exc:
            raise SurveyImportRefused(exc.errors) from None
        try:
            return _import_table(table, file_name, source, user, dry_run, progress, on_stage,
                                 mapping)  # fmt: skip
        except _Requote:
            stream.seek(0)
            quoted = False
        finally:
            table.close()


def _import_table(table, file_name, source, user, dry_run, progress, on_stage, mapping):
    try:
        read = survey_layout_read(table, mapping, mapping.time_zone or settings.TIME_ZONE)
    except ImportRefused as exc:
        if table.kind == "TSV" and table.quoted and table.source.stream.seekable():
            raise _Requote from None
        raise SurveyImportRefused(exc.errors) from None
    layout = read.layout
    if layout.format is not PLAIN and not source:
        source = layout.format.label  # response ids are unique per tool
    if layout.format.utc:
        try:
            zone_or_error(layout.zone)
        except ValueError as exc:
            _refuse(f"The time zone: {exc}.")
    report = SurveyImportReport(file_name=file_name, source=source, warnings=layout.warnings,
                                format=layout.format.key, layout=layout.describe())  # fmt: skip
    errors = _Errors(layout)
    for error in read.errors:
        errors.add(error.line, [(None, error.message)])
    raw = table.source
    requote = table.kind == "TSV" and table.quoted and raw.stream.seekable()
    if requote and read.errors:
        raise _Requote
    try:
        with connection.cursor() as cursor:
            practices = _Practices(by_names=layout.format is not PLAIN)
            practice_id = None
            if "practice" not in layout.index:
                practice_id = practices.ids.get(layout.practice_code)
                if practice_id is None:
                    practice_id, _message = practices.match(layout.practice_code)
                if practice_id is None:
                    _refuse(f"There is no practice {shown(layout.practice_code)!r} (a practice "
                            "code or name) to import the whole file for.")  # fmt: skip
            report.layout["practice_id"] = practice_id
            rows = _Rows(table.reader, layout, raw, errors, practices, timezone.localdate(),
                         read.pending, practice_id, requote)  # fmt: skip
            # The staging table is temporary and loaded before the transaction begins, so the
            # progress a job writes meanwhile is seen at once (SQLite has a single writer).
            _create_staging(cursor)
            try:
                _load_staging(cursor, rows, lambda: progress and progress(raw.size))
                if rows.needs_requote:
                    raise _Requote
                report.checksum = raw.sha256.hexdigest()
                report.unfinished, report.tests = rows.unfinished, rows.tests
                report.unanswered = rows.unanswered
                with transaction.atomic():
                    _check_and_insert(cursor, report, rows, errors, source, user, file_name,
                                      dry_run, _stage_reporter(on_stage))  # fmt: skip
            finally:
                cursor.execute(f"DROP TABLE IF EXISTS {STAGING}", [])
                cursor.execute(f"DROP TABLE IF EXISTS {MONTHS}", [])
    except IntegrityError as exc:
        # Practices or responses changed while the file was read (another import, a deletion).
        raise SurveyImportRefused([LineError(0, (
            "The database refused the import because the stored practices or responses "
            "changed while it ran; nothing was imported. Try again."
        ))]) from exc  # fmt: skip
    except UnicodeDecodeError as exc:
        _refuse(f"The file is not valid {table.encoding} text ({exc.reason}); save it as CSV "
                "UTF-8 and try again.")  # fmt: skip
    return report


def _stage_reporter(on_stage):
    def stage(which, *values):
        if on_stage:
            message, percent = which
            on_stage(message.format(*values), percent)

    return stage


def _check_and_insert(cursor, report, rows, errors, source, user, file_name, dry_run, stage):
    """The checks that need the whole file, then the insert: inside the transaction.

    A large file's repeated response ids are left to the unique index of the responses to
    find as it is built (a grouping of a million ids costs as much again); when it finds one,
    the import goes back to before the rows were written and reports them as a small file's."""
    stage(STAGE_CHECKING)
    layout = rows.layout
    has_ids = "response_id" in layout.index
    by_index = (connection.vendor == "postgresql" and has_ids and not dry_run
                and not errors.count and rows.good >= settings.SURVEY_OWN_TABLE_ROWS)  # fmt: skip
    if has_ids and not by_index:
        _check_repeated_ids(cursor, errors, layout.column("response_id"))
    elif layout.identity:
        _number_repeated_identities(cursor)
    if errors.count:
        errors.refuse(rows.unmatched_error(), rows.seen)
    if rows.good == 0:
        if rows.unanswered or rows.unfinished or rows.tests:
            _refuse(f"No row of the file has a score to import: {rows.unanswered:,} rows have "
                    f"no answer in column {layout.column('score')}, {rows.unfinished:,} are "
                    f"unfinished and {rows.tests:,} are previews, tests or spam.")  # fmt: skip
        _refuse("The file has a header but no rows.")
    if rows.without_id:
        _refuse_repeated_file(cursor, report.checksum)
    report.rows = rows.good
    report.skipped = 0
    with _response_ids_checked(cursor):
        if not by_index:
            survey_import = _write(cursor, report, rows, source, user, file_name, dry_run, stage)
        else:
            try:
                with transaction.atomic():  # a savepoint, with the staging table as loaded
                    survey_import = _write(cursor, report, rows, source, user, file_name,
                                           dry_run, stage)  # fmt: skip
            except (IntegrityError, _RepeatedIds):
                _check_repeated_ids(cursor, errors, layout.column("response_id"))
                if errors.count:
                    errors.refuse(rows.unmatched_error(), rows.seen)
                raise  # not a repeated id: the stored practices or responses changed
        if survey_import is None:
            transaction.set_rollback(True)
            return
    _lock_practices(cursor, f"SELECT practice_id FROM {MONTHS}")
    stage(STAGE_ROLLUPS)
    rollups_add_months(months_table=MONTHS,
                       responses_sql=f"SELECT practice_id, responded_on, score FROM {STAGING}")
    evidence_changed.send(sender=SurveyImport, survey_import_id=survey_import.pk)
    stage(STAGE_SAVING)


class _RepeatedIds(Exception):
    """Rows skipped as imported before repeat a response id among themselves."""


def _write(cursor, report, rows, source, user, file_name, dry_run, stage):
    """Skip what was imported before, describe the rest and write it; return the new
    SurveyImport, or None when there is nothing to write (or in a preview)."""
    layout = rows.layout
    has_ids = "response_id" in layout.index
    if has_ids or layout.identity:
        report.skipped = _skip_already_imported(cursor, source, identity=layout.identity)
    report.imported = report.rows - report.skipped
    _count_months(cursor)
    _describe(cursor, report)
    if dry_run or report.imported == 0:
        return None
    survey_import = SurveyImport.objects.create(
        source=source, file_name=file_name[:FILE_NAME_MAX], checksum=report.checksum,
        imported_by=user if user is not None and user.is_authenticated else None,
        rows=report.imported, skipped=report.skipped,
        has_response_ids=has_ids or layout.identity,
    )  # fmt: skip
    report.survey_import_id = survey_import.pk
    stage(STAGE_WRITING, report.imported)
    _insert(cursor, survey_import, source)
    return survey_import


def _lock_practices(cursor, practice_ids, params=()):
    """Hold the import's practices (``practice_ids``, a query) until commit, so that a
    concurrent change of their affiliations (which rebuilds their rollups) waits for this
    import's rows to be counted."""
    if connection.vendor == "postgresql":
        cursor.execute(f"""
            SELECT id FROM partners_practice WHERE id IN ({practice_ids})
            ORDER BY id FOR SHARE
        """, params)  # fmt: skip


def _drop_own_table(cursor, survey_import_id):
    """Undo a large import kept in a table of its own: its comments, then the table; return
    (comments, responses) deleted. DETACH checks with one join that no comment is left."""
    table = own_table(survey_import_id)
    cursor.execute("DELETE FROM partners_surveycomment WHERE batch = %s", [survey_import_id])
    comments = max(cursor.rowcount, 0)
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    (responses,) = cursor.fetchone()
    cursor.execute(f"ALTER TABLE {RESPONSES} DETACH PARTITION {table}")
    cursor.execute(f"DROP TABLE {table}")
    return comments, responses


@dataclass
class UndoneImport:
    survey_import_id: int
    file_name: str
    responses: int
    comments: int

    def summary(self):
        def count(n, noun):
            return f"{n:,} {noun}{'' if n == 1 else 's'}"

        return (f"Undid import #{self.survey_import_id} ({self.file_name}): "
                f"{count(self.responses, 'response')} and {count(self.comments, 'comment')} "
                "deleted")  # fmt: skip


def undo_message(undone):
    return f"{undone.summary()}; the NPS rollups were updated."


def survey_import_undo(*, survey_import_id):
    """Delete an import's responses and comments and its record; the rollups follow.

    Raises SurveyImport.DoesNotExist when there is no such import.
    """
    with transaction.atomic():
        survey_import = SurveyImport.objects.select_for_update().get(pk=survey_import_id)
        with connection.cursor() as cursor:
            _lock_practices(cursor, f"SELECT practice_id FROM {RESPONSES}"
                            " WHERE survey_import_id = %s", [survey_import.pk])  # fmt: skip
        rollups_remove_import(survey_import_id=survey_import.pk)
        with connection.cursor() as cursor:
            if _has_own_table(cursor, survey_import.pk):
                comments, responses = _drop_own_table(cursor, survey_import.pk)
            else:
                cursor.execute(f"""
                    DELETE FROM partners_surveycomment WHERE response_id IN (
                        SELECT id FROM {RESPONSES} WHERE survey_import_id = %s)
                """, [survey_import.pk])  # fmt: skip
                comments = max(cursor.rowcount, 0)
                cursor.execute(
                    f"DELETE FROM {RESPONSES} WHERE survey_import_id = %s", [survey_import.pk]
                )
                responses = max(cursor.rowcount, 0)
        with audit_paused():
            survey_import.delete()
        survey_import.pk = survey_import_id
        # One entry for the undo, with what it deleted.
        audit_event(obj=survey_import, action=LogEntry.Action.DELETE, changes={
            "file_name": (survey_import.file_name, None), "source": (survey_import.source, None),
            "rows": (survey_import.rows, None), "responses_deleted": (None, responses),
            "comments_deleted": (None, comments)})  # fmt: skip
        evidence_changed.send(sender=SurveyImport, survey_import_id=survey_import_id)
    return UndoneImport(survey_import_id, survey_import.file_name, responses, comments)
