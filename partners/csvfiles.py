"""Reading the CSV files data admins upload: decoding, dialect, records, header, widths, dates.

Every import (practices, survey responses, self-reported NPS) reads its file through these
helpers, so that the same mistake in any file gets the same message. The practice and
aggregate imports read a whole file at once (``read_csv_file``). The survey import streams its
file and keeps its own fast loop over the records, but takes everything else from here: the
dialect, the header, the messages and the date rule.
"""

import csv
import datetime
import io
import itertools
import re
from dataclasses import dataclass

# --- Dates as data admins write them -------------------------------------------------

# The days evidence can be dated: a day outside them is a typing or conversion slip (0001 for
# 2001, a spreadsheet's day zero of 1900), not an event. MSOs, and the accreditations and
# surveys of their practices, all postdate 1950; the end leaves room for long contract terms.
# The forms (validators of partners.models) and the imports (day_out_of_range) refuse the rest.
EARLIEST_DAY = datetime.date(1950, 1, 1)
LATEST_DAY = datetime.date(2100, 12, 31)


def _spelled(day):
    return f"{day.day} {day:%B %Y}"


DAY_RANGE_TEXT = f"{_spelled(EARLIEST_DAY)} to {_spelled(LATEST_DAY)}"

DATE_FORMATS_HELP = "use YYYY-MM-DD or M/D/YYYY"
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def parse_date(text):
    """The day ``text`` names; raise ValueError when it is not a date (DATE_FORMATS_HELP).

    The one rule of every import:

    - ``YYYY-MM-DD``: a 4-digit year, a 2-digit month and a 2-digit day: ``2024-01-05``, not
      ``2024-1-5``;
    - ``M/D/YYYY``: a month and a day of 1 or 2 digits, then a 4-digit year: ``1/5/2024`` and
      ``01/05/2024``, not ``1/5/24``;
    - digits are 0 to 9 only; whitespace around the date is ignored, inside it is not;
    - the day must exist: ``2024-02-30``, ``2023-02-29``, ``13/1/2024`` and year 0 are refused.
    """
    text = text.strip()
    match = _ISO_DATE.fullmatch(text)
    if match is not None:
        year, month, day = match.groups()
    else:
        match = _US_DATE.fullmatch(text)
        if match is None:
            raise ValueError(f"not a date: {text!r}")
        month, day, year = match.groups()
    return datetime.date(int(year), int(month), int(day))


def shown(value, limit=40):
    """A value quoted in a message, shortened so that a runaway field cannot flood the report."""
    return value if len(value) <= limit else value[: limit - 3] + "..."


def not_a_date_message(text):
    """The message for a value that ``parse_date`` refuses."""
    return f"'{shown(text)}' is not a date ({DATE_FORMATS_HELP})"


def day_out_of_range(day):
    """The message for a day outside the days evidence can be dated (``EARLIEST_DAY`` to
    ``LATEST_DAY``, the forms' range: a year 0024 or a spreadsheet's day zero, 1900-01-01, is
    a slip), or None. ``day`` is a date or an ISO date."""
    text = day if isinstance(day, str) else day.isoformat()
    if EARLIEST_DAY.isoformat() <= text <= LATEST_DAY.isoformat():
        return None
    return f"{text} is outside the days evidence can be dated, {DAY_RANGE_TEXT}"


# --- Errors ----------------------------------------------------------------------------


@dataclass
class LineError:
    line: int
    message: str
    column: str = ""

    def __str__(self):
        if not self.line:
            return self.message
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.message}"


class ImportRefused(Exception):
    """The file was refused as a whole; nothing was written."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


EMPTY_FILE = "The file is empty."
NO_ROWS = "The file has a header but no rows."


# --- Decoding --------------------------------------------------------------------------

UTF16_MESSAGE = "the file is UTF-16 text; save it as CSV UTF-8 and try again"


def bad_byte_message(byte):
    """The message for a byte (an int) that cannot be stored as text: not UTF-8, or NUL."""
    if byte == 0:
        return "byte 0x00 (NUL) cannot be stored as text; save the file as CSV UTF-8 and try again"
    return f"byte 0x{byte:02x} is not UTF-8 text; save the file as CSV UTF-8 and try again"


def decode_csv_bytes(data):
    """Decode a whole file: UTF-8, with or without BOM. A UTF-16 file is refused, and so is a
    byte that is not UTF-8 or is NUL, with its line (the first such byte)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused([LineError(1, UTF16_MESSAGE)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportRefused([LineError(line, bad_byte_message(data[exc.start]))]) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise ImportRefused([LineError(text.count("\n", 0, nul) + 1, bad_byte_message(0))])
    return text


# --- Records ---------------------------------------------------------------------------


def csv_reader(lines):
    """A reader of ``lines`` (text opened with ``newline=""``) in the one dialect of every
    import: Excel's (commas, double quotes, a quote doubled inside quotes), strict: a quote
    must be closed, and followed by a comma or the end of the line."""
    return csv.reader(lines, strict=True)


def is_blank(values):
    return not any(v.strip() for v in values)


def csv_error_message(exc):
    """The message for the ``csv.Error`` a reader raised on a record."""
    if str(exc) == "unexpected end of data":
        return "a double quote on this line is not closed before the end of the file"
    if str(exc).startswith("field larger than field limit"):
        return (f"a value is longer than {csv.field_size_limit()} characters "
                "(is a double quote on this line not closed?)")  # fmt: skip
    return f"this is not valid CSV ({exc})"


def csv_records(reader, errors=None):
    """Yield (line, values) for each non-blank record ``reader`` has left; ``line`` is where
    the record starts. A record that is not valid CSV refuses the file, or, given a list of
    ``errors``, is added to it and the reading goes on with the next line."""
    line = reader.line_num + 1
    while True:
        try:
            for values in reader:
                if not is_blank(values):
                    yield line, values
                line = reader.line_num + 1
            return
        except csv.Error as exc:
            error = LineError(line, csv_error_message(exc))
            if errors is None:
                raise ImportRefused([error]) from None
            errors.append(error)
            line = reader.line_num + 1


def csv_width_message(values, width):
    """The message for a record with more or fewer fields than the header, with a likely
    cause."""
    if any("\n" in v for v in values):
        hint = " (a double quote on this line is not closed)"
    elif len(values) > width:
        hint = " (a value that contains a comma must be in double quotes)"
    else:
        hint = ""
    return f"expected {width} fields as in the header, found {len(values)}{hint}"


# --- The header ------------------------------------------------------------------------


@dataclass
class Header:
    line: int
    names: list  # every field of the header, stripped and in lower case
    index: dict  # column name -> position, for the columns that are used
    warnings: list


def _choices(required):
    return [(c,) if isinstance(c, str) else tuple(c) for c in required]


def columns_help(required, optional=()):
    """The columns a file must name, as the messages and the commands' help say it."""
    text = ", ".join(" or ".join(choice) for choice in _choices(required))
    return f"{text} and optionally {', '.join(optional)}" if optional else text


def first_record(records):
    """The first of ``records`` (from csv_records), the header; refuse an empty file."""
    first = next(records, None)
    if first is None:
        raise ImportRefused([LineError(0, EMPTY_FILE)])
    return first


def read_header(line, values, required, optional=()):
    """Check the header ``values`` on ``line``; return a Header.

    ``required`` names the columns the file must have; an item that is a tuple of names is a
    choice, one of them at least (``("practice", "mso")``: practice or mso). ``optional``
    names the columns used when present. Names are matched stripped and in any case. Every
    other column is ignored, with a warning. Raises ImportRefused with every problem: the
    missing columns, and each column named more than once.
    """
    names = [name.strip().lower() for name in values]
    choices = _choices(required)
    missing = [" or ".join(choice) for choice in choices if not any(c in names for c in choice)]
    errors = []
    if missing:
        errors.append(LineError(line, (
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"the first line must name the columns {columns_help(required, optional)}"
        )))  # fmt: skip
    for name in sorted({n for n in names if n and names.count(n) > 1}):
        errors.append(LineError(line, f"column {name} appears more than once"))
    if errors:
        raise ImportRefused(errors)
    used = (*itertools.chain.from_iterable(choices), *optional)
    index = {name: names.index(name) for name in used if name in names}
    warnings = [
        f"column {name} is not used and was ignored" if name
        else f"column {position} has no name and was ignored"
        for position, name in enumerate(names, start=1)
        if name not in index
    ]  # fmt: skip
    return Header(line, names, index, warnings)


# --- A whole file ----------------------------------------------------------------------


def read_csv_file(data, required, optional=()):
    """Decode ``data`` (bytes), check its header and read every record: return (header, rows,
    errors).

    ``rows`` holds (line, cells) for each non-blank record as wide as the header, ``cells``
    mapping each used column to its value, stripped; ``errors`` a LineError for each other
    record (not valid CSV, or of another width). Raises ImportRefused when the file cannot be
    decoded, is empty, has a bad header, or has nothing but its header.
    """
    reader = csv_reader(io.StringIO(decode_csv_bytes(data), newline=""))
    header = read_header(*first_record(csv_records(reader)), required, optional)
    width, index = len(header.names), header.index
    rows, errors = [], []
    for line, values in csv_records(reader, errors):
        if len(values) == width:
            rows.append((line, {name: values[i].strip() for name, i in index.items()}))
        else:
            errors.append(LineError(line, csv_width_message(values, width)))
    if not rows and not errors:
        raise ImportRefused([LineError(0, NO_ROWS)])
    return header, rows, errors
