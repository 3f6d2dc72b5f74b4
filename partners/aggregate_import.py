"""Import of aggregate NPS submissions: counts an MSO reports about itself or its practices.

Files are small (one line per practice or MSO and period), so the file is read whole, like the
practice import, and refused as a whole: every bad line is reported and nothing is written.
Every submission imported here is labelled self-reported by the MSO; it is never mixed into the
response-level figures (see ``partners.selectors``).
"""

import datetime
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .csvfiles import (
    ImportRefused,
    LineError,
    columns_help,
    day_out_of_range,
    not_a_date_message,
    parse_date,
    read_csv_file,
)
from .models import MSO, Affiliation, AggregateNPSSubmission, NPSProvenance, Practice

TARGET_COLUMNS = ("practice", "mso")
AGGREGATE_COLUMNS = ("period_start", "period_end", "promoters", "passives", "detractors")
AGGREGATE_OPTIONAL_COLUMNS = ("source",)
COUNT_COLUMNS = ("promoters", "passives", "detractors")
REQUIRED_COLUMNS = (TARGET_COLUMNS, *AGGREGATE_COLUMNS)  # a practice or an MSO, and the rest
COLUMNS_HELP = columns_help(REQUIRED_COLUMNS, AGGREGATE_OPTIONAL_COLUMNS)
SOURCE_MAX = AggregateNPSSubmission._meta.get_field("source").max_length
COUNT_MAX = 2_147_483_647  # the largest value a PositiveIntegerField holds on every database
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


@dataclass
class AggregateImportResult:
    practice_submissions: int = 0
    mso_submissions: int = 0
    warnings: list = field(default_factory=list)

    def summary(self):
        total = self.practice_submissions + self.mso_submissions
        return (
            f"{total} self-reported submission{'' if total == 1 else 's'} "
            f"({self.practice_submissions} for practices, {self.mso_submissions} for MSOs)"
        )


@dataclass
class _SubmissionRow:
    line: int
    practice_code: str
    mso: str
    period_start: datetime.date
    period_end: datetime.date
    promoters: int
    passives: int
    detractors: int
    source: str
    practice_id: int | None = None
    mso_id: int | None = None

    def key(self):
        return (self.practice_id, self.mso_id, self.period_start, self.period_end,
                self.promoters, self.passives, self.detractors)  # fmt: skip

    def describe(self):
        whom = f"practice {self.practice_code}" if self.practice_code else f"MSO {self.mso}"
        return (
            f"{whom}, {self.period_start.isoformat()} to {self.period_end.isoformat()}, "
            f"promoters {self.promoters}, passives {self.passives}, detractors {self.detractors}"
        )


def _check_target(line, cell, index, errors):
    code, mso = cell.get("practice", ""), cell.get("mso", "")
    if code and mso:
        errors.append(LineError(line, (
            f"both practice '{code}' and mso '{mso}' are given; a submission is for a practice "
            "or for an MSO, so fill in one of the two"
        )))  # fmt: skip
        return False
    if code or mso:
        return True
    if len([c for c in TARGET_COLUMNS if c in index]) == 2:
        errors.append(
            LineError(line, "practice and mso are both empty; give a practice code or an MSO")
        )
    elif "practice" in index:
        errors.append(LineError(line, "the practice code is missing", "practice"))
    else:
        errors.append(LineError(line, "the MSO is missing (give its name or slug)", "mso"))
    return False


def _check_dates(line, cell, errors, today):
    dates = {}
    for name in ("period_start", "period_end"):
        text = cell[name]
        dates[name] = None
        if not text:
            errors.append(LineError(line, "the date is missing", name))
            continue
        try:
            dates[name] = parse_date(text)
        except ValueError:
            errors.append(LineError(line, not_a_date_message(text), name))
    start, end = dates["period_start"], dates["period_end"]
    if start is None or end is None:
        return None, None
    if end < start:
        errors.append(
            LineError(
                line, f"{end.isoformat()} is before period_start {start.isoformat()}", "period_end"
            )
        )
        return None, None
    if end > today:
        errors.append(LineError(line, f"{end.isoformat()} is in the future", "period_end"))
        return None, None
    if out_of_range := day_out_of_range(start):
        errors.append(LineError(line, out_of_range, "period_start"))
        return None, None
    return start, end


def _check_counts(line, cell, errors):
    counts = {}
    for name in COUNT_COLUMNS:
        text = cell[name]
        counts[name] = None
        if not text:
            errors.append(LineError(line, "the count is missing", name))
        elif not WHOLE_NUMBER.fullmatch(text):
            errors.append(LineError(line, f"'{text}' is not a whole number", name))
        elif text.startswith("-") and text.strip("-0"):
            errors.append(LineError(line, f"{text} is negative; counts start at 0", name))
        elif len(text.lstrip("+0")) > len(str(COUNT_MAX)) or int(text) > COUNT_MAX:
            errors.append(LineError(line, f"{text} is too large (at most {COUNT_MAX})", name))
        else:
            counts[name] = int(text)
    if any(value is None for value in counts.values()):
        return None
    if not any(counts.values()):
        errors.append(LineError(line, (
            "promoters, passives and detractors are all 0; a submission needs at least "
            "one response"
        )))  # fmt: skip
        return None
    return counts


def _read_rows(data, today):
    """Parse and check every row's format; return the rows, the errors and the warnings."""
    header, records, errors = read_csv_file(data, REQUIRED_COLUMNS, AGGREGATE_OPTIONAL_COLUMNS)
    index, rows = header.index, []
    for line, cell in records:
        has_target = _check_target(line, cell, index, errors)
        start, end = _check_dates(line, cell, errors, today)
        counts = _check_counts(line, cell, errors)
        source = cell.get("source", "")
        source_ok = len(source) <= SOURCE_MAX
        if not source_ok:
            errors.append(
                LineError(
                    line, f"{len(source)} characters long; the limit is {SOURCE_MAX}", "source"
                )
            )
        if has_target and start and counts and source_ok:
            rows.append(_SubmissionRow(
                line, cell.get("practice", ""), cell.get("mso", ""), start, end, **counts,
                source=source,
            ))  # fmt: skip
    return rows, errors, header.warnings


def _normal_name(name):
    return " ".join(name.split()).casefold()


def _resolve_targets(rows, errors):
    """Find each row's practice (by code) or MSO (by name, whatever its capitals and spacing,
    or by slug)."""
    codes = {row.practice_code for row in rows if row.practice_code}
    practices = dict(Practice.objects.filter(code__in=codes).values_list("code", "id"))
    # A few hundred MSOs at most: match names in Python.
    msos = list(MSO.objects.values_list("id", "name", "slug")) if any(r.mso for r in rows) else []
    for row in rows:
        if row.practice_code:
            row.practice_id = practices.get(row.practice_code)
            if row.practice_id is None:
                errors.append(
                    LineError(row.line, f"unknown practice code '{row.practice_code}'", "practice")
                )
            continue
        wanted = _normal_name(row.mso)
        found = sorted({(name, pk) for pk, name, slug in msos
                        if _normal_name(name) == wanted or slug == row.mso.lower()})  # fmt: skip
        if len(found) == 1:
            row.mso_id = found[0][1]
        elif not found:
            errors.append(
                LineError(row.line, f"unknown MSO '{row.mso}' (give its name or slug)", "mso")
            )
        else:
            names = " and ".join(f"'{name}'" for name, _ in found)
            errors.append(
                LineError(row.line, f"'{row.mso}' could be the MSO {names}; give its slug", "mso")
            )


def _note_unattributed(rows, warnings):
    """Warn about practice submissions that will count for no MSO: the practice was not with
    one MSO for the whole period (see ``selectors.msos_self_reported_nps``)."""
    ids = {row.practice_id for row in rows if row.practice_id}
    spans = {}
    for practice_id, start, end in Affiliation.objects.filter(practice_id__in=ids).values_list(
        "practice_id", "started_on", "ended_on"
    ):
        spans.setdefault(practice_id, []).append((start, end or datetime.date.max))
    for row in rows:
        if row.practice_id and not any(
            start <= row.period_start and row.period_end <= end
            for start, end in spans.get(row.practice_id, ())
        ):
            warnings.append(
                f"line {row.line}: practice {row.practice_code} was not with one MSO from "
                f"{row.period_start.isoformat()} to {row.period_end.isoformat()}, so this "
                "submission counts for the practice but for no MSO"
            )


def _lock_targets(rows):
    """Lock the practices and MSOs the file is about until it is written, so that two imports
    of the same file cannot both pass the duplicate check (PostgreSQL; SQLite writes one
    transaction at a time)."""
    for model, ids in ((Practice, {r.practice_id for r in rows if r.practice_id}),
                       (MSO, {r.mso_id for r in rows if r.mso_id})):  # fmt: skip
        if ids:
            list(model.objects.select_for_update(no_key=True).filter(pk__in=ids)
                 .order_by("pk").values_list("pk"))  # fmt: skip


def _check_duplicates(rows, errors):
    """Refuse a submission given twice in the file, or already stored."""
    targets = Q(practice_id__in={r.practice_id for r in rows if r.practice_id}) | Q(
        mso_id__in={r.mso_id for r in rows if r.mso_id}
    )
    stored = {}
    for sub in AggregateNPSSubmission.objects.filter(
        targets, period_start__in={r.period_start for r in rows}
    ).order_by("submitted_at", "pk"):
        key = (sub.practice_id, sub.mso_id, sub.period_start, sub.period_end,
               sub.promoters, sub.passives, sub.detractors)  # fmt: skip
        stored.setdefault(key, sub)
    seen = {}
    for row in rows:
        if row.practice_id is None and row.mso_id is None:
            continue  # unknown target, already reported
        key = row.key()
        earlier = seen.setdefault(key, row)
        if earlier is not row:
            errors.append(LineError(row.line, (
                f"the submission ({row.describe()}) is already on line {earlier.line}; "
                "give each submission once"
            )))  # fmt: skip
        elif key in stored:
            sub = stored[key]
            when = timezone.localtime(sub.submitted_at).strftime("%Y-%m-%d")
            errors.append(LineError(row.line, (
                f"the submission ({row.describe()}) was already imported on {when}; "
                "it is not imported twice"
            )))  # fmt: skip


def aggregates_import(*, data: bytes, dry_run: bool = False) -> AggregateImportResult:
    """Import self-reported NPS submissions from a CSV file; all or nothing.

    Raises ImportRefused, with every error, when any line is bad; nothing is written then.
    With ``dry_run`` everything is checked and counted, then rolled back.
    """
    rows, errors, warnings = _read_rows(data, timezone.localdate())
    with transaction.atomic():
        _resolve_targets(rows, errors)
        _lock_targets(rows)
        _check_duplicates(rows, errors)
        if errors:
            errors.sort(key=lambda e: e.line)
            raise ImportRefused(errors)
        _note_unattributed(rows, warnings)
        AggregateNPSSubmission.objects.bulk_create(
            AggregateNPSSubmission(
                practice_id=row.practice_id, mso_id=row.mso_id,
                period_start=row.period_start, period_end=row.period_end,
                promoters=row.promoters, passives=row.passives, detractors=row.detractors,
                provenance=NPSProvenance.SELF_REPORTED, source=row.source,
            )
            for row in rows
        )  # fmt: skip
        result = AggregateImportResult(
            practice_submissions=sum(1 for row in rows if row.practice_id),
            mso_submissions=sum(1 for row in rows if row.mso_id),
            warnings=warnings,
        )
        transaction.set_rollback(dry_run)
    return result
