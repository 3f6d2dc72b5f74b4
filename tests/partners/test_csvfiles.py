"""``partners.csvfiles``: what every import reads its file with. No database needed."""

import csv
import datetime
import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from partners.csvfiles import (
    DATE_FORMATS_HELP,
    EMPTY_FILE,
    NO_ROWS,
    ImportRefused,
    LineError,
    columns_help,
    csv_error_message,
    csv_reader,
    csv_records,
    csv_width_message,
    decode_csv_bytes,
    first_record,
    not_a_date_message,
    parse_date,
    read_csv_file,
    read_header,
)

D = datetime.date


def refusal(call, *args, **kwargs):
    """The errors of the ImportRefused that ``call`` raises, as text."""
    with pytest.raises(ImportRefused) as info:
        call(*args, **kwargs)
    return [str(e) for e in info.value.errors]


# --- The date rule -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "day"), [
    ("2024-01-05", D(2024, 1, 5)),
    ("2024-12-31", D(2024, 12, 31)),
    ("2024-02-29", D(2024, 2, 29)),  # a leap year
    ("0001-01-01", D(1, 1, 1)),
    ("9999-12-31", D(9999, 12, 31)),
    ("1/5/2024", D(2024, 1, 5)),
    ("01/05/2024", D(2024, 1, 5)),
    ("1/05/2024", D(2024, 1, 5)),
    ("12/31/2023", D(2023, 12, 31)),
    ("2/29/2000", D(2000, 2, 29)),
    (" 2024-01-05 ", D(2024, 1, 5)),  # whitespace around the date is ignored
    ("\t1/5/2024\r\n", D(2024, 1, 5)),
])  # fmt: skip
def test_accepted_dates(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("text", [
    "2024-1-5",  # YYYY-MM-DD has two digits of month and day
    "2024-01-5",
    "2024-1-05",
    "24-01-05",  # and four of year
    "1/5/24",
    "1/5/02024",
    "001/5/2024",
    "2024-02-30",  # days that do not exist
    "2023-02-29",
    "2/30/2024",
    "13/1/2024",  # D/M/YYYY is not M/D/YYYY
    "31/12/2024",
    "0000-01-01",  # there is no year 0
    "1/1/0000",
    "2024/01/05",  # other separators and forms
    "01-05-2024",
    "5.1.2024",
    "20240105",
    "2024-W01-1",
    "2024-01-05T00:00",
    "2024-01-05 00:00",
    "+2024-01-05",
    "2024 - 01 - 05",  # whitespace inside the date is not ignored
    "１/５/２０２４",  # digits are 0 to 9 only
    "",
    "   ",
    "yesterday",
])  # fmt: skip
def test_refused_dates(text):
    with pytest.raises(ValueError):
        parse_date(text)


days = st.dates(min_value=D(1, 1, 1), max_value=D(9999, 12, 31))


@given(days)
@example(D(2024, 2, 29))
def test_every_day_round_trips_through_both_forms(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.month}/{day.day}/{day.year:04d}") == day
    assert parse_date(f"{day.month:02d}/{day.day:02d}/{day.year:04d}") == day
    assert parse_date(f"  {day.isoformat()}\t") == day


@given(days.filter(lambda day: day.month < 10 or day.day < 10))
def test_the_iso_form_refuses_one_digit_months_and_days(day):
    with pytest.raises(ValueError):
        parse_date(f"{day.year:04d}-{day.month}-{day.day}")


@given(days)
def test_two_digit_years_are_refused(day):
    with pytest.raises(ValueError):
        parse_date(f"{day.month}/{day.day}/{day.year % 100:02d}")


def written_forms(day):
    """Every way the rule lets ``day`` be written, whitespace aside."""
    months = {f"{day.month}", f"{day.month:02d}"}
    days_of_month = {f"{day.day}", f"{day.day:02d}"}
    return {day.isoformat()} | {f"{m}/{d}/{day.year:04d}" for m in months for d in days_of_month}


DATE_LIKE = st.from_regex(r"\s*[0-9]{1,5}[-/][0-9]{1,3}[-/][0-9]{1,5}\s*", fullmatch=True)


@given(st.one_of(st.text(max_size=20), DATE_LIKE))
@example("2024-02-30")
@example("99/99/9999")
def test_any_text_is_a_date_written_as_the_rule_says_or_a_value_error(text):
    try:
        day = parse_date(text)
    except ValueError:
        return
    assert text.strip() in written_forms(day)


def test_the_message_for_a_value_that_is_not_a_date():
    assert DATE_FORMATS_HELP == "use YYYY-MM-DD or M/D/YYYY"
    assert not_a_date_message("2024-1-5") == (
        "'2024-1-5' is not a date (use YYYY-MM-DD or M/D/YYYY)"
    )
    # A runaway value is shortened.
    assert not_a_date_message("x" * 100) == f"'{'x' * 37}...' is not a date ({DATE_FORMATS_HELP})"


# --- Decoding ------------------------------------------------------------------------------


def test_utf8_with_or_without_bom_is_decoded():
    assert decode_csv_bytes("a,b\nÉ,ü\n".encode()) == "a,b\nÉ,ü\n"
    assert decode_csv_bytes("\ufeffa,b\n".encode()) == "a,b\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_refused(encoding):
    data = "\ufeffa,b\n1,2\n".encode(encoding)  # with its byte order mark, as Excel writes it
    assert refusal(decode_csv_bytes, data) == [
        "line 1: the file is UTF-16 text; save it as CSV UTF-8 and try again"
    ]


def test_a_byte_that_is_not_utf8_is_refused_with_its_line():
    data = "a,b\n1,2\n3,Ortop\xe9dica\n4,\xff\n".encode("latin-1")
    assert refusal(decode_csv_bytes, data) == [
        "line 3: byte 0xe9 is not UTF-8 text; save the file as CSV UTF-8 and try again"
    ]


def test_a_nul_byte_is_refused_with_its_line():
    assert refusal(decode_csv_bytes, b"a,b\n1,2\n\n3,x\x00y\n") == [
        "line 4: byte 0x00 (NUL) cannot be stored as text; save the file as CSV UTF-8 and try again"
    ]


# --- Records -------------------------------------------------------------------------------


def records(text, errors=None):
    return list(csv_records(csv_reader(io.StringIO(text, newline="")), errors))


def test_records_skip_blank_lines_and_start_where_they_start():
    text = 'a,b\r\n\r\n , \n1,"two\nlines"\n3,4\n'
    assert records(text) == [(1, ["a", "b"]), (4, ["1", "two\nlines"]), (6, ["3", "4"])]


def test_a_record_that_is_not_csv_refuses_the_file():
    assert refusal(records, 'a,b\n"x" y,2\n3,4\n') == [
        "line 2: this is not valid CSV (',' expected after '\"')"
    ]


def test_with_a_list_of_errors_every_bad_record_is_reported_and_the_rest_read():
    errors = []
    text = 'a,b\n"x" y,2\n3,4\n5,"six" 6\n7,8\n9,"ten\n'
    assert records(text, errors) == [(1, ["a", "b"]), (3, ["3", "4"]), (5, ["7", "8"])]
    assert [str(e) for e in errors] == [
        "line 2: this is not valid CSV (',' expected after '\"')",
        "line 4: this is not valid CSV (',' expected after '\"')",
        "line 6: a double quote on this line is not closed before the end of the file",
    ]


def test_csv_error_messages():
    assert csv_error_message(csv.Error("unexpected end of data")) == (
        "a double quote on this line is not closed before the end of the file"
    )
    limit = csv.field_size_limit()
    assert csv_error_message(csv.Error(f"field larger than field limit ({limit})")) == (
        f"a value is longer than {limit} characters (is a double quote on this line not closed?)"
    )
    assert csv_error_message(csv.Error("something else")) == (
        "this is not valid CSV (something else)"
    )


@pytest.mark.parametrize(("values", "message"), [
    (["1", "2", "3", "4"], "expected 3 fields as in the header, found 4 (a value that "
                           "contains a comma must be in double quotes)"),
    (["1", "2"], "expected 3 fields as in the header, found 2"),
    (["1", "two\n3", "4", "5"], "expected 3 fields as in the header, found 4 (a double quote "
                                "on this line is not closed)"),
    (["1", "two\n3"], "expected 3 fields as in the header, found 2 (a double quote on this "
                      "line is not closed)"),
])  # fmt: skip
def test_width_messages(values, message):
    assert csv_width_message(values, 3) == message


# --- The header ----------------------------------------------------------------------------

REQUIRED = ("code", "day")
OPTIONAL = ("note",)


def test_header_names_are_matched_in_any_case_and_order_and_the_others_ignored():
    header = read_header(3, [" Day", "extra", "CODE ", "", "note"], REQUIRED, OPTIONAL)
    assert (header.line, header.names) == (3, ["day", "extra", "code", "", "note"])
    assert header.index == {"code": 2, "day": 0, "note": 4}
    assert header.warnings == [
        "column extra is not used and was ignored",
        "column 4 has no name and was ignored",
    ]


def test_optional_columns_may_be_missing():
    assert read_header(1, ["code", "day"], REQUIRED, OPTIONAL).index == {"code": 0, "day": 1}


def test_missing_columns_are_named():
    assert refusal(read_header, 1, ["code", "other"], REQUIRED, OPTIONAL) == [
        "line 1: missing column day; the first line must name the columns code, day and "
        "optionally note"
    ]
    assert refusal(read_header, 2, ["other"], REQUIRED) == [
        "line 2: missing columns code, day; the first line must name the columns code, day"
    ]


def test_a_choice_of_columns_needs_one_of_them():
    required = (("practice", "mso"), "day")
    assert columns_help(required, OPTIONAL) == "practice or mso, day and optionally note"
    assert refusal(read_header, 1, ["day"], required, OPTIONAL) == [
        "line 1: missing column practice or mso; the first line must name the columns "
        "practice or mso, day and optionally note"
    ]
    assert read_header(1, ["mso", "day"], required).index == {"mso": 0, "day": 1}
    assert read_header(1, ["day", "mso", "practice"], required).index == {
        "practice": 2, "mso": 1, "day": 0,
    }  # fmt: skip


def test_every_problem_of_the_header_is_reported():
    names = ["Note", "note", "day", "x", "DAY", "x"]
    assert refusal(read_header, 1, names, REQUIRED, OPTIONAL) == [
        "line 1: missing column code; the first line must name the columns code, day and "
        "optionally note",
        "line 1: column day appears more than once",
        "line 1: column note appears more than once",
        "line 1: column x appears more than once",
    ]


def test_columns_without_a_name_may_repeat():
    header = read_header(1, ["code", "", "day", " "], REQUIRED)
    assert header.warnings == [
        "column 2 has no name and was ignored",
        "column 4 has no name and was ignored",
    ]


def test_an_empty_file_has_no_header():
    assert refusal(first_record, iter([])) == [EMPTY_FILE]
    assert EMPTY_FILE == "The file is empty."


# --- A whole file --------------------------------------------------------------------------


def test_a_whole_file_is_read_into_cells():
    data = "\ufeffDay,code,extra\n\n2024-01-05, P1 ,x\n1,2\n,,\n1/5/2024,P2,y\n".encode()
    header, rows, errors = read_csv_file(data, REQUIRED, OPTIONAL)
    assert header.warnings == ["column extra is not used and was ignored"]
    assert rows == [
        (3, {"code": "P1", "day": "2024-01-05"}),
        (6, {"code": "P2", "day": "1/5/2024"}),
    ]
    assert errors == [LineError(4, "expected 3 fields as in the header, found 2")]


def test_a_whole_file_reports_every_bad_record():
    data = b'code,day\n"P1" x,2024-01-05\nP2,2024-01-05,\nP3,2024-01-05\n'
    _header, rows, errors = read_csv_file(data, REQUIRED)
    assert rows == [(4, {"code": "P3", "day": "2024-01-05"})]
    assert [str(e) for e in errors] == [
        "line 2: this is not valid CSV (',' expected after '\"')",
        "line 3: expected 2 fields as in the header, found 3 (a value that contains a comma "
        "must be in double quotes)",
    ]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"\r\n , \n", "The file is empty."),
    (b"code,day\n", "The file has a header but no rows."),
    (b"code,day\n\n,\n", "The file has a header but no rows."),
    (b'"code,day\n', "line 1: a double quote on this line is not closed before the end of the "
                     "file"),
])  # fmt: skip
def test_files_without_rows_are_refused(data, message):
    assert NO_ROWS == "The file has a header but no rows."
    assert refusal(read_csv_file, data, REQUIRED) == [message]
