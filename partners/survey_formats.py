"""The survey exports practices already have, read as they are: which tool wrote a file, where
its header ends, which of its columns hold the score, the day, the response id and the practice,
how its dates and choice-text scores are read, and which of its columns hold personal data.

A file is opened once, as a stream: CSV or TSV (any common delimiter; UTF-8 with or without a
byte order mark, or UTF-16 as Excel writes "Unicode text") or XLSX (the first sheet, read row by
row). Its records then go through the same checks, staging table and insert as the plain format
(``survey_import``): a format only says which position holds what and how a value is read.

The table ``FORMATS`` holds, per tool:

| tool | header rows | response id | day | score |
|---|---|---|---|---|
| Qualtrics | 3 (ids, texts, ImportId), legacy 2 | ResponseId | RecordedDate | X of X_NPS_GROUP |
| SurveyMonkey | 2 (question, then labels) | Respondent ID | End Date, as written | "recommend" |
| Delighted | 1 | Response ID if present | Response Timestamp, as written | Score |
| Typeform | 1 | # | Submit Date (UTC), converted | "recommend" |
| Formbricks | 1 | Response ID | Timestamp (UTC), converted | "recommend" |
| Google Forms | 1 | none (the file's checksum) | Timestamp, as written | "recommend" |

("recommend": the one question whose text asks how likely the patient is to recommend.)

The day a response counts on is the calendar day written in the export's own time zone: the day
as written, since Qualtrics writes its stamps in the zone named in its ImportId row, a stamp with
an offset is written in that offset, and a stamp without any zone is taken as written. Only the
tools that write UTC (Typeform, Formbricks) are converted, to the zone the admin confirms
(default ``settings.TIME_ZONE``): 2024-03-05 04:30 UTC is 2024-03-04 in America/Chicago.

A score written as choice text (``Extremely likely - 10``, ``0 - Not at all likely``) is the one
whole number in the label.
"""

import codecs
import csv
import datetime
import hashlib
import io
import json
import re
import zoneinfo
from dataclasses import dataclass, field

from .csvfiles import ImportRefused, LineError, is_blank, shown

READ_SIZE = 1 << 20
HEAD_SIZE = 1 << 16  # bytes read first to tell the file's kind, encoding and delimiter
DELIMITERS = ",\t;|"
XLSX_MAGIC = b"PK\x03\x04"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

ROLES = ("practice", "responded_on", "score", "response_id", "comment")


# --- Reading the records of a file -------------------------------------------------------------


class FileSource(io.RawIOBase):
    """Passes a binary stream through once, computing its SHA-256, counting the bytes read and
    noticing bytes that cannot be stored as text (not valid in the file's encoding, or NUL).
    Only ``read(size)`` is asked of the stream; ``head`` holds bytes already read from it. Once
    ``bad_bytes`` is set, every row is searched for them."""

    def __init__(self, stream, head=b"", encoding="utf-8"):
        self.stream, self.head = stream, head
        self.sha256, self.size, self.bad_bytes = hashlib.sha256(), 0, False
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)()

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.head:
            data, self.head = self.head[: len(buffer)], self.head[len(buffer) :]
        else:
            data = self.stream.read(len(buffer)) or b""
        if data:
            self.sha256.update(data)
            self.size += len(data)
        if not self.bad_bytes:
            try:
                text = self._decoder.decode(data, final=not data)
            except UnicodeDecodeError:
                self.bad_bytes = True
            else:
                self.bad_bytes = (b"\x00" in data) if self.encoding == "utf-8" else "\x00" in text
        buffer[: len(data)] = data
        return len(data)


class _Counted:
    """A csv reader whose ``line_num`` counts records, as a spreadsheet numbers its rows (a
    value with a line break in it is still one row)."""

    def __init__(self, reader):
        self.reader, self.line_num = reader, 0

    def __iter__(self):
        return self

    def __next__(self):
        values = next(self.reader)
        self.line_num += 1
        return values


def _cell_text(value):
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


class _SheetRows:
    """The rows of a worksheet opened read-only, as lists of text, numbered from 1. Once the
    header is known (``width``), every row is cut or padded to it: a spreadsheet has no
    ragged rows, only empty cells."""

    def __init__(self, sheet, source, total):
        self.rows = sheet.iter_rows(values_only=True)
        self.source, self.total = source, total
        self.max_row = sheet.max_row or 0
        self.line_num, self.width = 0, None

    def __iter__(self):
        return self

    def __next__(self):
        row = next(self.rows)
        self.line_num += 1
        if self.max_row and not self.line_num % 1000:
            # Progress: the share of the sheet's rows read, as a share of the file's bytes.
            self.source.size = self.total * min(self.line_num, self.max_row) // self.max_row
        values = [_cell_text(v) for v in row]
        width = self.width
        if width is not None and len(values) != width:
            if len(values) > width and not any(v.strip() for v in values[width:]):
                del values[width:]
            elif len(values) < width:
                values.extend([""] * (width - len(values)))
        return values


@dataclass
class Table:
    """The records of an opened file: ``reader`` yields lists of text and has ``line_num``."""

    reader: object
    source: FileSource
    kind: str  # "CSV", "TSV", "XLSX"
    encoding: str = ""
    delimiter: str = ","
    counts_records: bool = False

    def close(self):
        if getattr(self, "workbook", None) is not None:
            self.workbook.close()


def sniff_delimiter(text):
    """The delimiter of a header line: the one of ``DELIMITERS`` found most often outside
    double quotes in the first line; a comma when none is."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            if char in "\r\n":
                break
            if char in counts:
                counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def table_open(stream, *, count_records=True):
    """Open ``stream`` (binary, read once with ``read(size)``; an XLSX file must also be
    seekable) as a Table. ``count_records`` numbers CSV lines by record, as a spreadsheet does;
    otherwise by physical line, where each record starts."""
    head = stream.read(HEAD_SIZE) or b""
    if head.startswith(XLSX_MAGIC):
        return _xlsx_open(stream, head)
    encoding = "utf-16" if head.startswith(UTF16_BOMS) else "utf-8"
    source = FileSource(stream, head, encoding)
    text = io.TextIOWrapper(
        io.BufferedReader(source, READ_SIZE),
        encoding="utf-16" if encoding == "utf-16" else "utf-8-sig",
        errors="surrogateescape", newline="",
    )  # fmt: skip
    try:
        sample = head.decode(encoding if encoding == "utf-16" else "utf-8-sig", errors="ignore")
    except UnicodeDecodeError:
        sample = ""
    delimiter = sniff_delimiter(sample.lstrip("\ufeff"))
    reader = csv.reader(text, strict=True, delimiter=delimiter)
    kind = "TSV" if delimiter == "\t" else "CSV"
    if count_records:
        reader = _Counted(reader)
    label = "UTF-16" if encoding == "utf-16" else "UTF-8"
    return Table(reader, source, kind, label, delimiter, count_records)


def _xlsx_open(stream, head):
    """The first sheet of a workbook, streamed: openpyxl's read-only mode parses the sheet's
    XML as it is iterated, so memory stays flat however many rows it has."""
    import openpyxl

    source = FileSource(stream, head)
    while source.read(READ_SIZE):  # the checksum guards re-imports of files without ids
        pass
    total, source.size = source.size, 0
    stream.seek(0)
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or password-protected workbook
        raise ImportRefused([LineError(0, (
            f"The file looks like an Excel workbook but cannot be read ({exc.__class__.__name__})"
            "; save it again as .xlsx or as CSV UTF-8 and try again."
        ))]) from None  # fmt: skip
    sheet = workbook.worksheets[0]
    table = Table(_SheetRows(sheet, source, total), source, "XLSX", "", "", True)
    table.workbook = workbook
    return table


# --- Dates and scores --------------------------------------------------------------------------

_ISO_STAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?)?"
    r" ?(Z|UTC|GMT|[+-][0-9]{2}:?[0-9]{2})?"
)
_US_STAMP = re.compile(
    r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"
    r"(?: +([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?: ?([AaPp][Mm]))?)?"
    r"(?: +(?:GMT|UTC)([+-][0-9]{1,2}(?::?[0-9]{2})?)?)?"
)
STAMP_HELP = "use YYYY-MM-DD HH:MM:SS or M/D/YYYY H:MM:SS, optionally with AM/PM or a zone"


def _offset(zone):
    """``+3``, ``+03``, ``-0530``, ``+05:30`` as a timedelta."""
    sign = -1 if zone[0] == "-" else 1
    hours, _, minutes = zone[1:].partition(":")
    if not minutes and len(hours) > 2:
        hours, minutes = hours[:-2], hours[-2:]
    return sign * datetime.timedelta(hours=int(hours), minutes=int(minutes or 0))


def parse_stamp(text):
    """(date and time as written, offset from UTC or None) of a survey tool's timestamp;
    raise ValueError when it is not one (STAMP_HELP).

    ``2024-03-05 23:30:00``, ``2024-03-05T23:30:00.000Z``, ``2024-03-05 23:30:00 -0700``,
    ``03/05/2024 11:30:00 PM``, ``3/5/2024 23:30:00 GMT+3``, and a plain date.
    """
    text = text.strip()
    offset = None
    match = _ISO_STAMP.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second, zone = match.groups()
        ampm = None
        if zone in ("Z", "UTC", "GMT"):
            offset = datetime.timedelta(0)
        elif zone:
            offset = _offset(zone)
    else:
        match = _US_STAMP.fullmatch(text)
        if match is None:
            raise ValueError(text)
        month, day, year, hour, minute, second, ampm, zone = match.groups()
        if zone:
            offset = _offset(zone)
        elif text.endswith(("GMT", "UTC")):
            offset = datetime.timedelta(0)
    hour, minute, second = int(hour or 0), int(minute or 0), int(second or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    stamp = datetime.datetime(int(year), int(month), int(day), hour, minute, second)
    return stamp, offset


def day_as_written(text):
    """The calendar day a stamp names, in its own zone: the day as written."""
    return parse_stamp(text)[0].date()


def day_in_zone(zone):
    """A function giving the day of a UTC stamp (or one with its own offset) in ``zone``."""

    def day(text):
        stamp, offset = parse_stamp(text)
        utc = stamp.replace(tzinfo=datetime.timezone(offset or datetime.timedelta(0)))
        return utc.astimezone(zone).date()

    return day


def not_a_stamp_message(text):
    return f"'{shown(text)}' is not a date and time ({STAMP_HELP})"


_NUMBER = re.compile(r"(?<![0-9.,])[0-9]+(?![0-9]|[.,][0-9])")


def score_from_choice(text):
    """The score in a choice label: its one whole number, 0 to 10; raise ValueError with the
    message otherwise. ``Extremely likely - 10`` is 10, ``0 - Not at all likely`` is 0."""
    numbers = _NUMBER.findall(text)
    if len(numbers) != 1:
        if not numbers:
            raise ValueError(f"'{shown(text)}' has no score from 0 to 10 in it")
        raise ValueError(f"'{shown(text)}' holds more than one number; which is the score?")
    score = int(numbers[0])
    if not 0 <= score <= 10:
        raise ValueError(f"{score} in '{shown(text)}' is outside the scale 0 to 10")
    return score


# --- The formats -------------------------------------------------------------------------------

# Column names that hold personal data in any export: names, e-mails, phones, addresses,
# IP addresses, locations. A column that names the practice is never one of them.
_PERSONAL = re.compile(
    r"e-?mail|(^|[^a-z])name($|[^a-z])|firstname|lastname|phone|mobile|ip ?address|"
    r"^ip$|latitude|longitude|location|address|postal|zip|^city$|^country$|^state$|"
    r"user ?agent|network id|user id|person id|birth|^dob$",
    re.IGNORECASE,
)
_PRACTICE = re.compile(r"^(practice|clinic|office)( ?(code|id|name))?$|^practice_?code$",
                       re.IGNORECASE)  # fmt: skip
_RECOMMEND = re.compile(r"recommend", re.IGNORECASE)


@dataclass(frozen=True)
class SurveyFormat:
    key: str
    label: str
    needs: str  # the columns that identify it, as messages say them
    id_columns: tuple = ()
    date_columns: tuple = ()
    score_columns: tuple = ()
    comment_columns: tuple = ()
    finished_column: str = ""
    unfinished: frozenset = frozenset()
    personal: tuple = ()  # columns named so are personal data, whatever the pattern says
    utc: bool = False  # stamps are UTC only: converted to the zone the admin confirms
    choice_text: bool = True


PLAIN = SurveyFormat(
    "plain", "Plain CSV", "practice, responded_on and score",
    id_columns=("response_id",), date_columns=("responded_on",), score_columns=("score",),
    comment_columns=("comment",), choice_text=False,
)  # fmt: skip
QUALTRICS = SurveyFormat(
    "qualtrics", "Qualtrics", "ResponseId and RecordedDate (or EndDate)",
    id_columns=("ResponseId", "ResponseID"), date_columns=("RecordedDate", "EndDate"),
    finished_column="Finished", unfinished=frozenset({"0", "False", "false", "FALSE"}),
    personal=("IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
              "ExternalReference", "ExternalDataReference", "LocationLatitude",
              "LocationLongitude", "Name", "EmailAddress"),
)  # fmt: skip
SURVEYMONKEY = SurveyFormat(
    "surveymonkey", "SurveyMonkey", "Respondent ID and Start Date, End Date (or Collector ID)",
    id_columns=("Respondent ID",), date_columns=("End Date", "Start Date"),
    personal=("IP Address", "Email Address", "First Name", "Last Name"),
)  # fmt: skip
DELIGHTED = SurveyFormat(
    "delighted", "Delighted", "Score and Response Timestamp",
    id_columns=("Response ID",), date_columns=("Response Timestamp",), score_columns=("Score",),
    comment_columns=("Comment",), personal=("Name", "Email", "Person ID"),
)  # fmt: skip
TYPEFORM = SurveyFormat(
    "typeform", "Typeform", "# and Submit Date (UTC)",
    id_columns=("#",), date_columns=("Submit Date (UTC)",), personal=("Network ID",), utc=True,
)  # fmt: skip
FORMBRICKS = SurveyFormat(
    "formbricks", "Formbricks", "Response ID, Timestamp and Finished",
    id_columns=("Response ID",), date_columns=("Timestamp",), finished_column="Finished",
    unfinished=frozenset({"No", "no", "NO", "False", "false"}),
    personal=("User ID", "Verified Email", "url", "country", "Formbricks ID (internal)"),
    utc=True,
)  # fmt: skip
GOOGLEFORMS = SurveyFormat(
    "googleforms", "Google Forms", "Timestamp as the first column",
    date_columns=("Timestamp",), personal=("Email Address", "Email"),
)  # fmt: skip

FORMATS = {f.key: f for f in (QUALTRICS, SURVEYMONKEY, DELIGHTED, TYPEFORM, FORMBRICKS,
                               GOOGLEFORMS, PLAIN)}  # fmt: skip
FORMAT_CHOICES = [(f.key, f.label) for f in FORMATS.values()]
# Known Delighted columns; every other one is a person property (personal data).
_DELIGHTED_COLUMNS = {"Response ID", "Person ID", "Name", "Email", "Score", "Comment",
                      "Response Timestamp", "Notes", "Tags", "Last Updated Timestamp", "Trend",
                      "Permalink", "Additional answers"}  # fmt: skip


def detect_formats(first):
    """The formats whose identifying columns the first header row has."""
    names = [v.strip() for v in first]
    has = set(names).__contains__
    lower = {n.lower() for n in names}
    found = []
    if (has("ResponseId") and (has("RecordedDate") or has("EndDate"))) or (
        has("ResponseID") and (has("ResponseSet") or has("EndDate"))
    ):
        found.append(QUALTRICS)
    if has("Respondent ID") and (has("Collector ID") or (has("Start Date") and has("End Date"))):
        found.append(SURVEYMONKEY)
    if has("Score") and has("Response Timestamp"):
        found.append(DELIGHTED)
    if names and names[0] == "#" and any(n.startswith("Submit Date") for n in names):
        found.append(TYPEFORM)
    if has("Response ID") and has("Timestamp") and has("Finished"):
        found.append(FORMBRICKS)
    elif names and names[0] == "Timestamp":
        found.append(GOOGLEFORMS)
    if {"practice", "responded_on", "score"} <= lower:
        found.append(PLAIN)
    return found


def unknown_layout_message(names):
    listed = ", ".join(shown(n, 30) for n in names[:8] if n) or "nothing"
    needs = "; ".join(f"{f.label}: {f.needs}" for f in FORMATS.values())
    return (f"The columns of this file ({listed}{', ...' if len(names) > 8 else ''}) are not "
            f"those of a known survey export. The first row must name the columns of one of "
            f"these: {needs}. Choose the format and its columns yourself otherwise.")  # fmt: skip


def detect_format(first):
    """The format of a file from its first header row; raise ImportRefused naming the columns
    needed when no format, or more than one, matches."""
    found = detect_formats(first)
    if len(found) == 1:
        return found[0]
    names = [v.strip() for v in first]
    if not found:
        raise ImportRefused([LineError(1, unknown_layout_message(names))])
    labels = " and ".join(f"{f.label} ({f.needs})" for f in found)
    raise ImportRefused([LineError(1, (
        f"The columns fit more than one survey export: {labels}. Choose the format."
    ))])  # fmt: skip


@dataclass
class Mapping:
    """What the admin chose (or confirmed): the format and, by name, the columns to read.

    Empty means "as detected". ``practice`` is one practice code for the whole file, used
    when no practice column is named."""

    format: str = "auto"
    score_column: str = ""
    date_column: str = ""
    id_column: str = ""
    practice_column: str = ""
    practice: str = ""
    time_zone: str = ""  # the zone UTC stamps are converted to; default settings.TIME_ZONE

    def as_dict(self):
        return {k: v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data):
        known = cls.__dataclass_fields__
        return cls(**{k: str(v or "") for k, v in (data or {}).items() if k in known})


@dataclass
class Layout:
    """A file's layout as read: its format, header rows, column names and roles."""

    format: SurveyFormat
    header_rows: int
    names: list  # the columns' names as shown to the admin (the first header row's)
    index: dict  # role -> position: practice, responded_on, score, response_id, comment
    finished: int | None = None  # position of the Finished column
    practice_code: str = ""  # one practice for the whole file
    file_zone: str = ""  # the zone the export says its stamps are in (Qualtrics)
    zone: str = ""  # the zone UTC stamps are converted to
    dropped: list = field(default_factory=list)  # personal-data columns, never read
    warnings: list = field(default_factory=list)
    candidates: dict = field(default_factory=dict)  # role -> columns that could hold it

    def column(self, role):
        position = self.index.get(role)
        return "" if position is None else self.names[position]

    @property
    def day_rule(self):
        if self.format.key == "plain":
            return "the date as written"
        if self.format.utc:
            return f"the UTC time converted to {self.zone}"
        if self.file_zone:
            return f"the day as written, in the export's time zone ({self.file_zone})"
        return "the day as written in the file"

    def describe(self):
        """What the preview shows about the layout, as JSON."""
        return {
            "format": self.format.key, "format_label": self.format.label,
            "header_rows": self.header_rows,
            "score_column": self.column("score"), "date_column": self.column("responded_on"),
            "id_column": self.column("response_id"),
            "practice_column": self.column("practice"), "practice": self.practice_code,
            "comment_column": self.column("comment"), "day_rule": self.day_rule,
            "file_zone": self.file_zone, "zone": self.zone if self.format.utc else "",
            "dropped": self.dropped,
        }  # fmt: skip


class LayoutError(ImportRefused):
    """The layout cannot be read as asked: a named column is missing, or none fits a role."""


def _find(names, wanted):
    for name in wanted:
        if name in names:
            return names.index(name)
    lowered = [n.lower() for n in names]
    for name in wanted:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def _qualtrics_zone(rows, position):
    """The ``timeZone`` of a Qualtrics ImportId cell, e.g. {"ImportId":"recordedDate",
    "timeZone":"America/Denver"}; "" if none."""
    if len(rows) < 3 or position is None or position >= len(rows[2]):
        return ""
    try:
        data = json.loads(rows[2][position])
    except (ValueError, TypeError):
        return ""
    return str(data.get("timeZone", "")) if isinstance(data, dict) else ""


def read_layout(rows, mapping, default_zone):
    """The layout of a file whose first records are ``rows`` (up to three), as ``mapping``
    asks: detected where it leaves a choice open. Raise LayoutError naming what is missing."""
    first = [v.strip() for v in rows[0]] if rows else []
    fmt = FORMATS.get(mapping.format) or detect_format(first)
    header_rows = 1
    names = list(first)
    if fmt is QUALTRICS:
        third = rows[2][0].strip() if len(rows) > 2 and rows[2] else ""
        header_rows = 3 if third.startswith('{"ImportId"') or third.startswith("{'ImportId'") else 2
    elif fmt is SURVEYMONKEY:
        header_rows = 2
        second = [v.strip() for v in rows[1]] if len(rows) > 1 else []
        question = ""
        for position, name in enumerate(first):
            label = second[position] if position < len(second) else ""
            if name:
                question = name
            elif question and label:
                names[position] = f"{question} / {label}"
    texts = names
    if fmt is QUALTRICS and len(rows) > 1:
        texts = [f"{n} {rows[1][i] if i < len(rows[1]) else ''}" for i, n in enumerate(names)]

    index, candidates, problems = {}, {}, []

    def pick(role, chosen, defaults, required, what):
        if chosen:
            position = names.index(chosen) if chosen in names else _find(names, [chosen])
            if position is None:
                problems.append(f"there is no column {chosen!r} for the {what}")
            else:
                index[role] = position
            return
        position = _find(names, defaults) if defaults else None
        if position is not None:
            index[role] = position
        elif required:
            problems.append(f"no column for the {what} was found; name it")

    pick("responded_on", mapping.date_column, fmt.date_columns, True, "date")
    pick("response_id", mapping.id_column, fmt.id_columns, False, "response id")
    # The score: the column chosen, the format's own, or the one question about recommending.
    score_defaults = list(fmt.score_columns)
    if fmt is QUALTRICS:
        score_defaults = [n[: -len("_NPS_GROUP")] for n in names if n.endswith("_NPS_GROUP")]
    if not mapping.score_column and not _find(names, score_defaults) and fmt is not PLAIN:
        score_defaults = [names[i] for i, t in enumerate(texts)
                          if _RECOMMEND.search(t) and not names[i].endswith("_NPS_GROUP")]
        candidates["score"] = score_defaults
        if len(score_defaults) > 1:
            problems.append("more than one question asks about recommending ("
                            + ", ".join(shown(n) for n in score_defaults)
                            + "); name the score column")  # fmt: skip
            score_defaults = None
    pick("score", mapping.score_column, score_defaults or (), score_defaults is not None,
         "score (0 to 10)")  # fmt: skip
    if fmt.comment_columns:
        pick("comment", "", fmt.comment_columns, False, "comment")
    practice_code = mapping.practice.strip()
    if mapping.practice_column:
        pick("practice", mapping.practice_column, (), True, "practice")
    elif not practice_code:
        if fmt is PLAIN:
            pick("practice", "", ("practice",), True, "practice")
        else:
            found = [i for i, n in enumerate(names) if _PRACTICE.match(n.strip())]
            candidates["practice"] = [names[i] for i in found]
            if found:
                index["practice"] = found[0]
            else:
                problems.append("no practice column was found: name the column that holds the "
                                "practice code or name, or choose one practice for the whole "
                                "file")  # fmt: skip
    if problems:
        raise LayoutError([LineError(0, f"{fmt.label} export: {p}.") for p in problems])

    used = set(index.values())
    finished = _find(names, [fmt.finished_column]) if fmt.finished_column else None
    file_zone = ""
    if fmt is QUALTRICS:
        file_zone = _qualtrics_zone(rows, index["responded_on"])
    zone = mapping.time_zone or default_zone
    dropped = []
    for position, name in enumerate(names):
        if position in used or _PRACTICE.match(name.strip()):
            continue
        personal = name in fmt.personal or bool(_PERSONAL.search(name))
        if fmt is DELIGHTED and name and name not in _DELIGHTED_COLUMNS:
            personal = True  # a person property
        if personal:
            dropped.append(name)
    warnings = []
    if fmt is PLAIN:
        warnings = [f"column {n} is not used and was ignored" if n
                    else f"column {p} has no name and was ignored"
                    for p, n in enumerate(names, start=1) if p - 1 not in used]  # fmt: skip
    return Layout(fmt, header_rows, names, index, finished, practice_code, file_zone, zone,
                  dropped, warnings, candidates)  # fmt: skip


def head_records(table, count=3):
    """The first ``count`` non-blank records of a table (the header rows and a little more)."""
    records = []
    for values in table.reader:
        if not is_blank(values):
            records.append(values)
        if len(records) == count:
            break
    return records


def zone_or_error(name):
    """The ZoneInfo ``name``; raise ValueError with a message when there is none."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (a name like America/Chicago)") from None


def file_layout(path_or_stream, mapping, default_zone):
    """The layout of a file on disk (or an open binary stream), for the mapping page."""
    stream = open(path_or_stream, "rb") if isinstance(path_or_stream, str) else path_or_stream  # noqa: SIM115
    with stream:
        table = table_open(stream)
        try:
            rows = head_records(table)
        except csv.Error as exc:
            raise ImportRefused([LineError(1, f"this is not valid CSV ({exc})")]) from None
        finally:
            table.close()
    if not rows:
        raise ImportRefused([LineError(0, "The file is empty.")])
    return table, rows, read_layout(rows, mapping, default_zone)
