"""Opening a survey file and reading its layout: the one way every caller (the command, the
import job, the upload and columns pages) learns what a file holds.

A file is opened once, as a stream: CSV or TSV (any common delimiter; UTF-8 with or without a
byte order mark, or UTF-16 as Excel writes "Unicode text") or XLSX (the first sheet, read row by
row). Records are numbered as a spreadsheet numbers its rows: a value with a line break in it is
still one row, and a record that is not valid CSV is one row too.

A tab-separated file is read with Excel's quotes when its first records quote a cell (a cell
holding a tab, a line break or a quote mark); otherwise, or when its quotes cannot be read, it
is read without quote handling, as Google Sheets writes TSV: a quote mark is part of its cell.

A file is bounded before it can make a process run away: a line (of text; a cell with line
breaks spans several) longer than ``MAX_LINE_CHARS`` or a header of more than ``MAX_COLUMNS``
columns is refused at once with the limit named, and a workbook whose parts would expand past
``XLSX_MAX_EXPANDED`` (or whose shared strings, which are held in memory, past
``XLSX_MAX_SHARED_STRINGS``) is refused before it is opened. The pages read the header and at
most ``SAMPLE_CHARS`` of data after it.
"""

import codecs
import csv
import datetime
import hashlib
import io
import itertools
import re
from dataclasses import dataclass

from ..csvfiles import EMPTY_FILE, ImportRefused, LineError, bad_byte_message, csv_records
from .formats import layout_read

READ_SIZE = 1 << 20
HEAD_SIZE = 1 << 16  # bytes read first to tell the file's kind, encoding and delimiter
DELIMITERS = ",\t;|"
DELIMITER_NAMES = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "vertical bars"}
XLSX_MAGIC = b"PK\x03\x04"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HEAD_RECORDS = 3  # the most header rows a format has
SAMPLE_RECORDS = 200  # data records read with the header, to check the score column's values
MAX_COLUMNS = 2_000  # far more than any survey tool exports (Qualtrics: a few hundred)
MAX_LINE_CHARS = 1_000_000  # a line of text; the csv module's own cell limit is 131,072
SAMPLE_CHARS = 1 << 20  # data read after the header for the layout's sample, at most
# Bytes, all parts of a workbook once unzipped. openpyxl reads a sheet at about 1.6 MB of XML a
# second and its memory grows by about 0.8 MB per MB read (the parser keeps an emptied element
# per row): 256 MB is read in under 3 minutes, within the check's time limit, in about 320 MB,
# within a worker process's. That is an XLSX file of 13 to 50 MB at the usual 5 to 20 times
# compression, and more rows than Excel holds on a sheet of a few columns; larger exports go
# as CSV, read at a million rows in seconds in flat memory. (A bomb unzips ~1,000 times.)
XLSX_MAX_EXPANDED = 256 << 20
XLSX_MAX_SHARED_STRINGS = 256 << 20  # bytes of the shared-strings part, read into memory
BAD_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a byte that is not UTF-8


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


class _LineTooLong(Exception):
    pass


def _bounded_lines(text):
    """The lines of a text stream, refusing one longer than MAX_LINE_CHARS as soon as that
    many characters have been read (``readline`` with a size never reads further)."""
    while line := text.readline(MAX_LINE_CHARS + 1):
        if len(line) > MAX_LINE_CHARS:
            raise _LineTooLong
        yield line


def line_too_long_error(line):
    return LineError(line, f"this line is longer than {MAX_LINE_CHARS:,} characters, the most "
                           "a survey file's line may hold; the file was not read further. Check "
                           "that it is a survey export, saved as CSV or XLSX.")  # fmt: skip


def columns_limit_error(line, count):
    return LineError(line, f"the header has {count:,} columns; a survey file may have at most "
                           f"{MAX_COLUMNS:,}. Remove the columns you do not need (or export "
                           "fewer questions) and upload the file again.")  # fmt: skip


class _Records:
    """A csv reader whose ``line_num`` counts records, as a spreadsheet numbers its rows. A
    record the reader refuses counts as one row too, so the lines after it keep their number.
    A line over MAX_LINE_CHARS refuses the file (ImportRefused) naming its record."""

    def __init__(self, reader):
        self.reader, self.line_num = reader, 0

    def __iter__(self):
        return self

    def __next__(self):
        try:
            values = next(self.reader)
        except csv.Error:
            self.line_num += 1
            raise
        except _LineTooLong:
            raise ImportRefused([line_too_long_error(self.line_num + 1)]) from None
        self.line_num += 1
        return values

    def fit(self, values):
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
        # A stamp stored as a fraction of a day comes back a microsecond short of its second.
        value += datetime.timedelta(microseconds=500_000)
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
        return self.fit([_cell_text(v) for v in row])

    def fit(self, values):
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
    quoted: bool = True  # quote marks read as Excel writes them
    workbook: object = None

    def close(self):
        if self.workbook is not None:
            self.workbook.close()

    @property
    def reading(self):
        """How the file is read, as the preview says it."""
        if self.kind == "XLSX":
            return "Excel workbook (.xlsx), its first sheet"
        text = f"{self.kind} ({self.encoding}, {DELIMITER_NAMES[self.delimiter]})"
        if self.kind == "TSV":
            text += (", quoted cells read as Excel writes them" if self.quoted else
                     ", read without quote handling (a quote mark is part of its cell, as "
                     "Google Sheets writes tab-separated files)")  # fmt: skip
        return text


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


def tsv_quoted(sample):
    """Whether a tab-separated file whose beginning is ``sample`` quotes its cells as Excel
    does: some cell begins with a quote mark and the beginning reads as quoted TSV."""
    if not re.search(r'(?:^|[\t\n])"', sample):
        return False
    try:
        for _values in csv.reader(io.StringIO(sample, newline=""), delimiter="\t", strict=True):
            pass
    except csv.Error as exc:
        return str(exc) == "unexpected end of data"  # a quoted cell runs past the sample
    return True


def table_open(stream, *, quoted=None):
    """Open ``stream`` (binary, read once with ``read(size)``; an XLSX file must also be
    seekable) as a Table. ``quoted`` forces the quote handling of a TSV file."""
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
    sample = head.decode(encoding if encoding == "utf-16" else "utf-8-sig", errors="ignore")
    sample = sample.lstrip("\ufeff")
    delimiter = sniff_delimiter(sample)
    kind = "TSV" if delimiter == "\t" else "CSV"
    if kind == "TSV" and quoted is None:
        quoted = tsv_quoted(sample)
    quoted = True if kind == "CSV" else bool(quoted)
    lines = _bounded_lines(text)
    if quoted:
        reader = csv.reader(lines, strict=True, delimiter=delimiter)
    else:
        reader = csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_NONE)
    label = "UTF-16" if encoding == "utf-16" else "UTF-8"
    return Table(_Records(reader), source, kind, label, delimiter, quoted)


def _xlsx_open(stream, head):
    """The first sheet of a workbook, streamed: openpyxl's read-only mode parses the sheet's
    XML as it is iterated, so memory stays flat however many rows it has."""
    import openpyxl

    source = FileSource(stream, head)
    while source.read(READ_SIZE):  # the checksum of the whole file, as for any file
        pass
    total, source.size = source.size, 0
    stream.seek(0)
    _xlsx_check_expansion(stream)
    stream.seek(0)
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or password-protected workbook
        raise ImportRefused([LineError(0, (
            f"The file looks like an Excel workbook but cannot be read ({exc.__class__.__name__})"
            "; save it again as .xlsx or as CSV UTF-8 and try again."
        ))]) from None  # fmt: skip
    sheet = workbook.worksheets[0]
    return Table(_SheetRows(sheet, source, total), source, "XLSX", "", "", True, workbook)


def _xlsx_check_expansion(stream):
    """Refuse a workbook that would expand past the limits once unzipped (a "zip bomb": a
    small file whose sheet is gigabytes). The sizes are those its directory declares, which
    are also the most that unzipping a part ever yields."""
    import zipfile

    try:
        parts = zipfile.ZipFile(stream).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl says the workbook cannot be read
    expanded = sum(part.file_size for part in parts)
    shared = sum(part.file_size for part in parts if part.filename.endswith("sharedStrings.xml"))
    if expanded > XLSX_MAX_EXPANDED or shared > XLSX_MAX_SHARED_STRINGS:
        raise ImportRefused([LineError(0, (
            f"The workbook would expand to {expanded / (1 << 20):,.0f} MB once opened, "
            f"{shared / (1 << 20):,.0f} MB of it text held in memory; a survey workbook may "
            f"expand to at most {XLSX_MAX_EXPANDED >> 20:,} MB with at most "
            f"{XLSX_MAX_SHARED_STRINGS >> 20:,} MB of text. Save its first sheet as CSV UTF-8 "
            "and upload that instead."
        ))])  # fmt: skip


# --- The layout: the one entry point -----------------------------------------------------------


def bad_byte_in(value):
    """A message about the first byte of a value that cannot be stored as text, or None."""
    match = BAD_BYTE.search(value)
    if match is not None:
        return bad_byte_message(ord(match.group()) - 0xDC00)
    if "\x00" in value:
        return bad_byte_message(0)
    return None


def _header_errors(line, values):
    """Errors for the header fields holding bytes that cannot be stored as text."""
    return [LineError(line, message, str(position))
            for position, name in enumerate(values, start=1)
            if (message := bad_byte_in(name))]  # fmt: skip


@dataclass
class FileLayout:
    """A file's layout and the records read to find it: ``pending`` holds (line, values) of
    the data records read with the header, ``errors`` the LineErrors of records among them
    that are not valid CSV."""

    layout: object
    pending: list
    errors: list


def _width(values):
    """The number of columns of a header row, not counting empty cells at its end."""
    width = len(values)
    while width and not values[width - 1].strip():
        width -= 1
    return width


def _head_records(records):
    """The header rows and a sample of the data records after them: at most SAMPLE_RECORDS
    records, and no more once SAMPLE_CHARS characters are read. A first record wider than
    MAX_COLUMNS is refused before anything more is read."""
    head = list(itertools.islice(records, 1))
    if head and (width := _width(head[0][1])) > MAX_COLUMNS:
        raise ImportRefused([columns_limit_error(head[0][0], width)])
    chars = 0
    for line, values in itertools.islice(records, HEAD_RECORDS - 1 + SAMPLE_RECORDS):
        head.append((line, values))
        chars += sum(map(len, values))
        if chars > SAMPLE_CHARS and len(head) > HEAD_RECORDS:
            break
    return head


def survey_layout_read(table, mapping, default_zone):
    """Read the header rows and the first data records of an opened ``table`` and return its
    FileLayout, as ``mapping`` asks (detected where it leaves a choice open). Raises
    ImportRefused (LayoutError) naming the line and the reason."""
    reader, errors = table.reader, []
    records = _head_records(csv_records(reader, errors))
    if errors and (not records or errors[0].line < records[0][0]):
        raise ImportRefused(errors[:1])  # the header itself is not valid CSV
    if not records:
        raise ImportRefused([LineError(0, EMPTY_FILE)])
    header = _header_errors(*records[0])
    if header:
        raise ImportRefused(header)
    rows = [values for _line, values in records[:HEAD_RECORDS]]

    def sample(position, header_rows):
        return [v[position] for _l, v in records[header_rows:] if position < len(v)]

    layout = layout_read(rows, sample, mapping, default_zone)
    layout.reading = table.reading
    last_header_line = records[min(layout.header_rows, len(records)) - 1][0]
    bad = [e for line, values in records[1:layout.header_rows]
           for e in _header_errors(line, values)]  # fmt: skip
    header_csv = [e for e in errors if e.line <= last_header_line]
    if bad or header_csv:
        raise ImportRefused(header_csv + bad)
    if hasattr(reader, "width"):
        reader.width = len(layout.names)
    pending = [(line, reader.fit(values)) for line, values in records[layout.header_rows:]]
    return FileLayout(layout, pending, errors)


def survey_file_layout(stream, mapping, default_zone):
    """The FileLayout of a file (an open binary stream, closed here), for the pages."""
    with stream:
        table = table_open(stream)
        try:
            return survey_layout_read(table, mapping, default_zone)
        finally:
            table.close()
