"""Work on the evidence that spans models or has side effects."""

import csv
import datetime
import io
import logging
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    MSO,
    US_STATE_CODES,
    Affiliation,
    Job,
    JobStatus,
    Practice,
)

logger = logging.getLogger(__name__)

# Role names are also group names.
SURGEON = "Surgeon"
CONSULTANT = "Consultant"
DATA_ADMIN = "Data admin"
ROLES = (SURGEON, CONSULTANT, DATA_ADMIN)


def roles_sync(*, using="default"):
    """Create the role groups; data admins may change everything in the evidence apps."""
    groups = {name: Group.objects.using(using).get_or_create(name=name)[0] for name in ROLES}
    perms = Permission.objects.using(using).filter(
        content_type__app_label__in=["partners", "scorecards"]
    )
    groups[DATA_ADMIN].permissions.set(perms)
    return groups


def user_has_role(user, role):
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=role).exists()


# --- Dates as data admins write them -------------------------------------------------

DATE_FORMATS_HELP = "use YYYY-MM-DD or M/D/YYYY"


def parse_date(text):
    """Parse YYYY-MM-DD or M/D/YYYY; raise ValueError otherwise."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(text)


# --- Practice import -------------------------------------------------------------------

PRACTICE_COLUMNS = ("mso", "practice_code", "practice_name", "city", "state", "affiliated_since")
PRACTICE_OPTIONAL_COLUMNS = ("affiliated_until",)


@dataclass
class LineError:
    line: int
    message: str

    def __str__(self):
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportRefused(Exception):
    """The file was refused as a whole; nothing was written."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


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


def decode_csv_bytes(data):
    """Decode UTF-8 (with or without BOM); a bad byte is reported with its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused(
            [LineError(line, f"byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8")]
        ) from None


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


def _read_practice_rows(text):
    """Parse and check every row; return the rows and the errors (all of them)."""
    if not text.strip():
        raise ImportRefused([LineError(0, "The file is empty.")])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader)]
    missing = [c for c in PRACTICE_COLUMNS if c not in header]
    if missing:
        names = ", ".join(missing)
        raise ImportRefused([LineError(1, f"missing column {names}; the header must name "
                                          f"{', '.join(PRACTICE_COLUMNS)}")])
    index = {name: header.index(name) for name in (*PRACTICE_COLUMNS, *PRACTICE_OPTIONAL_COLUMNS)
             if name in header}
    warnings = [
        f"column {name} is not used and was ignored"
        for name in header
        if name not in index
    ]
    rows, errors = [], []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            errors.append(LineError(line, f"expected {len(header)} fields, found {len(values)}"))
            continue
        cell = {name: values[i].strip() for name, i in index.items()}
        row_errors = []
        for name in ("mso", "practice_code", "practice_name"):
            if not cell[name]:
                row_errors.append(f"{name} is empty")
        state = cell["state"].upper()
        if state not in US_STATE_CODES:
            row_errors.append(f"state '{cell['state']}' is not a US state code")
        dates = {}
        for name, required in (("affiliated_since", True), ("affiliated_until", False)):
            value = cell.get(name, "")
            dates[name] = None
            if not value:
                if required:
                    row_errors.append(f"{name} is empty")
                continue
            try:
                dates[name] = parse_date(value)
            except ValueError:
                row_errors.append(f"{name} '{value}' is not a date ({DATE_FORMATS_HELP})")
        since, until = dates.get("affiliated_since"), dates.get("affiliated_until")
        if since and until and until < since:
            row_errors.append("affiliated_until is before affiliated_since")
        if row_errors:
            errors.extend(LineError(line, message) for message in row_errors)
            continue
        rows.append(
            _PracticeRow(line, cell["mso"], cell["practice_code"], cell["practice_name"],
                         cell["city"], state, since, until)
        )
    if not rows and not errors:
        raise ImportRefused([LineError(0, "The file has a header but no rows.")])
    return rows, errors, warnings


def _check_practice_details(rows, errors):
    first_seen = {}
    for row in rows:
        details = (row.name, row.city, row.state)
        seen = first_seen.setdefault(row.code, (row.line, details))
        if seen[1] != details:
            errors.append(LineError(
                row.line,
                f"practice {row.code} has other details here than on line {seen[0]} "
                "(name, city and state must agree)",
            ))


def _overlaps(a_start, a_end, b_start, b_end):
    return a_start <= (b_end or datetime.date.max) and b_start <= (a_end or datetime.date.max)


def practices_import(*, data: bytes) -> PracticeImportResult:
    """Create or update MSOs, practices and affiliations from a CSV file.

    The whole file is checked first; any error refuses it and nothing is written.
    An affiliation is identified by practice, MSO and start date: a row that
    repeats one updates its end date.
    """
    rows, errors, warnings = _read_practice_rows(decode_csv_bytes(data))
    _check_practice_details(rows, errors)

    codes = {row.code for row in rows}
    existing_practices = Practice.objects.in_bulk(codes, field_name="code")
    existing = {}
    for aff in Affiliation.objects.filter(practice__code__in=codes).select_related(
        "practice", "mso"
    ):
        existing[(aff.practice.code, aff.mso.name, aff.started_on)] = aff

    # The affiliations each practice will have once the file is applied.
    planned = {}  # (code, mso name, since) -> (until, line or None)
    for key, aff in existing.items():
        planned[key] = (aff.ended_on, None)
    for row in rows:
        key = (row.code, row.mso, row.since)
        earlier = planned.get(key)
        if earlier and earlier[1] is not None:
            errors.append(LineError(row.line, f"repeats the affiliation on line {earlier[1]}"))
            continue
        planned[key] = (row.until, row.line)
    by_practice = {}
    for (code, mso, since), (until, line) in planned.items():
        by_practice.setdefault(code, []).append((since, until, mso, line))
    for code, spans in by_practice.items():
        spans.sort(key=lambda s: s[0])
        for (s1, u1, m1, l1), (s2, u2, m2, l2) in zip(spans, spans[1:]):
            if _overlaps(s1, u1, s2, u2):
                line = l2 or l1
                other = f"line {l1}" if l1 and l2 else "the affiliation already stored"
                until = u1.isoformat() if u1 else "now"
                errors.append(LineError(
                    line,
                    f"practice {code} would be affiliated with {m2} from {s2.isoformat()} while "
                    f"still affiliated with {m1} ({s1.isoformat()} to {until}, {other}); "
                    "a practice belongs to at most one MSO at a time",
                ))

    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportRefused(errors)

    result = PracticeImportResult(warnings=warnings)
    with transaction.atomic():
        msos = {m.name: m for m in MSO.objects.filter(name__in={r.mso for r in rows})}
        for name in sorted({r.mso for r in rows} - msos.keys()):
            msos[name] = MSO.objects.create(name=name, slug=_unique_slug(name))
            result.msos_created += 1
        practices = dict(existing_practices)
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
        # Shorten before extending, so the database never sees an overlap mid-way.
        updates = []
        for row in rows:
            aff = existing.get((row.code, row.mso, row.since))
            if aff and aff.ended_on != row.until:
                shortens = row.until is not None and (aff.ended_on is None or row.until < aff.ended_on)
                aff.ended_on = row.until
                updates.append((not shortens, aff))
        for _, aff in sorted(updates, key=lambda u: u[0]):
            aff.save(update_fields=["ended_on"])
        result.affiliations_updated = len(updates)
        new = [
            Affiliation(practice=practices[r.code], mso=msos[r.mso], started_on=r.since,
                        ended_on=r.until)
            for r in rows
            if (r.code, r.mso, r.since) not in existing
        ]
        Affiliation.objects.bulk_create(new)
        result.affiliations_created = len(new)
    return result


def _unique_slug(name):
    base = slugify(name)[:190] or "mso"
    slug, n = base, 2
    while MSO.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- Jobs ------------------------------------------------------------------------------


def job_enqueue(*, kind, payload=None, user=None):
    """Create the job's row and queue its task once the transaction commits."""
    from .tasks import job_run

    if kind not in JOB_HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(kind=kind, payload=payload or {}, created_by=user)
    job_run.delay_on_commit(job.pk)
    return job


def job_progress(job, *, percent, message=""):
    Job.objects.filter(pk=job.pk).update(progress=percent, message=message[:300])


def job_execute(*, job_id):
    """Run one job and record how it ended. Returns the job."""
    from celery.exceptions import SoftTimeLimitExceeded

    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job  # delivered twice (e.g. redelivered after a restart): done already
    job.status, job.started_at, job.attempts = JobStatus.RUNNING, timezone.now(), job.attempts + 1
    job.save(update_fields=["status", "started_at", "attempts"])
    try:
        job.result = JOB_HANDLERS[job.kind](job) or {}
    except ImportRefused as exc:
        job.status, job.error = JobStatus.FAILED, str(exc)
    except SoftTimeLimitExceeded:
        job.status, job.error = JobStatus.FAILED, "The job took too long and was stopped."
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        job.status, job.error = JobStatus.FAILED, f"Unexpected error: {exc.__class__.__name__}"
    else:
        job.status, job.progress = JobStatus.SUCCEEDED, 100
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "progress", "error", "result", "finished_at"])
    return job


def _run_practices_import(job):
    result = practices_import(data=job.payload["csv"].encode())
    return {"summary": result.summary(), "warnings": result.warnings}


JOB_HANDLERS = {
    "import_practices": _run_practices_import,
}
