"""Work on the evidence that spans models or has side effects."""

import csv
import datetime
import io
import logging
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.files.move import file_move_safe
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    MSO,
    US_STATE_CODES,
    Affiliation,
    Job,
    JobStatus,
    Practice,
    SurveyImport,
)
from .rollups import rollups_rebuild_practices

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
_MAX_LENGTHS = {
    "mso": MSO._meta.get_field("name").max_length,
    "practice_code": Practice._meta.get_field("code").max_length,
    "practice_name": Practice._meta.get_field("name").max_length,
    "city": Practice._meta.get_field("city").max_length,
}


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
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(
            [LineError(1, "the file is UTF-16 text; save it as CSV UTF-8 and try again")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused(
            [
                LineError(
                    line,
                    f"byte 0x{data[exc.start]:02x} is not UTF-8 text; "
                    "save the file as CSV UTF-8 and try again",
                )
            ]
        ) from None


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


def csv_records(text):
    """Yield (line, values) for each non-blank record; ``line`` is where the record starts."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for values in reader:
            if any(v.strip() for v in values):
                yield line, values
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportRefused([LineError(line, f"this is not valid CSV ({exc})")]) from None


def _read_header(records):
    first = next(records, None)
    if first is None:
        raise ImportRefused([LineError(0, "The file is empty.")])
    line, names = first
    header = [name.strip().lower() for name in names]
    errors = []
    missing = [c for c in PRACTICE_COLUMNS if c not in header]
    if missing:
        errors.append(LineError(line, (
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"the first line must name the columns {', '.join(PRACTICE_COLUMNS)} "
            f"and optionally {', '.join(PRACTICE_OPTIONAL_COLUMNS)}"
        )))  # fmt: skip
    for name in sorted({n for n in header if n and header.count(n) > 1}):
        errors.append(LineError(line, f"column {name} appears more than once"))
    if errors:
        raise ImportRefused(errors)
    index = {
        name: header.index(name)
        for name in (*PRACTICE_COLUMNS, *PRACTICE_OPTIONAL_COLUMNS)
        if name in header
    }
    warnings = [
        f"column {name} is not used and was ignored" if name
        else f"column {position} has no name and was ignored"
        for position, name in enumerate(header, start=1)
        if name not in index
    ]  # fmt: skip
    return len(header), index, warnings


def csv_width_error(line, values, width):
    """The error for a record with more or fewer fields than the header, with a likely cause."""
    if any("\n" in v for v in values):
        hint = " (a double quote on this line is not closed)"
    elif len(values) > width:
        hint = " (a value that contains a comma must be in double quotes)"
    else:
        hint = ""
    return LineError(line, f"expected {width} fields as in the header, found {len(values)}{hint}")


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
                dates[name] = parse_date(value)
            except ValueError:
                problems.append(f"{name} '{value}' is not a date ({DATE_FORMATS_HELP})")
    since, until = dates["affiliated_since"], dates["affiliated_until"]
    if since and until and until < since:
        problems.append(
            f"affiliated_until {until.isoformat()} is before affiliated_since {since.isoformat()}"
        )
    return problems, since, until


def _read_practice_rows(text):
    """Parse and check every row; return the rows, the errors (all of them) and warnings."""
    records = csv_records(text)
    width, index, warnings = _read_header(records)
    rows, errors = [], []
    for line, values in records:
        if len(values) != width:
            errors.append(csv_width_error(line, values, width))
            continue
        cell = {name: values[i].strip() for name, i in index.items()}
        problems, since, until = _check_cells(cell)
        if problems:
            errors.extend(LineError(line, message) for message in problems)
            continue
        rows.append(_PracticeRow(
            line, cell["mso"], cell["practice_code"], cell["practice_name"], cell["city"],
            cell["state"].upper(), since, until, "affiliated_until" in index,
        ))  # fmt: skip
    if not rows and not errors:
        raise ImportRefused([LineError(0, "The file has a header but no rows.")])
    return rows, errors, warnings


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
    rows, errors, warnings = _read_practice_rows(decode_csv_bytes(data))
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
    Affiliation.objects.bulk_create(new)
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


# --- Staged uploads ----------------------------------------------------------------------
# A file checked in a preview waits here until the data admin confirms the import.

_UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_EXPIRED = "That upload has expired; please upload the file again."
UPLOAD_CHUNK = 1 << 20


def _upload_path(token):
    if not _UPLOAD_TOKEN.match(token or ""):
        raise FileNotFoundError("unknown upload")
    return Path(settings.MEDIA_ROOT) / "uploads" / f"{token}.csv"


UPLOAD_MAX_AGE = datetime.timedelta(days=1)


def _upload_folder_ready(folder):
    folder.mkdir(parents=True, exist_ok=True)
    # Previews that were never confirmed are dropped after a day.
    cutoff = (timezone.now() - UPLOAD_MAX_AGE).timestamp()
    for old in folder.iterdir():
        if old.suffix not in (".csv", ".name", ".part"):
            continue
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        except FileNotFoundError:
            pass  # another process dropped it first


def upload_stage(*, data: bytes) -> str:
    token = secrets.token_hex(16)
    path = _upload_path(token)
    _upload_folder_ready(path.parent)
    path.write_bytes(data)
    return token


def _chunks(fileobj):
    if hasattr(fileobj, "chunks"):
        yield from fileobj.chunks(UPLOAD_CHUNK)
        return
    while chunk := fileobj.read(UPLOAD_CHUNK):
        yield chunk


def upload_stage_file(*, fileobj, file_name: str = "") -> str:
    """Stage an uploaded file, keeping its original name; return its token.

    The file is streamed to disk in chunks, never read whole, so a file of gigabytes costs
    no memory. A file Django has already spooled to a temporary file is moved instead,
    which on the same filesystem copies nothing at all.
    """
    token = secrets.token_hex(16)
    path = _upload_path(token)
    _upload_folder_ready(path.parent)
    partial = path.with_suffix(".part")
    temporary = getattr(fileobj, "temporary_file_path", None)
    if temporary:
        file_move_safe(temporary(), partial)
    else:
        with open(partial, "wb") as out:
            for chunk in _chunks(fileobj):
                out.write(chunk)
    partial.chmod(0o600)  # patients' comments: for the app's own user only
    name = Path(file_name or getattr(fileobj, "name", None) or "upload.csv").name
    path.with_suffix(".name").write_text(name, encoding="utf-8")
    partial.replace(path)  # only a complete file is ever seen under its token
    return token


def upload_read(*, token: str) -> bytes:
    return _upload_path(token).read_bytes()


def upload_open(*, token: str):
    """The staged file as a binary stream; FileNotFoundError once it expired."""
    return _upload_path(token).open("rb")


def upload_exists(*, token: str) -> bool:
    try:
        return _upload_path(token).is_file()
    except FileNotFoundError:
        return False


def upload_file_name(*, token: str) -> str:
    """The name the file had on the data admin's computer."""
    return _upload_path(token).with_suffix(".name").read_text(encoding="utf-8")


def upload_discard(*, token: str):
    path = _upload_path(token)
    path.unlink(missing_ok=True)
    path.with_suffix(".name").unlink(missing_ok=True)


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


def _refusal_lines(exc):
    if hasattr(exc, "report_lines"):
        return exc.report_lines()  # with "... and N more errors." when some were left out
    return [str(e) for e in exc.errors]


class JobError(Exception):
    """An expected failure of a job: its message is what the user sees."""


MAX_ATTEMPTS = 3


def jobs_fail_stale():
    """Mark failed the jobs still 'running' long after any worker would have stopped them.

    A worker that dies as a whole (not just its child process) leaves its job running until
    the broker redelivers the message; the user should not wait that long to learn of it.
    """
    limit = timezone.now() - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    return Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=limit).update(
        status=JobStatus.FAILED, finished_at=timezone.now(),
        error="The worker running this job stopped before it finished; please try again.",
    )  # fmt: skip


def job_execute(*, job_id):
    """Run one job and record how it ended. Returns the job.

    A refused file fails the job with its errors, as text in ``error`` and as
    ``{"errors": [{"line", "column", "message"}], "error_count"}`` in ``result``.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("job %s no longer exists; its message is dropped", job_id)
        return None
    if job.is_finished:
        return job  # delivered twice (e.g. redelivered after a restart): done already
    if job.status == JobStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
        # Redelivered after its worker died MAX_ATTEMPTS times: give up rather than loop.
        job.status, job.finished_at = JobStatus.FAILED, timezone.now()
        job.error = f"The worker stopped {job.attempts} times while running this job."
        job.save(update_fields=["status", "finished_at", "error"])
        return job
    job.status, job.started_at, job.attempts = JobStatus.RUNNING, timezone.now(), job.attempts + 1
    job.save(update_fields=["status", "started_at", "attempts"])
    try:
        job.result = JOB_HANDLERS[job.kind](job) or {}
    except ImportRefused as exc:
        job.status, job.error = JobStatus.FAILED, "\n".join(_refusal_lines(exc))
        job.result = {
            "errors": [asdict(error) for error in exc.errors],
            "error_count": getattr(exc, "error_count", len(exc.errors)),
        }
    except JobError as exc:
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


class JobProgress:
    """Records a job's progress: first the share of ``total`` bytes read, up to ``read_share``
    percent, then the stages of the work that follows the reading (see ``stage``).

    Reading writes at most every 2 points or every half second, so a gigabyte file costs a few
    dozen small updates. The survey import reads its file before its transaction begins, so
    each of these writes is seen at once.
    """

    def __init__(self, job_id, *, total, read_share=99, clock=time.monotonic):
        self.job_id, self.total, self.clock = job_id, max(total, 1), clock
        self.read_share = read_share
        self.percent, self.written_at = 0, clock()

    def __call__(self, done):
        percent = min(self.read_share, round(done * self.read_share / self.total))
        now = self.clock()
        if percent <= self.percent:
            return
        if percent - self.percent < 2 and now - self.written_at < 0.5:
            return
        self.percent, self.written_at = percent, now
        Job.objects.filter(pk=self.job_id).update(progress=percent)

    def stage(self, message, percent_after_reading):
        """A stage of the work after the reading begins, while the import's transaction is
        open: written through a connection of its own, so that the page sees it at once.
        SQLite allows one writer at a time, so there the stages are not shown (the reading
        then counts up to 99%)."""
        if connection.vendor != "postgresql":
            return
        percent = self.read_share + (99 - self.read_share) * percent_after_reading // 100
        self.percent = max(self.percent, percent)
        own = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with own.cursor() as cursor:
                cursor.execute(
                    "UPDATE partners_job SET progress = %s, message = %s WHERE id = %s",
                    [self.percent, message[:300], self.job_id],
                )
        finally:
            own.close()

    @staticmethod
    def read_share_for(*, dry_run):
        """How much of the bar the reading fills: where the stages after it are shown (only on
        PostgreSQL), the reading is most of a check but a fifth of an import."""
        if connection.vendor != "postgresql":
            return 99
        return 70 if dry_run else 20


def survey_report_as_json(report):
    """A SurveyImportReport as JSON for ``Job.result``: dates as ISO strings."""
    data = asdict(report)
    for name in ("first_day", "last_day"):
        data[name] = data[name].isoformat() if data[name] else None
    return {**data, "nps": report.nps, "summary": report.summary()}


def _run_survey_file(job, *, dry_run):
    """Check (preview) or import the staged survey file of the job's payload.

    The payload is ``{"upload": token, "file_name", "source", "user_id"}``: never the
    file's contents, which hold patients' comments.
    """
    from django.contrib.auth import get_user_model

    # survey_import imports this module: import it only when a job runs.
    from .survey_import import surveys_import

    payload = job.payload
    user = get_user_model().objects.filter(pk=payload.get("user_id")).first()
    try:
        stream = upload_open(token=payload["upload"])
    except FileNotFoundError:
        raise ImportRefused([LineError(0, UPLOAD_EXPIRED)]) from None
    job_progress(job, percent=0, message="Reading the file")
    progress = JobProgress(job.pk, total=os.fstat(stream.fileno()).st_size,
                           read_share=JobProgress.read_share_for(dry_run=dry_run))  # fmt: skip
    keep = False
    try:
        with stream:
            report = surveys_import(
                stream=stream, file_name=payload["file_name"], source=payload["source"],
                user=user, dry_run=dry_run, progress=progress, on_stage=progress.stage,
            )  # fmt: skip
        keep = dry_run  # a file that passed its check waits for the confirmation
    finally:
        if not keep:
            # Imported (confirming twice cannot import twice) or refused (it must be
            # uploaded again): either way the patients' comments leave the disk now.
            upload_discard(token=payload["upload"])
    return survey_report_as_json(report)


def _run_survey_preview(job):
    return _run_survey_file(job, dry_run=True)


def _run_survey_import(job):
    return _run_survey_file(job, dry_run=False)


def _run_survey_undo(job):
    """Undo the imports of the payload ``{"imports": [id, ...]}``, each in its own transaction,
    so that the page shows which one is being undone. An import undone meanwhile (by another
    job or the command) is listed as missing; the others are still undone."""
    from .survey_import import survey_import_undo

    ids = job.payload["imports"]
    undone, missing = [], []
    for done, pk in enumerate(ids):
        job_progress(job, percent=done * 100 // len(ids),
                     message=f"Undoing import #{pk} ({done + 1} of {len(ids)})")  # fmt: skip
        try:
            undone.append(asdict(survey_import_undo(survey_import_id=pk)))
        except SurveyImport.DoesNotExist:
            missing.append(pk)
        except Exception as exc:
            if not undone:
                raise
            # The failed import was rolled back; the ones before it stay undone: say which.
            logger.exception("undo of import %s failed", pk)
            done_ids = ", ".join(f"#{u['survey_import_id']}" for u in undone)
            raise JobError(f"undoing import #{pk} failed ({exc.__class__.__name__}); "
                           f"{done_ids} had been undone before it") from exc  # fmt: skip
    return {"undone": undone, "missing": missing}


JOB_HANDLERS = {
    "import_practices": _run_practices_import,
    "survey_preview": _run_survey_preview,
    "survey_import": _run_survey_import,
    "survey_undo": _run_survey_undo,
}
