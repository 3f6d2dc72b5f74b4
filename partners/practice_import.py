"""Import of practices and their affiliations from a CSV file: checked whole, then applied."""

import datetime
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from .audit import audit_created
from .csvfiles import (
    ImportRefused,
    LineError,
    day_out_of_range,
    not_a_date_message,
    parse_date,
    read_csv_file,
)
from .models import MSO, US_STATE_CODES, Affiliation, Practice
from .rollups import rollups_rebuild_practices

logger = logging.getLogger(__name__)

PRACTICE_COLUMNS = ("mso", "practice_code", "practice_name", "city", "state", "affiliated_since")
PRACTICE_OPTIONAL_COLUMNS = ("affiliated_until",)
_MAX_LENGTHS = {
    "mso": MSO._meta.get_field("name").max_length,
    "practice_code": Practice._meta.get_field("code").max_length,
    "practice_name": Practice._meta.get_field("name").max_length,
    "city": Practice._meta.get_field("city").max_length,
}


@dataclass
class PracticeImportResult:
    msos_created: int = 0
    practices_created: int = 0
    practices_updated: int = 0
    affiliations_created: int = 0
    affiliations_updated: int = 0
    warnings: list = field(default_factory=list)

    def summary(self):
        return (
            f"{self.msos_created} MSOs created, {self.practices_created} practices created, "
            f"{self.practices_updated} updated, {self.affiliations_created} affiliations created, "
            f"{self.affiliations_updated} updated."
        )


@dataclass
class _Span:
    """One affiliation as planned: from the file (``line``) or stored (``line`` None)."""

    mso: str
    since: datetime.date
    until: datetime.date | None
    line: int | None

    def describe(self):
        until = self.until.isoformat() if self.until else "now"
        return f"{self.mso} from {self.since.isoformat()} to {until}"


@dataclass
class _PracticeRow:
    line: int
    mso: str
    code: str
    name: str
    city: str
    state: str
    since: datetime.date
    until: datetime.date | None
    until_given: bool

    @property
    def key(self):
        return (self.code, self.mso, self.since)


def _check_cells(cell):
    """The problems with one row's values, as messages."""
    problems = []
    for name in ("mso", "practice_code", "practice_name", "state", "affiliated_since"):
        if not cell[name]:
            problems.append(f"{name} is empty")
    for name, limit in _MAX_LENGTHS.items():
        if len(cell[name]) > limit:
            problems.append(f"{name} is {len(cell[name])} characters long; the limit is {limit}")
    if cell["state"] and cell["state"].upper() not in US_STATE_CODES:
        problems.append(
            f"state '{cell['state']}' is not a US state code (use two letters, such as TX)"
        )
    dates = {}
    for name in ("affiliated_since", "affiliated_until"):
        value = cell.get(name, "")
        dates[name] = None
        if value:
            try:
                day = parse_date(value)
            except ValueError:
                problems.append(f"{name} {not_a_date_message(value)}")
            else:
                if out_of_range := day_out_of_range(day):
                    problems.append(f"{name} {out_of_range}")
                else:
                    dates[name] = day
    since, until = dates["affiliated_since"], dates["affiliated_until"]
    if since and until and until < since:
        problems.append(
            f"affiliated_until {until.isoformat()} is before affiliated_since {since.isoformat()}"
        )
    return problems, since, until


def _read_practice_rows(data):
    """Parse and check every row; return the rows, the errors (all of them) and warnings."""
    header, records, errors = read_csv_file(data, PRACTICE_COLUMNS, PRACTICE_OPTIONAL_COLUMNS)
    rows = []
    for line, cell in records:
        problems, since, until = _check_cells(cell)
        if problems:
            errors.extend(LineError(line, message) for message in problems)
            continue
        rows.append(_PracticeRow(
            line, cell["mso"], cell["practice_code"], cell["practice_name"], cell["city"],
            cell["state"].upper(), since, until, "affiliated_until" in header.index,
        ))  # fmt: skip
    return rows, errors, header.warnings


def _check_practice_details(rows, errors):
    """Every line for one practice must give the same name, city and state."""
    first_seen = {}
    for row in rows:
        first = first_seen.setdefault(row.code, row)
        differ = [
            (label, getattr(row, attr), getattr(first, attr))
            for label, attr in (("practice_name", "name"), ("city", "city"), ("state", "state"))
            if getattr(row, attr) != getattr(first, attr)
        ]
        if differ:
            here = " and ".join(f"{label} '{mine}'" for label, mine, _ in differ)
            there = " and ".join(f"'{theirs}'" for _, _, theirs in differ)
            errors.append(LineError(
                row.line,
                f"practice {row.code} has {here} here but {there} on line {first.line}; "
                "every line for a practice must give the same practice_name, city and state",
            ))  # fmt: skip


def _check_mso_names(rows, stored_names, errors):
    """Refuse MSO names that differ from another only in capitals or spacing."""
    known = {" ".join(name.split()).casefold(): (name, None) for name in stored_names}
    for row in rows:
        other, line = known.setdefault(" ".join(row.mso.split()).casefold(), (row.mso, row.line))
        if other != row.mso:
            where = f"line {line}" if line else "already stored"
            errors.append(LineError(
                row.line,
                f"MSO '{row.mso}' differs from the MSO '{other}' ({where}) only in capitals "
                "or spaces; use the same spelling",
            ))  # fmt: skip


def _overlaps(a, b):
    return a.since <= (b.until or datetime.date.max) and b.since <= (a.until or datetime.date.max)


def _overlap_error(code, earlier, later):
    """Report the clash on a line of the file, from that line's point of view."""
    mine, other = (later, earlier) if later.line is not None else (earlier, later)
    if other.line is None:
        where = "already stored"
    else:
        where = f"line {other.line}"
    message = (
        f"practice {code} would be affiliated with {mine.describe()}, "
        f"while it is affiliated with {other.describe()} ({where}); "
        "a practice belongs to at most one MSO at a time"
    )
    if earlier.until == later.since:
        message += (
            " (affiliated_until is the last day of an affiliation, so the next one starts "
            "the day after)"
        )
    elif other.line is None and other is earlier:
        if other.mso == mine.mso:
            message += (
                " (an affiliation is identified by its MSO and affiliated_since: to change "
                f"the stored one, give affiliated_since {other.since.isoformat()})"
            )
        else:
            message += (
                f" (to end the stored affiliation, add a line for {other.mso} with "
                f"affiliated_since {other.since.isoformat()} and an affiliated_until)"
            )
    return LineError(mine.line, message)


def _check_overlaps(rows, existing, errors):
    """Check the affiliations each practice will have once the file is applied."""
    planned = {key: _Span(aff.mso.name, aff.started_on, aff.ended_on, None)
               for key, aff in existing.items()}  # fmt: skip
    for row in rows:
        earlier = planned.get(row.key)
        if earlier and earlier.line is not None:
            errors.append(LineError(
                row.line,
                f"the affiliation of practice {row.code} with {row.mso} since "
                f"{row.since.isoformat()} is already on line {earlier.line}; "
                "give each affiliation once",
            ))  # fmt: skip
            continue
        planned[row.key] = _Span(row.mso, row.since, row.until, row.line)
    by_practice = {}
    for (code, _mso, _since), span in planned.items():
        by_practice.setdefault(code, []).append(span)
    for code, spans in by_practice.items():
        spans.sort(key=lambda s: (s.since, s.line or 0))
        # Each span against the earlier one that reaches furthest: that one
        # overlaps it if any earlier one does.
        reach = None
        for span in spans:
            if reach is not None and _overlaps(reach, span):
                errors.append(_overlap_error(code, reach, span))
            if reach is None or (reach.until is not None and (
                    span.until is None or span.until > reach.until)):  # fmt: skip
                reach = span


def practices_import(*, data: bytes, dry_run: bool = False) -> PracticeImportResult:
    """Create or update MSOs, practices and affiliations from a CSV file.

    With ``dry_run`` everything is checked and counted, then rolled back: the
    preview a data admin sees before confirming.

    The whole file is checked first; any error refuses it and nothing is written.
    An affiliation is identified by practice, MSO and start date: a row that
    repeats one updates its end date. A file without the affiliated_until
    column leaves the end dates of stored affiliations as they are.
    """
    rows, errors, warnings = _read_practice_rows(data)
    _check_practice_details(rows, errors)
    try:
        # Checked and written in one transaction, so what was checked is what is changed.
        with transaction.atomic():
            result = _check_and_apply(rows, errors, warnings, dry_run=dry_run)
            transaction.set_rollback(dry_run)
            return result
    except IntegrityError as exc:
        # Someone changed the same practices while the file was being imported.
        logger.warning("practice import refused by the database: %s", exc)
        raise ImportRefused([LineError(0, (
            "The database refused the import because the stored practices or affiliations "
            "changed while it ran; nothing was imported. Try again."
        ))]) from exc  # fmt: skip


def _check_and_apply(rows, errors, warnings, *, dry_run=False):
    codes = {row.code for row in rows}
    # Locked until the import commits, so that a survey import for these practices waits
    # rather than attributing its responses by affiliations about to change (PostgreSQL;
    # in pk order, so two practice imports cannot deadlock).
    practices = {p.code: p for p in Practice.objects.select_for_update()
                 .filter(code__in=codes).order_by("pk")}  # fmt: skip
    existing = {}
    for aff in Affiliation.objects.filter(practice__code__in=codes).select_related(
        "practice", "mso"
    ):
        existing[(aff.practice.code, aff.mso.name, aff.started_on)] = aff
    for row in rows:
        if not row.until_given and row.key in existing:
            row.until = existing[row.key].ended_on
    msos = {m.name: m for m in MSO.objects.all()}
    _check_mso_names(rows, msos, errors)
    _check_overlaps(rows, existing, errors)
    if errors:
        errors.sort(key=lambda e: e.line or 0)
        raise ImportRefused(errors)

    result = PracticeImportResult(warnings=warnings)
    for name in sorted({r.mso for r in rows} - msos.keys()):
        msos[name] = MSO.objects.create(name=name, slug=_unique_slug(name))
        result.msos_created += 1
    for row in rows:
        practice = practices.get(row.code)
        if practice is None:
            practices[row.code] = Practice.objects.create(
                code=row.code, name=row.name, city=row.city, state=row.state
            )
            result.practices_created += 1
        elif (practice.name, practice.city, practice.state) != (row.name, row.city, row.state):
            practice.name, practice.city, practice.state = row.name, row.city, row.state
            practice.save(update_fields=["name", "city", "state"])
            result.practices_updated += 1
    # Shorten before lengthening, so the database never sees an overlap midway.
    shorter, longer = [], []
    for row in rows:
        aff = existing.get(row.key)
        if aff and aff.ended_on != row.until:
            shortens = row.until is not None and (aff.ended_on is None or row.until < aff.ended_on)
            aff.ended_on = row.until
            (shorter if shortens else longer).append(aff)
    for aff in (*shorter, *longer):
        aff.save(update_fields=["ended_on"])
    result.affiliations_updated = len(shorter) + len(longer)
    new = [
        Affiliation(practice=practices[r.code], mso=msos[r.mso], started_on=r.since,
                    ended_on=r.until)
        for r in rows
        if r.key not in existing
    ]  # fmt: skip
    audit_created(Affiliation.objects.bulk_create(new))  # bulk_create sends no signals
    result.affiliations_created = len(new)
    if not dry_run:
        # Responses count for the MSO of their day: changed affiliations move them.
        rollups_rebuild_practices(
            practice_ids={aff.practice_id for aff in (*shorter, *longer, *new)}
        )
    return result


def _unique_slug(name):
    base = slugify(name)[:190] or "mso"
    slug, n = base, 2
    while MSO.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug
