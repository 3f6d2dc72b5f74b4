"""The survey exports practices already have, read as they are: which tool wrote a file, where
its header ends, which of its columns hold the score, the day, the response id and the practice,
which rows are not patients' responses, how dates and choice-text scores are read, and which
columns hold personal data. Pure Python: no Django, no database.

A format only says which position holds what and how a value is read; every record then goes
through the same checks, staging table and insert as the plain format (``importing``).

The table ``FORMATS`` holds, per tool (the names row is the one that names the columns; a row
above it is a legacy Qualtrics ``V1,V2,...`` row or a Typeform question-group row):

| tool | header rows | response id | day | score |
|---|---|---|---|---|
| Qualtrics | 3 (ids, texts, ImportId); legacy 2 | ResponseId | RecordedDate | X_NPS_GROUP |
| SurveyMonkey | 2 (question, then labels) | Respondent ID | End Date | question |
| Delighted | 1 | Response ID | Response Timestamp | Score |
| Typeform | 1, or 2 under a group row | # | Submit Date (UTC), converted | question |
| Formbricks | 1 | Response ID | Timestamp (UTC), converted | question |
| Google Forms | 1 | none: stamp and answers, hashed | Timestamp | question |
| LimeSurvey | 1 (codes or texts) | id | submitdate | question |
| Alchemer | 1 | Response ID | Date Submitted | question |
| Microsoft Forms | 1 | ID | Completion time | question |
| JotForm | 1 | Submission ID | Submission Date | question |
| SurveySparrow | 1 | Submission Id | Submitted Time | question |
| plain | 1 | response_id | responded_on | score |

Rows that are no patient's response are skipped and counted (``Skip``): unfinished ones
(Qualtrics and Formbricks ``Finished``, Typeform ``Response Type`` partial, LimeSurvey's empty
``submitdate``, Alchemer's ``Status`` Partial, SurveySparrow's ``CompletionStatus`` other than
Completed) and previews, tests and spam (Qualtrics ``Status``, Alchemer ``Test Data``).

"question": the one question asking how likely the patient is to recommend (``score_question``),
whose answers are whole numbers from 0 to 10.

The day a response counts on is the calendar day written in the export's own time zone: the day
as written (Qualtrics writes its stamps in the zone named in its ImportId row, a stamp with an
offset is written in that offset, and a stamp without any zone is taken as written). Only the
tools that write UTC (Typeform, Formbricks) are converted, to the zone the admin confirms
(default ``settings.TIME_ZONE``): 2024-03-05 04:30 UTC is 2024-03-04 in America/Chicago.

A score written as choice text (``Extremely likely - 10``, ``0 - Not at all likely``) is the one
whole number in the label.
"""

import datetime
import json
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass, field

from ..csvfiles import EMPTY_FILE, ImportRefused, LineError, read_header, shown

ROLES = ("practice", "responded_on", "score", "response_id", "comment")
PLAIN_REQUIRED = ("practice", "responded_on", "score")
PLAIN_OPTIONAL = ("response_id", "comment")
IDENTITY_PREFIX = "row:"  # the response id given to an export's row that has none


# --- Dates and scores --------------------------------------------------------------------------

_ISO_STAMP = re.compile(
    r"([0-9]{4})[-/]([0-9]{2})[-/]([0-9]{2})"
    r"(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?)?"
    r"(?: ?([AaPp][Mm]))?"
    r" ?(Z|UTC|GMT|[+-][0-9]{2}:?[0-9]{2}|GMT[+-][0-9]{1,2}(?::?[0-9]{2})?|[A-Z]{2,4}T)?"
)
_US_STAMP = re.compile(
    r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}|[0-9]{2}),?"
    r"(?: +([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?: ?([AaPp][Mm]))?)?"
    r"(?: +(?:GMT|UTC)([+-][0-9]{1,2}(?::?[0-9]{2})?)?| +[A-Z]{2,4}T)?"
)
_MONTH_STAMP = re.compile(
    r"([A-Za-z]{3})[a-z]*\.? ([0-9]{1,2}), ([0-9]{4})"
    r"(?:,? ([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?: ?([AaPp][Mm]))?)?"
)
_MONTHS = {m: n for n, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
STAMP_HELP = "use YYYY-MM-DD HH:MM:SS or M/D/YYYY H:MM:SS, optionally with AM/PM or a zone"


def _offset(zone):
    """``+3``, ``+03``, ``-0530``, ``+05:30`` (or with GMT before them) as a timedelta."""
    zone = zone.removeprefix("GMT")
    sign = -1 if zone[0] == "-" else 1
    hours, _, minutes = zone[1:].partition(":")
    if not minutes and len(hours) > 2:
        hours, minutes = hours[:-2], hours[-2:]
    return sign * datetime.timedelta(hours=int(hours), minutes=int(minutes or 0))


def parse_stamp(text):
    """(date and time as written, offset from UTC or None) of a survey tool's timestamp;
    raise ValueError when it is not one (STAMP_HELP).

    ``2024-03-05 23:30:00``, ``2024-03-05T23:30:00.000Z``, ``2024-03-05 23:30:00 -0700``,
    ``2024/03/05 11:30:00 PM GMT+3``, ``03/05/2024 11:30:00 PM``, ``3/5/24 23:30``,
    ``3/5/2024 23:30:00 GMT+3``, ``Mar 5, 2024 11:30 PM``, and a plain date. A two-digit
    year (Microsoft Forms) is 20YY. A zone written as an abbreviation (``EST``, Google Forms
    and Alchemer) is not converted: the day is the day as written.
    """
    text = text.strip()
    offset = None
    match = _ISO_STAMP.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second, ampm, zone = match.groups()
    elif (match := _MONTH_STAMP.fullmatch(text)) is not None:
        name, day, year, hour, minute, second, ampm = match.groups()
        month, zone = _MONTHS.get(name.lower()), None
        if month is None:
            raise ValueError(text)
    else:
        match = _US_STAMP.fullmatch(text)
        if match is None:
            raise ValueError(text)
        month, day, year, hour, minute, second, ampm, zone = match.groups()
        if len(year) == 2:
            year = "20" + year
        if not zone and text.endswith(("GMT", "UTC")):
            zone = "Z"
    if zone in ("Z", "UTC", "GMT"):
        offset = datetime.timedelta(0)
    elif zone and zone[0].isalpha() and zone[:3] != "GMT":
        pass  # an abbreviation such as EST: the day as written
    elif zone:
        offset = _offset(zone if zone[0] in "+-G" else "+" + zone)
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


_YES_NO = {"yes", "no", "y", "n", "true", "false", "sí", "si", "oui", "non", "ja", "nein",
           "sim", "não", "nao", "maybe", "not sure"}  # fmt: skip


def value_kind(text):
    """What a value that is not a score holds, as a message says it: "Yes/No", "text", ..."""
    folded = text.strip().casefold()
    if folded in _YES_NO:
        return "Yes/No answers"
    if re.fullmatch(r"[+-]?[0-9]+", folded):
        return "numbers outside 0 to 10"
    if re.fullmatch(r"[+-]?[0-9]*[.,][0-9]+", folded):
        return "decimal numbers"
    if not any(c.isdigit() for c in folded):
        return "text without a score"
    return "values that are not a score"


# --- Which column is which ---------------------------------------------------------------------


def _fold(text):
    """Lower case without accents: "Qué" is "que", "empfehlen" stays."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


# The standard NPS question, by whole words: "how likely ... recommend", "recommend ... to a
# friend or colleague", and its usual wording in Spanish, Portuguese, French, German and
# Italian. "recommendations" is not "recommend".
_RECOMMEND_WORD = re.compile(
    r"\b(recommend(ed|ing)?|recom[ie]?end\w*|recommand\w*|\w*empfehl\w*|raccomand\w*|"
    r"consigli\w*)\b"
)
_LIKELY_WORD = re.compile(
    r"\b(likely|likelihood|probab\w*|provavel|wahrscheinlich\w*)\b"
)
_FRIEND_WORD = re.compile(
    r"\b(friends?|colleagues?|family|relatives?|amig[oa]s?|colegas?|amis?|amies?|"
    r"collegues?|freund\w*|kolleg\w*|bekannte\w*|amic[oaie]|colleg[hi]i?|familia|familiares|"
    r"famille|familie|famiglia)\b"
)
_SCALE = re.compile(r"\b0\s*(-|–|to|a|bis|al)\s*10\b")  # folded: "à" is "a"


def score_question(text):
    """Whether a column's name or question text is the standard NPS question: "recommend" as a
    whole word (or its Spanish, Portuguese, French, German or Italian form) with "likely" or
    "friend"/"colleague" (or theirs)."""
    folded = _fold(text)
    return bool(_RECOMMEND_WORD.search(folded)) and bool(
        _LIKELY_WORD.search(folded) or _FRIEND_WORD.search(folded)
    )


def scale_in_text(text):
    return bool(_SCALE.search(_fold(text)))


# Column names that hold personal data, matched whole: names, e-mails, phones, addresses, IP
# addresses, locations, user agents. A question (a sentence with a question mark) is personal
# only when it asks for one of them ("What is your email?"), not when a word of it is one
# ("Did you use the mobile app?").
_PERSONAL_WORDS = (
    r"e-?mail|e-?mail address|name|first ?name|last ?name|full ?name|surname|given name|"
    r"phone|phone number|telephone|mobile|mobile number|cell|ip|ip ?address|ipaddr|"
    r"address|street|postal|postal code|post code|zip|zip ?code|city|country|state|region|"
    r"state/region|latitude|longitude|location|geo|user ?agent|browser|network id|user id|"
    r"person id|contact id|recipient|birth|date of birth|dob|birthday|ssn"
)
_PERSONAL_NAME = re.compile(rf"\b({_PERSONAL_WORDS})\b")
_PERSONAL_QUESTION = re.compile(
    rf"^(what is|what's|whats|please (enter|give|provide|share)|enter|may we have)?\s*"
    rf"(your|the patient's)\s+({_PERSONAL_WORDS})\b"
)
_PRACTICE = re.compile(r"^(practice|clinic|office)( ?(code|id|name))?$|"
                       r"^practice_?code$", re.IGNORECASE)  # fmt: skip


def column_is_personal(name):
    """Whether a column named ``name`` holds personal data (the tool's own list aside)."""
    folded = re.sub(r"[_\s]+", " ", _fold(name)).strip()
    folded = re.sub(r"^(\d+[.)]\s*)", "", folded)  # "3. Your name"
    if not folded or _PRACTICE.match(folded):
        return False
    if "?" in folded or len(folded.split()) > 6:
        return bool(_PERSONAL_QUESTION.match(folded.rstrip("?: ")))
    return bool(_PERSONAL_NAME.search(folded))


def practice_column(name):
    return bool(_PRACTICE.match(name.strip()))


# --- The formats -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skip:
    """Rows that are not patients' responses: those whose column ``columns`` (the first found)
    holds one of ``values`` (or, with ``blank``, nothing), counted as ``kind``."""

    columns: tuple
    values: frozenset = frozenset()
    kind: str = "unfinished"  # or "test": previews, test responses, spam
    blank: bool = False
    only: frozenset = frozenset()  # otherwise: rows whose column holds none of these


def _cases(*words):
    return frozenset(v for w in words for v in (w, w.lower(), w.upper(), w.title()))


@dataclass(frozen=True)
class SurveyFormat:
    key: str
    label: str
    needs: str  # the columns that identify it, as messages say them
    signatures: tuple = ()  # sets of names; the names row must hold all of one of them
    firsts: tuple = ()  # the names the first column may have, if it must have one
    header_rows: int = 1  # rows from the names row to the data
    id_columns: tuple = ()
    date_columns: tuple = ()
    score_columns: tuple = ()
    comment_columns: tuple = ()
    skips: tuple = ()
    personal: tuple = ()  # columns named so are personal data, whatever the rule says
    utc: bool = False  # stamps are UTC only: converted to the zone the admin confirms
    choice_text: bool = True
    other_columns_personal: frozenset | None = None  # Delighted: unknown columns are people's

    def matches(self, names):
        """Whether a names row is this format's: its first column and one signature, in any
        case (Microsoft Forms writes ``Id`` as well as ``ID``)."""
        if self.firsts and (not names or names[0].lower() not in {
                n.lower() for n in self.firsts}):  # fmt: skip
            return False
        present = {n.lower() for n in names}
        return any({n.lower() for n in signature} <= present for signature in self.signatures) \
            or (bool(self.firsts) and not self.signatures)


PLAIN = SurveyFormat(
    "plain", "Plain CSV", "practice, responded_on and score",
    id_columns=("response_id",), date_columns=("responded_on",), score_columns=("score",),
    comment_columns=("comment",), choice_text=False,
)  # fmt: skip
QUALTRICS = SurveyFormat(
    "qualtrics", "Qualtrics", "ResponseId and RecordedDate (or EndDate)",
    signatures=({"ResponseId", "RecordedDate"}, {"ResponseId", "EndDate"},
                {"ResponseID", "ResponseSet"}, {"ResponseID", "EndDate"}),
    header_rows=3,
    id_columns=("ResponseId", "ResponseID"), date_columns=("RecordedDate", "EndDate"),
    skips=(Skip(("Finished",), _cases("0", "False")),
           # Status as text (the default export) or as its code (numeric values): 1 preview,
           # 2 test, 8 spam, 9 preview spam, 12 imported spam; 0 IP address, 4 imported and
           # 16 offline are patients' responses.
           # EX: 32 (kept), 40 EX spam.
           Skip(("Status",), _cases("Survey Preview", "Survey Test", "Spam", "Preview Spam",
                                    "Survey Preview Spam", "Imported Spam", "Offline Preview",
                                    "Offline Survey Preview", "EX Spam", "1", "2", "8", "9",
                                    "12", "17", "40"), "test")),
    personal=("IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
              "ExternalReference", "ExternalDataReference", "LocationLatitude",
              "LocationLongitude", "LocationAccuracy", "Name", "EmailAddress"),
)  # fmt: skip
SURVEYMONKEY = SurveyFormat(
    "surveymonkey", "SurveyMonkey", "Respondent ID and Start Date, End Date (or Collector ID)",
    signatures=({"Respondent ID", "Collector ID"}, {"Respondent ID", "Start Date", "End Date"}),
    header_rows=2,
    id_columns=("Respondent ID",), date_columns=("End Date", "Start Date"),
    personal=("IP Address", "Email Address", "First Name", "Last Name", "Custom Data 1"),
)  # fmt: skip
_DELIGHTED_COLUMNS = frozenset({
    "Response ID", "Person ID", "Name", "Email", "Score", "Comment", "Response Timestamp",
    "Notes", "Tags", "Last Updated Timestamp", "Trend", "Permalink", "Additional answers",
})  # fmt: skip
DELIGHTED = SurveyFormat(
    "delighted", "Delighted", "Score and Response Timestamp",
    signatures=({"Score", "Response Timestamp"},),
    id_columns=("Response ID",), date_columns=("Response Timestamp",), score_columns=("Score",),
    comment_columns=("Comment",), personal=("Name", "Email", "Person ID"),
    other_columns_personal=_DELIGHTED_COLUMNS,
)  # fmt: skip
TYPEFORM = SurveyFormat(
    "typeform", "Typeform", "# and Submit Date (UTC)",
    signatures=({"Submit Date (UTC)"}, {"Submitted At"}), firsts=("#",),
    id_columns=("#", "Response ID"), date_columns=("Submit Date (UTC)", "Submitted At"),
    skips=(Skip(("Response Type",), _cases("partial")),),
    personal=("Network ID",), utc=True,
)  # fmt: skip
FORMBRICKS = SurveyFormat(
    "formbricks", "Formbricks", "Response ID, Timestamp and Finished",
    signatures=({"Response ID", "Timestamp", "Finished"},),
    id_columns=("Response ID",), date_columns=("Timestamp",),
    skips=(Skip(("Finished",), _cases("No", "False")),),
    personal=("User ID", "Verified Email", "url", "country", "Formbricks ID (internal)"),
    utc=True,
)  # fmt: skip
GOOGLEFORMS = SurveyFormat(
    "googleforms", "Google Forms", "Timestamp as the first column",
    # Google writes the first column's name in the form owner's language.
    firsts=("Timestamp", "Marca temporal", "Carimbo de data/hora", "Horodateur", "Zeitstempel",
            "Informazioni cronologiche"),
    date_columns=("Timestamp", "Marca temporal", "Carimbo de data/hora", "Horodateur",
                  "Zeitstempel", "Informazioni cronologiche"),
    personal=("Email Address", "Email", "Dirección de correo electrónico",
              "Endereço de e-mail", "Adresse e-mail", "E-Mail-Adresse", "Indirizzo email"),
)  # fmt: skip
LIMESURVEY = SurveyFormat(
    "limesurvey", "LimeSurvey", "id, submitdate, lastpage and startlanguage",
    signatures=({"id", "submitdate", "lastpage", "startlanguage"},
                {"Response ID", "Date submitted", "Last page", "Start language"}),
    id_columns=("id", "Response ID"), date_columns=("submitdate", "Date submitted"),
    skips=(Skip(("submitdate", "Date submitted"), blank=True),),
    personal=("ipaddr", "IP address", "refurl", "Referrer URL", "email", "firstname",
              "lastname", "token", "Access code"),
)  # fmt: skip
ALCHEMER = SurveyFormat(
    "alchemer", "Alchemer (SurveyGizmo)", "Response ID, Time Started, Date Submitted and Status",
    signatures=({"Response ID", "Time Started", "Date Submitted", "Status"},),
    id_columns=("Response ID",), date_columns=("Date Submitted", "Time Started"),
    skips=(Skip(("Status",), _cases("Partial", "Disqualified", "Deleted")),
           Skip(("Test Data",), _cases("1", "True", "Yes"), "test")),
    personal=("Contact ID", "IP Address", "Longitude", "Latitude", "Country", "City",
              "State/Region", "Postal", "User Agent", "Referer", "SessionID"),
)  # fmt: skip
MSFORMS = SurveyFormat(
    "msforms", "Microsoft Forms", "ID, Start time and Completion time",
    signatures=({"ID", "Start time", "Completion time"},
                {"ID", "Hora de início", "Hora da conclusão"}),
    id_columns=("ID",), date_columns=("Completion time", "Hora da conclusão", "Start time"),
    personal=("Email", "Name", "Nome"),
)  # fmt: skip
JOTFORM = SurveyFormat(
    "jotform", "JotForm", "Submission Date as the first column",
    firsts=("Submission Date",),
    id_columns=("Submission ID",), date_columns=("Submission Date",),
    personal=("Submission IP", "Submission URL", "Submission Edit URL", "Name", "Email",
              "Phone Number", "Address"),
)  # fmt: skip
SURVEYSPARROW = SurveyFormat(
    "surveysparrow", "SurveySparrow", "Submission Id, Submitted Time and CompletionStatus",
    signatures=({"Submission Id", "Submitted Time"}, {"CompletionStatus", "Submitted Time"}),
    id_columns=("Submission Id",), date_columns=("Submitted Time",),
    skips=(Skip(("CompletionStatus",), only=_cases("Completed")),),
    personal=("IP Address", "IP", "Location", "Email", "Name", "Phone", "Mobile",
              "Device ID", "Browser"),
)  # fmt: skip

FORMATS = {f.key: f for f in (QUALTRICS, SURVEYMONKEY, DELIGHTED, TYPEFORM, FORMBRICKS,
                               GOOGLEFORMS, LIMESURVEY, ALCHEMER, MSFORMS, JOTFORM,
                               SURVEYSPARROW, PLAIN)}  # fmt: skip
FORMAT_CHOICES = [(f.key, f.label) for f in FORMATS.values()]
EXPORTS_NEED = "nor is it a survey tool's export: " + "; ".join(
    f"{f.label} needs {f.needs}" for f in FORMATS.values() if f is not PLAIN
)
_V_ROW = re.compile(r"V[0-9]+")


def _names(row):
    return [v.strip() for v in row]


def _is_plain(names):
    return set(PLAIN_REQUIRED) <= {n.lower() for n in names}


def formats_detect(rows):
    """(formats, index of the names row) of a file whose first records are ``rows``: the
    formats whose identifying columns the names row has. The names row is the first, or the
    second below a legacy Qualtrics ``V1,V2,...`` row or a Typeform question-group row."""
    for offset in (0, 1):
        if offset >= len(rows):
            break
        names = _names(rows[offset])
        found = [f for f in FORMATS.values() if f is not PLAIN and f.matches(names)]
        if offset == 0 and _is_plain(names):
            found.append(PLAIN)
        if offset == 1:
            above = _names(rows[0])
            legacy = len(above) > 1 and all(_V_ROW.fullmatch(n) for n in above[:2])
            found = [f for f in found if (f is QUALTRICS and legacy) or f is TYPEFORM]
        if found:
            return found, offset
    return [], 0


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
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data):
        known = cls.__dataclass_fields__
        return cls(**{k: str(v or "") for k, v in (data or {}).items() if k in known})


@dataclass
class Layout:
    """A file's layout as read: its format, header rows, column names and roles."""

    format: SurveyFormat
    header_rows: int  # rows above the data, the names row and any row above it included
    names: list  # the columns' names as shown to the admin
    index: dict  # role -> position: practice, responded_on, score, response_id, comment
    skips: list = field(default_factory=list)  # (position, values, blank, kind, only)
    practice_code: str = ""  # one practice for the whole file
    file_zone: str = ""  # the zone the export says its stamps are in (Qualtrics)
    zone: str = ""  # the zone UTC stamps are converted to
    dropped: list = field(default_factory=list)  # personal-data columns, never read
    warnings: list = field(default_factory=list)
    candidates: dict = field(default_factory=dict)  # role -> columns that could hold it
    reading: str = ""  # how the file was read: container, encoding, delimiter, quotes
    identity: bool = False  # rows have no id: each gets one from its stamp and answers

    def column(self, role):
        position = self.index.get(role)
        return "" if position is None else self.names[position]

    @property
    def day_rule(self):
        if self.format is PLAIN:
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
            "id_column": self.column("response_id"), "identity": self.identity,
            "practice_column": self.column("practice"), "practice": self.practice_code,
            "comment_column": self.column("comment"), "day_rule": self.day_rule,
            "file_zone": self.file_zone, "zone": self.zone if self.format.utc else "",
            "dropped": self.dropped, "reading": self.reading,
            "skipped_columns": [self.names[p] for p, *_ in self.skips],
        }  # fmt: skip


class LayoutError(ImportRefused):
    """The layout cannot be read as asked: a named column is missing, or none fits a role.
    ``format`` is the format it was read as (None when none fits), ``formats`` the formats
    the header fits, ``names`` the columns' names as read and ``found`` the columns found for
    the roles that could be read ({role: name}), to offer on the columns page."""

    def __init__(self, errors, *, format=None, formats=(), names=(), found=None):  # noqa: A002
        super().__init__(errors)
        self.format, self.formats, self.names = format, list(formats), list(names)
        self.found = dict(found or {})


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


def _header(fmt, rows, offset):
    """(header rows, column names, column texts) of a file in ``fmt`` whose names row is
    ``rows[offset]``: texts are what a question column says (names and the row below)."""
    names = _names(rows[offset])
    below = _names(rows[offset + 1]) if len(rows) > offset + 1 else []
    texts = list(names)
    header_rows = offset + 1
    if fmt is QUALTRICS:
        if offset == 1:  # legacy: V1... above; the names row holds ids and question texts
            above = _names(rows[0])
            texts = [f"{above[i] if i < len(above) else ''} {n}" for i, n in enumerate(names)]
            return 2, names, texts
        third = rows[2][0].strip() if len(rows) > 2 and rows[2] else ""
        header_rows = 3 if third.startswith(('{"ImportId"', "{'ImportId'")) else 2
        texts = [f"{n} {below[i] if i < len(below) else ''}" for i, n in enumerate(names)]
    elif fmt is SURVEYMONKEY:
        header_rows = 2
        question = ""
        for position, name in enumerate(list(names)):
            label = below[position] if position < len(below) else ""
            if name:
                question = name
            elif question and label:
                names[position] = f"{question} / {label}"
        texts = [f"{n} {below[i] if i < len(below) else ''}" for i, n in enumerate(names)]
    return header_rows, names, texts


def _score_values_problem(name, values, text):
    """Why the sampled ``values`` of a column are not 0-to-10 scores, or "" if they are."""
    scores, others = [], []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            score = int(value) if value.isdigit() else score_from_choice(value)
        except ValueError:
            others.append(value)
        else:
            if score <= 10:
                scores.append(score)
            else:
                others.append(value)  # "15": a number, but no score
    if others and len(others) * 2 >= len(others) + len(scores):
        return f"{shown(name)} holds {value_kind(others[0])}, not scores from 0 to 10"
    if scores and max(scores) <= 6 and not scale_in_text(text):
        return (f"{shown(name)} holds answers from {min(scores)} to {max(scores)} only, not a "
                "0-to-10 scale")  # fmt: skip
    return ""


def _layout_read(rows, sample, mapping, default_zone):
    if not rows:
        raise ImportRefused([LineError(0, EMPTY_FILE)])
    fmt = FORMATS.get(mapping.format)
    found, offset = formats_detect(rows)
    if fmt is None:
        if len(found) > 1:
            labels = " and ".join(f"{f.label} ({f.needs})" for f in found)
            raise LayoutError([LineError(offset + 1, (
                f"The columns fit more than one survey export: {labels}. Choose the format."
            ))])  # fmt: skip
        if not found:
            # Neither a plain file nor an export: what a plain file misses, then what each
            # export would need.
            try:
                read_header(1, rows[0], PLAIN_REQUIRED, PLAIN_OPTIONAL)
            except ImportRefused as exc:
                raise LayoutError([*exc.errors, LineError(1, EXPORTS_NEED)]) from None
        fmt = found[0]
    elif fmt not in found:
        offset = 0  # as the admin says: the names in the first row
    if fmt is PLAIN:
        return _plain_layout(rows, mapping)
    header_rows, names, texts = _header(fmt, rows, offset)

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
    score_defaults = list(fmt.score_columns)
    if fmt is QUALTRICS:
        score_defaults = [n[: -len("_NPS_GROUP")] for n in names if n.endswith("_NPS_GROUP")]
    if not mapping.score_column and _find(names, score_defaults) is None:
        score_defaults = _score_candidates(names, texts, sample, header_rows, candidates,
                                           problems)  # fmt: skip
    pick("score", mapping.score_column, score_defaults or (), score_defaults is not None,
         "score (0 to 10)")  # fmt: skip
    if fmt.comment_columns:
        pick("comment", "", fmt.comment_columns, False, "comment")
    practice_code = mapping.practice.strip()
    if mapping.practice_column:
        pick("practice", mapping.practice_column, (), True, "practice")
    elif not practice_code:
        found_practice = [i for i, n in enumerate(names) if practice_column(n)]
        candidates["practice"] = [names[i] for i in found_practice]
        if found_practice:
            index["practice"] = found_practice[0]
        else:
            problems.append("no practice column was found: name the column that holds the "
                            "practice code or name, or choose one practice for the whole "
                            "file")  # fmt: skip
    if problems:
        raise LayoutError([LineError(0, f"{fmt.label} export: {p}.") for p in problems],
                          format=fmt, formats=found, names=names,
                          found={role: names[i] for role, i in index.items()})  # fmt: skip

    used = set(index.values())
    skips = []
    for skip in fmt.skips:
        position = _find(names, skip.columns)
        if position is not None:
            skips.append((position, skip.only or skip.values, skip.blank, skip.kind,
                          bool(skip.only)))
    file_zone = _qualtrics_zone(rows[offset:], index["responded_on"]) if fmt is QUALTRICS else ""
    dropped, personal_names = [], {n.lower() for n in fmt.personal}
    for position, name in enumerate(names):
        if position in used or not name or practice_column(name):
            continue
        personal = name.lower() in personal_names or column_is_personal(name)
        if fmt.other_columns_personal is not None and name not in fmt.other_columns_personal:
            personal = True  # a person property
        if personal:
            dropped.append(name)
    return Layout(fmt, header_rows, names, index, skips, practice_code, file_zone,
                  mapping.time_zone or default_zone, dropped, [], candidates,
                  identity="response_id" not in index)  # fmt: skip


def layout_read(rows, sample, mapping, default_zone):
    """The layout of a file whose first records are ``rows`` (its header rows and a few more),
    as ``mapping`` asks: detected where it leaves a choice open. ``sample(position, header
    rows)`` gives a column's values in the first data rows. Raise LayoutError naming what is
    missing (with the format tried, the formats detected and the names read)."""
    try:
        return _layout_read(rows, sample, mapping, default_zone)
    except LayoutError as exc:
        if not exc.names:
            found, offset = formats_detect(rows)
            fmt = exc.format or FORMATS.get(mapping.format) or (found[0] if found else None)
            names = _header(fmt, rows, offset)[1] if fmt and fmt is not PLAIN else _names(
                rows[0])  # fmt: skip
            raise LayoutError(exc.errors, format=fmt, formats=found, names=names) from None
        raise
    except ImportRefused as exc:  # the plain format's header
        found, _offset = formats_detect(rows)
        raise LayoutError(exc.errors, format=PLAIN, formats=found, names=_names(rows[0])) \
            from None


def _score_candidates(names, texts, sample, header_rows, candidates, problems):
    """The score column of an export that does not say which it is: the one question that
    asks how likely the patient is to recommend, whose answers are scores from 0 to 10.
    Returns [name], or None after adding the problem (several, or none that fits)."""
    asked = [i for i, text in enumerate(texts) if score_question(text)
             and not names[i].endswith(("_NPS_GROUP", " - Group"))]  # fmt: skip
    candidates["score"] = [names[i] for i in asked]
    fitting, refused = [], []
    for position in asked:
        problem = _score_values_problem(names[position], sample(position, header_rows),
                                        texts[position])  # fmt: skip
        (refused if problem else fitting).append(problem or position)
    if len(fitting) == 1:
        return [names[fitting[0]]]
    if len(fitting) > 1:
        problems.append("more than one question asks about recommending ("
                        + ", ".join(shown(names[i]) for i in fitting)
                        + "); name the score column")  # fmt: skip
    elif refused:
        problems.append("no question asking how likely the patient is to recommend holds "
                        "scores from 0 to 10 (" + "; ".join(refused) + "); name the score "
                        "column")  # fmt: skip
    else:
        problems.append("no column for the score (0 to 10) was found: no question asks how "
                        "likely the patient is to recommend; name it")  # fmt: skip
    return None


def _plain_layout(rows, mapping):
    required = PLAIN_REQUIRED
    if mapping.practice:
        required = tuple(c for c in PLAIN_REQUIRED if c != "practice")
    header = read_header(1, rows[0], required, PLAIN_OPTIONAL)
    index = dict(header.index)
    if mapping.practice:
        index.pop("practice", None)
    return Layout(PLAIN, 1, header.names, index, practice_code=mapping.practice.strip(),
                  warnings=header.warnings)  # fmt: skip


def zone_or_error(name):
    """The ZoneInfo ``name``; raise ValueError with a message when there is none."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (a name like America/Chicago)") from None
