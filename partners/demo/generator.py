"""The demo data generator: scales, planning, and writing the invented rows to the database.

Everything is made up. MSO, town and practice names are invented words, so that
no real company or practice is shown with invented figures.

Determinism: the same scale, seed and as-of date give the same rows (auto ids and
created/updated timestamps aside). Each part of the data draws from its own
``random.Random("<seed>:<part>")`` (string seeds hash the same in every process),
so that a change in how, say, interviews are drawn leaves the responses alone.
Nothing reads the clock: the data ends at the as-of date. Survey responses cover
the six years before it (ten at the large scale; the as-of day itself excluded),
interviews the three years before it, and affiliations start up to about eight
years before it (two more than the survey years at the large scale).

Responses are written a million at a time, each million recorded as one survey import,
so the demo data has an import history that can be undone like any other. On SQLite
(tests, `make run`) they go through the survey import itself, as CSV streamed from the
generator (``import_responses``). On PostgreSQL they are COPYed straight into the response
table, its indexes and foreign keys rebuilt afterwards, and the rollups rebuilt once
(``copy_responses``): at the large scale that takes about 2 to 3 minutes where ten survey
imports took 7.5, most of it spent checking foreign keys row by row at the commit.
"""

import calendar
import collections
import contextlib
import dataclasses
import datetime
import functools
import hashlib
import itertools
import random
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.text import slugify

from ..models import (
    MSO,
    US_STATE_CODES,
    Accreditation,
    Affiliation,
    AggregateNPSSubmission,
    Claim,
    InterviewProvenance,
    MsoNpsMonth,
    MSOService,
    NPSProvenance,
    OwnershipModel,
    Practice,
    PracticeNpsMonth,
    PromiseItem,
    PromiseOutcome,
    QualityDesignation,
    ReferenceInterview,
    ServiceArea,
    SpecialtyFocus,
    SurveyComment,
    SurveyImport,
    SurveyResponse,
    WouldChooseAgain,
)
from ..rollups import rollups_rebuild_all
from ..surveys.importing import surveys_import
from .profiles import (
    ACCREDITATION_TERMS,
    ADVICE,
    COMMENTS,
    DELIVERED,
    DETRACTOR_SCORES,
    FIRST_NAMES,
    GENERATED_PREFIXES,
    GENERATED_QUALIFIERS,
    GENERATED_TERMS,
    GENERATED_VALUES,
    INTERVIEWERS,
    LAST_NAMES,
    MULTI_SUFFIXES,
    OMS,
    OTHER_SPECIALTIES,
    PASSIVE_SCORES,
    PRACTICE_KINDS,
    PROFILES,
    PROMISE_NOTES,
    PROMISED,
    PROMOTER_SCORES,
    SERVICE_DETAILS,
    SINGLE_SUFFIXES,
    TOWN_ENDS,
    TOWN_STARTS,
    Profile,
)

DAY = datetime.timedelta(days=1)
BATCH_SIZE = 2000
# Responses per survey import, each one SurveyImport: the import streams its file, so
# the size only sets how many imports the history shows (ten at the large scale).
RESPONSE_CHUNK = 1_000_000
RESPONSE_YEARS = 6
SOURCE = "demo"
COMMENT_SHARE = 0.01


@dataclass(frozen=True)
class Scale:
    practices: int
    responses: int
    interviews: int
    extra_msos: int = 0  # generated MSOs on top of the hand-written profiles
    profiles: int = 12  # how many hand-written profiles to use
    years: int = RESPONSE_YEARS  # survey responses cover this many years before as-of


SCALES = {
    "tiny": Scale(practices=30, responses=3_000, interviews=15, profiles=5),
    "demo": Scale(practices=300, responses=150_000, interviews=80),
    "medium": Scale(practices=1_500, responses=1_000_000, interviews=400, extra_msos=28),
    # The scale of the product brief: 300 MSOs, 10,000 practices, 10 million responses
    # over ten years, 5,000 interviews.
    "large": Scale(
        practices=10_000, responses=10_000_000, interviews=5_000, extra_msos=288, years=10
    ),
}


# --- Small helpers ---------------------------------------------------------------------


def add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def add_months(day, months):
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, _month_days(year, month)))


def _month_days(year, month):
    return calendar.monthrange(year, month)[1]


def _clamp(value, low, high):
    return max(low, min(high, value))


def apportion(total, weights):
    """Split ``total`` into whole shares proportional to ``weights`` (largest remainder)."""
    total = max(total, 0)
    weight_sum = sum(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - exact[i])
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _random_day(rng, first, last):
    return first + DAY * rng.randrange((last - first).days + 1)


# --- Planning: plain Python objects, no database ---------------------------------------


@dataclass
class Stint:
    """One affiliation of a practice: ``ended`` is the last day, None while current."""

    mso: int  # index into the profiles
    started: datetime.date
    ended: datetime.date | None
    nps_offset: float  # how this practice does compared with its MSO's profile


@dataclass
class PracticePlan:
    code: str
    name: str
    city: str
    state: str
    surgeons: int
    volume: float  # relative number of survey responses
    stints: list = field(default_factory=list)

    @property
    def current_mso(self):
        last = self.stints[-1] if self.stints else None
        return last.mso if last and last.ended is None else None


def _generated_prefixes(rng, count):
    if count <= len(GENERATED_PREFIXES):
        return rng.sample(GENERATED_PREFIXES, count)
    # Every single word first, then invented two-word names: all distinct, so are the slugs.
    pairs = [f"{word} {second}" for word in GENERATED_PREFIXES for second in GENERATED_QUALIFIERS]
    if count > len(GENERATED_PREFIXES) + len(pairs):
        raise ValueError(f"at most {len(GENERATED_PREFIXES) + len(pairs)} generated MSOs")
    singles = rng.sample(GENERATED_PREFIXES, len(GENERATED_PREFIXES))
    return singles + rng.sample(pairs, count - len(singles))


def generated_profiles(rng, count):
    profiles = []
    for prefix in _generated_prefixes(rng, count):
        multi = rng.random() < 0.4
        specialties = (OMS,)
        if multi:
            specialties += tuple(rng.sample(OTHER_SPECIALTIES, rng.randint(1, 3)))
        start = rng.uniform(20, 75)
        mood = rng.uniform(2.5, 4.3)
        profiles.append(
            Profile(
                name=f"{prefix} {rng.choice(MULTI_SUFFIXES if multi else SINGLE_SUFFIXES)}",
                ownership=rng.choice(OwnershipModel.values),
                specialties=specialties,
                autonomy_terms=rng.choice(GENERATED_TERMS),
                values=rng.choice(GENERATED_VALUES),
                services=rng.randint(3, 11),
                nps=(start, _clamp(start + rng.uniform(-15, 15), -20, 85)),
                size=rng.uniform(0.4, 1.6),
                trust=mood,
                autonomy=_clamp(mood + rng.uniform(-1, 1), 1.5, 4.8),
                accredited=rng.uniform(0.1, 0.5),
                age=rng.randint(9, 25),
                website=rng.random() < 0.7,
            )
        )
    return profiles


def plan_practices(rng, profiles, count, as_of, years=RESPONSE_YEARS):
    """Practices, where they are, and which MSO they belonged to when.

    Affiliations start up to ``history`` years before as-of: eight, or two more than the
    ``years`` of survey responses when those are more than six.
    """
    history = max(8, years + 2)
    regular = [i for i, p in enumerate(profiles) if p.role != "sparse"]
    sparse = [i for i, p in enumerate(profiles) if p.role == "sparse"]
    regions = {
        i: sorted(rng.sample(US_STATE_CODES, rng.randint(2, 6))) for i in range(len(profiles))
    }
    owners = [None] * max(1, round(count * 0.03))  # never affiliated
    owners += [i for i in sparse for _ in range(2)]
    shares = apportion(count - len(owners), [profiles[i].size for i in regular])
    owners += [i for i, share in zip(regular, shares, strict=True) for _ in range(share)]
    rng.shuffle(owners)

    def stint(plan, mso, started, ended=None):
        offset = rng.gauss(0, profiles[mso].spread)
        plan.stints.append(Stint(mso, started, ended, offset))

    plans, founded = [], set()
    for number, owner in enumerate(owners, start=1):
        town = rng.choice(TOWN_STARTS) + rng.choice(TOWN_ENDS)
        plan = PracticePlan(
            code=f"P-{number:05d}",
            name=f"{town} {rng.choice(PRACTICE_KINDS)}",
            city=town,
            state=rng.choice(regions[owner] if owner is not None else US_STATE_CODES),
            surgeons=rng.choices(range(1, 7), weights=[30, 28, 20, 12, 6, 4])[0],
            volume=rng.uniform(0.5, 1.5),
        )
        plans.append(plan)
        if owner is None:
            continue
        profile = profiles[owner]
        if profile.role == "sparse":
            stint(plan, owner, as_of - DAY * rng.randint(300, 800))
            continue
        if owner not in founded:
            # Each MSO's first practice joined before the survey years began,
            # so every MSO has responses in every year.
            founded.add(owner)
            stint(plan, owner, as_of - DAY * rng.randint(years * 365 + 20, history * 365))
            continue
        started = as_of - DAY * rng.randint(60, history * 365)
        days = (as_of - started).days
        roll = rng.random()
        if roll < 0.10 and days > 2 * 365 and len(regular) > 1:
            # Switched MSO: the new affiliation starts the day after the old one ends.
            last_day = started + DAY * rng.randint(365, days - 90)
            stint(plan, owner, started, last_day)
            stint(plan, rng.choice([i for i in regular if i != owner]), last_day + DAY)
        elif roll < 0.13 and days > 2 * 365:
            # Left the MSO and is independent again.
            stint(plan, owner, started, started + DAY * rng.randint(365, days - 30))
        else:
            stint(plan, owner, started)
    return plans


# --- Survey responses ------------------------------------------------------------------


def nps_shares(nps):
    """Promoter and detractor shares that give ``nps``; fewer passives at the extremes."""
    net = _clamp(nps / 100, -0.95, 0.95)
    passives = 0.6 * (1 - abs(net))
    return (1 - passives + net) / 2, (1 - passives - net) / 2


def _month_segments(plans, first, last):
    """(plan, stint, first day, last day) for each month a practice was affiliated."""
    for plan in plans:
        for stint in plan.stints:
            start = max(stint.started, first)
            end = min(stint.ended or last, last)
            month = start.replace(day=1)
            while month <= end:
                month_end = month.replace(day=_month_days(month.year, month.month))
                yield plan, stint, max(start, month), min(end, month_end)
                month = month_end + DAY


def iter_responses(rng, plans, profiles, as_of, target, years=RESPONSE_YEARS):
    """Yield (practice code, ISO day, score, comment or None) over the ``years`` before as_of.

    Responses exist only while a practice was affiliated, with the NPS profile of
    the MSO it belonged to on that day. This is the hot loop of the large scale (ten
    million rows): days come from a table of ISO strings and the draws are inlined,
    in the same order as ever, so a seed gives the same responses as before.
    """
    first, last = add_years(as_of, -years), as_of - DAY
    span = (last - first).days + 1
    # Two passes over the segments instead of a list: over a million at the large scale.
    exposure = sum(
        plan.surgeons * plan.volume * ((end - start).days + 1)
        for plan, stint, start, end in _month_segments(plans, first, last)
        if profiles[stint.mso].role != "sparse"
    )
    # One rate per surgeon-day, chosen so that the total lands near the target.
    rate = target / exposure if exposure else 0
    iso_days = [(first + DAY * i).isoformat() for i in range(span)]
    draw, randrange = rng.random, rng.randrange
    groups = [
        (DETRACTOR_SCORES, len(DETRACTOR_SCORES), COMMENTS["detractor"]),
        (PASSIVE_SCORES, len(PASSIVE_SCORES), COMMENTS["passive"]),
        (PROMOTER_SCORES, len(PROMOTER_SCORES), COMMENTS["promoter"]),
    ]
    for plan, stint, start, end in _month_segments(plans, first, last):
        profile = profiles[stint.mso]
        days = (end - start).days + 1
        if profile.role == "sparse":
            # At most one response a month per practice: 2 practices stay under 30 a year.
            count = int(rng.random() < 0.8 * days / _month_days(start.year, start.month))
        else:
            expected = rate * plan.surgeons * plan.volume * days * rng.uniform(0.8, 1.2)
            count = int(expected + rng.random())  # random rounding keeps the mean
        progress = ((start - first).days + days / 2) / span
        nps = profile.nps[0] + (profile.nps[1] - profile.nps[0]) * progress + stint.nps_offset
        promoters, detractors = nps_shares(nps)
        passive_below = 1 - promoters
        code, offset = plan.code, (start - first).days
        for _ in range(count):
            day = iso_days[offset + randrange(days)]
            roll = draw()
            scores, size, comments = groups[
                0 if roll < detractors else 1 if roll < passive_below else 2
            ]
            score = scores[randrange(size)]
            comment = None
            if draw() < COMMENT_SHARE:
                comment = rng.choice(comments)
            yield code, day, score, comment


@functools.cache
def _csv_quoted(text):
    return '"' + text.replace('"', '""') + '"'


class _CsvStream:
    """A survey export as a binary stream with ``read(size)``, the only method the import
    calls, made from response rows as it is read: nothing but the block read is held.
    ``comments`` counts the rows with a comment read so far."""

    HEADER = b"practice,responded_on,score,comment\n"

    def __init__(self, rows):
        self.rows, self.rest, self.comments = rows, self.HEADER, 0

    def _block(self, count=5000):
        lines = []
        for code, day, score, comment in itertools.islice(self.rows, count):
            if comment is None:
                lines.append(f"{code},{day},{score},\n")
            else:
                self.comments += 1
                lines.append(f"{code},{day},{score},{_csv_quoted(comment)}\n")
        return "".join(lines).encode()

    def read(self, size=-1):
        parts, have = [self.rest], len(self.rest)
        while size is None or size < 0 or have < size:
            block = self._block()
            if not block:
                break
            parts.append(block)
            have += len(block)
        data = b"".join(parts)
        size = len(data) if size is None or size < 0 else size
        self.rest = data[size:]
        return data[:size]


def import_responses(rows, chunk=RESPONSE_CHUNK):
    """Feed the rows to the survey import, ``chunk`` rows per import; return the counts.

    Each import checks its file, stages it (COPY on PostgreSQL), inserts the responses and
    comments with INSERT ... SELECT and updates the rollups, as for any uploaded file.
    """
    rows = iter(rows)
    responses = comments = 0
    for number in itertools.count(1):
        first = next(rows, None)
        if first is None:
            break
        stream = _CsvStream(itertools.chain([first], itertools.islice(rows, chunk - 1)))
        report = surveys_import(
            stream=stream, file_name=f"demo-responses-{number:02d}.csv", source=SOURCE
        )
        responses += report.imported
        comments += stream.comments
    return responses, comments


RESPONSE_TABLE = SurveyResponse._meta.db_table
RESPONSE_COLUMNS = "practice_id, responded_on, score, source, survey_import_id, line"


@contextlib.contextmanager
def _bulk_load(table):
    """PostgreSQL, inside a transaction: drop the table's secondary indexes and foreign keys
    for a bulk load, and recreate them from their stored definitions afterwards (if the load
    fails, rolling the transaction back restores them).

    Building an index once, by sorting, is several times cheaper than maintaining it row by
    row; re-adding a foreign key checks every row with one join, where Django's deferred
    constraints would queue one check per row and run them one by one at the commit.
    """
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        """, [table])  # fmt: skip
        # A partitioned table's index is shown "ON ONLY" the parent: recreated so, it would
        # stay invalid, without its partitions' indexes.
        indexes = [(name, definition.replace(" ON ONLY ", " ON ", 1))
                   for name, definition in cursor.fetchall()]  # fmt: skip
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        foreign_keys = cursor.fetchall()
        _ddl(cursor, [f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' for name, _ in foreign_keys]
               + [f'DROP INDEX "{name}"' for name, _ in indexes])  # fmt: skip
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")  # sorts for the indexes
        _ddl(cursor, [definition for _, definition in indexes]
               + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                  for name, definition in foreign_keys])  # fmt: skip


def _ddl(cursor, statements):
    # ALTER TABLE and TRUNCATE refuse a table with deferred checks still pending (rows were
    # inserted in this transaction): run the checks first, then defer again, Django's default.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for statement in statements:
        cursor.execute(statement)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def copy_responses(rows, practice_ids, chunk=RESPONSE_CHUNK):
    """PostgreSQL: COPY the rows straight into the response table; return the counts.

    Each chunk is recorded as a survey import, with its rows' lines, as if it had come from
    a file: the history shows it and it can be undone. The caller rebuilds the rollups.
    """
    table = RESPONSE_TABLE
    rows = iter(rows)
    responses = 0
    # A transaction of its own (a savepoint under seed_demo's): the temporary table and
    # the dropped indexes must not outlive it.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE demo_comment (survey_import_id bigint, line integer, text text)"
        )
        with _bulk_load(table):
            for number in itertools.count(1):
                first = next(rows, None)
                if first is None:
                    break
                survey_import = SurveyImport.objects.create(
                    source=SOURCE, file_name=f"demo-responses-{number:02d}.csv"
                )
                chunk_rows = itertools.chain([first], itertools.islice(rows, chunk - 1))
                count, checksum = _copy_chunk(cursor, survey_import.pk, chunk_rows, practice_ids)
                SurveyImport.objects.filter(pk=survey_import.pk).update(
                    rows=count, checksum=checksum
                )
                responses += count
        # After the indexes are back: one probe of (survey_import, line) per comment. A join
        # would leave the plan to a guess of how many rows a brand-new import id has.
        cursor.execute(f"""
            INSERT INTO {SurveyComment._meta.db_table} (response_id, text)
            SELECT (SELECT r.id FROM {table} r
                    WHERE r.survey_import_id = c.survey_import_id AND r.line = c.line), c.text
            FROM demo_comment c
        """)  # fmt: skip
        comments = max(cursor.rowcount, 0)
        cursor.execute("DROP TABLE demo_comment")
    return responses, comments


def _copy_chunk(cursor, survey_import_id, rows, practice_ids):
    """COPY one chunk of responses, their comments into demo_comment; return (rows, SHA-256)."""
    sha256, notes, lines, line = hashlib.sha256(), [], [], 1
    suffix = f"\t{SOURCE}\t{survey_import_id}\t"
    with cursor.cursor.copy(f"COPY {RESPONSE_TABLE} ({RESPONSE_COLUMNS}) FROM STDIN") as copy:
        for code, day, score, comment in rows:
            line += 1  # as in a file: the header is line 1
            lines.append(f"{practice_ids[code]}\t{day}\t{score}{suffix}{line}\n")
            if comment is not None:
                notes.append((survey_import_id, line, comment))
            if len(lines) == 5000:
                block = "".join(lines).encode()
                sha256.update(block)
                copy.write(block)
                lines.clear()
        block = "".join(lines).encode()
        sha256.update(block)
        copy.write(block)
    with cursor.cursor.copy("COPY demo_comment (survey_import_id, line, text) FROM STDIN") as copy:
        for note in notes:
            copy.write_row(note)
    return line - 1, sha256.hexdigest()


# --- Interviews ------------------------------------------------------------------------


def _stints_by_mso(plans):
    """{MSO index: [(plan, stint), ...]} in plan order: one pass, not one per MSO."""
    by_mso = collections.defaultdict(list)
    for plan in plans:
        for s in plan.stints:
            by_mso[s.mso].append((plan, s))
    return by_mso


def _interview_counts(profiles, by_mso, total):
    fixed = {"sparse": 1, "few_interviews": 2}
    counts = [fixed.get(p.role) for p in profiles]
    open_msos = [i for i, c in enumerate(counts) if c is None]
    stints = [len(by_mso[i]) for i in open_msos]
    # At least 3 each, the rest by number of practices.
    rest = total - sum(c for c in counts if c) - 3 * len(open_msos)
    for i, share in zip(open_msos, apportion(rest, [n or 1 for n in stints]), strict=True):
        counts[i] = 3 + share
    return counts


def plan_interviews(rng, profiles, plans, total, as_of):
    """(MSO index, practice code, unsaved interview, promise ledger) tuples.

    Interviews fall in the three years before as_of, with a partner of a practice
    that was affiliated with the MSO on that day.
    """
    first, last = add_years(as_of, -3), as_of - DAY
    used_names = set()
    # Names are unique; beyond the first x last names (784) they need a middle initial.
    initials = total > len(FIRST_NAMES) * len(LAST_NAMES)

    def draw_name():
        if initials:
            initial = chr(ord("A") + rng.randrange(26))
            return f"Dr. {rng.choice(FIRST_NAMES)} {initial}. {rng.choice(LAST_NAMES)}"
        return f"Dr. {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    by_mso = _stints_by_mso(plans)
    interviews = []
    for mso, count in enumerate(_interview_counts(profiles, by_mso, total)):
        profile = profiles[mso]
        candidates = [
            (plan, s)
            for plan, s in by_mso[mso]
            if s.started <= last and (s.ended or last) >= first
        ]
        for _ in range(count):
            name = draw_name()
            while name in used_names:
                name = draw_name()
            used_names.add(name)
            if candidates:
                plan, stint = rng.choice(candidates)
                day = _random_day(rng, max(first, stint.started), min(last, stint.ended or last))
                code, years = plan.code, (day - stint.started).days // 365
            else:
                code, day, years = None, _random_day(rng, first, last), rng.randint(1, 8)
            # References the MSO picks itself tend to be its happiest partners.
            supplied = rng.random() < 0.4
            mood = profile.trust + (0.6 if supplied else 0) + rng.gauss(0, 0.7)
            autonomy = profile.autonomy + (0.4 if supplied else 0) + rng.gauss(0, 0.6)
            again = mood + rng.gauss(0, 0.4)
            if again > 3.5:
                would_choose_again = WouldChooseAgain.YES
            elif again < 2.5:
                would_choose_again = WouldChooseAgain.NO
            else:
                would_choose_again = WouldChooseAgain.UNSURE
            tone = "good" if mood >= 3.6 else "mixed" if mood >= 2.6 else "poor"
            interview = ReferenceInterview(
                interviewee=name,
                years_affiliated=years,
                provenance=InterviewProvenance.MSO_SUPPLIED
                if supplied
                else InterviewProvenance.INDEPENDENT,
                consent_to_quote=rng.random() < 0.55,
                interviewer=rng.choice(INTERVIEWERS),
                interviewed_on=day,
                promised=" ".join(rng.sample(PROMISED, 2)),
                delivered=" ".join(rng.sample(DELIVERED[tone], 2)),
                trust=_clamp(round(mood), 1, 5),
                would_choose_again=would_choose_again,
                advice=rng.choice(ADVICE),
                autonomy=_clamp(round(autonomy), 1, 5),
            )
            # The promise ledger: happier partners saw more promises kept.
            keep = _clamp((mood - 1) / 4, 0.05, 0.95)
            ledger = []
            for area in rng.sample(ServiceArea.values, rng.randint(2, 6)):
                roll = rng.random()
                if roll < keep:
                    outcome = PromiseOutcome.KEPT
                elif roll < keep + (1 - keep) / 2:
                    outcome = PromiseOutcome.PARTLY
                else:
                    outcome = PromiseOutcome.BROKEN
                ledger.append((area, outcome, rng.choice(PROMISE_NOTES[outcome])))
            interviews.append((mso, code, interview, ledger))
    return interviews


# --- Accreditations and quality designations -------------------------------------------


def plan_accreditations(rng, profiles, plans, as_of):
    """(practice code, body, awarded, expires) chains, some renewed, some left to expire."""
    rows, designations = [], []
    for plan in plans:
        mso = plan.current_mso
        share = profiles[mso].accredited if mso is not None else 0.15
        if rng.random() >= share:
            continue
        body = rng.choices(list(ACCREDITATION_TERMS), weights=[6, 2.5, 1.5])[0]
        awarded = as_of - DAY * rng.randint(30, 7 * 365)
        while True:
            expires = add_months(awarded, rng.choice(ACCREDITATION_TERMS[body]))
            rows.append((plan.code, body, awarded, expires))
            if expires >= as_of or rng.random() < 0.25:
                break  # current, or not renewed and so expired
            awarded = expires + DAY
        if rng.random() < 0.1:
            awarded = as_of - DAY * rng.randint(30, 4 * 365)
            expires = add_years(awarded, 3) if rng.random() < 0.5 else None
            designations.append((plan.code, awarded, expires))
    return rows, designations


# --- Writing -------------------------------------------------------------------------


def delete_evidence():
    """Delete all evidence rows; Benchmark rows (reference data) and users stay."""
    # Raw SQL for the big tables: the ORM would load every response to cascade. TRUNCATE on
    # PostgreSQL (transactional there): deleting ten million rows one by one takes minutes.
    tables = [connection.ops.quote_name(model._meta.db_table)
              for model in (SurveyComment, SurveyResponse, PracticeNpsMonth, MsoNpsMonth)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _ddl(cursor, [f"TRUNCATE {', '.join(tables)}"])
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    for model in (
        SurveyImport, AggregateNPSSubmission, Claim, PromiseItem, ReferenceInterview,
        QualityDesignation, Accreditation, Affiliation, MSOService, Practice, MSO,
    ):  # fmt: skip
        model.objects.all().delete()


def _mso_rows(rng, profiles, plans, as_of):
    current_plans = collections.defaultdict(list)
    for plan in plans:
        current_plans[plan.current_mso].append(plan)
    msos = []
    for i, profile in enumerate(profiles):
        current = current_plans[i]
        single = len(profile.specialties) == 1
        name = profile.name
        slug = slugify(name)
        msos.append(
            MSO(
                name=name,
                slug=slug,
                ownership_model=profile.ownership,
                specialty_focus=SpecialtyFocus.SINGLE if single else SpecialtyFocus.MULTI,
                specialties=", ".join(profile.specialties),
                clinical_autonomy_terms=profile.autonomy_terms,
                founded_year=as_of.year - profile.age,
                # MSOs round their footprint up a little.
                reported_practices=len(current) + rng.randint(0, 3),
                reported_surgeons=sum(p.surgeons for p in current) + rng.randint(0, 6),
                reported_states=", ".join(sorted({p.state for p in current})),
                values=profile.values,
                website=f"https://{slug}.example.com" if profile.website else "",
                published=True,
            )
        )
    return msos


def load(scale_name, seed, as_of, responses=None):
    """Generate and insert the demo data; return counts by kind. Run inside a transaction.

    ``responses`` overrides the scale's number of survey responses; nothing else changes.
    """
    scale = SCALES[scale_name]
    if responses is not None:
        scale = dataclasses.replace(scale, responses=responses)

    def rng(part):
        return random.Random(f"{seed}:{part}")

    profiles = PROFILES[: scale.profiles]
    profiles += generated_profiles(rng("generated-msos"), scale.extra_msos)
    plans = plan_practices(rng("practices"), profiles, scale.practices, as_of, scale.years)

    msos = MSO.objects.bulk_create(_mso_rows(rng("msos"), profiles, plans, as_of))
    services_rng = rng("services")
    services = [
        MSOService(mso=mso, area=area, detail=SERVICE_DETAILS[area])
        for mso, profile in zip(msos, profiles, strict=True)
        for area in sorted(services_rng.sample(ServiceArea.values, profile.services))
    ]
    MSOService.objects.bulk_create(services, batch_size=BATCH_SIZE)

    practices = Practice.objects.bulk_create(
        [Practice(code=p.code, name=p.name, city=p.city, state=p.state, surgeons=p.surgeons)
         for p in plans],
        batch_size=BATCH_SIZE,
    )  # fmt: skip
    practice_ids = {p.code: p.pk for p in practices}
    affiliations = Affiliation.objects.bulk_create(
        [
            Affiliation(
                practice_id=practice_ids[plan.code],
                mso=msos[s.mso],
                started_on=s.started,
                ended_on=s.ended,
            )
            for plan in plans
            for s in plan.stints
        ],
        batch_size=BATCH_SIZE,
    )

    rows = iter_responses(
        rng("responses"), plans, profiles, as_of, scale.responses, scale.years
    )
    if connection.vendor == "postgresql":
        # Measured at the large scale (10M responses): COPY with the indexes built afterwards
        # and one rollup rebuild takes about 3 minutes; ten survey imports (index upkeep and
        # a deferred check per row and foreign key) take far longer than the 10-minute budget.
        responses, comments = copy_responses(rows, practice_ids)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")  # one grouping of every response
        rollups_rebuild_all()
    else:
        # SQLite, the small scales of tests and `make run`: the survey import itself.
        responses, comments = import_responses(rows)

    submissions = [
        AggregateNPSSubmission(
            mso=msos[i],
            period_start=add_years(as_of, -(back + 1)),
            period_end=add_years(as_of, -back) - DAY,
            promoters=promoters,
            passives=passives,
            detractors=detractors,
            provenance=NPSProvenance.SELF_REPORTED,
            source="Partner recruiting brochure (invented for the demo)",
        )
        for i, profile in enumerate(profiles)
        for back, (promoters, passives, detractors) in enumerate(profile.self_reported)
    ]
    AggregateNPSSubmission.objects.bulk_create(submissions)

    interview_plans = plan_interviews(rng("interviews"), profiles, plans, scale.interviews, as_of)
    for mso, code, interview, _ in interview_plans:
        interview.mso = msos[mso]
        interview.practice_id = practice_ids.get(code)
    interviews = ReferenceInterview.objects.bulk_create(
        [interview for _, _, interview, _ in interview_plans], batch_size=BATCH_SIZE
    )
    items = PromiseItem.objects.bulk_create(
        [
            PromiseItem(interview=interview, service_area=area, outcome=outcome, note=note)
            for interview, (*_, ledger) in zip(interviews, interview_plans, strict=True)
            for area, outcome, note in ledger
        ],
        batch_size=BATCH_SIZE,
    )

    accreditation_rows, designation_rows = plan_accreditations(
        rng("accreditations"), profiles, plans, as_of
    )
    accreditations = Accreditation.objects.bulk_create(
        [
            Accreditation(
                practice_id=practice_ids[code], body=body, awarded_on=awarded, expires_on=expires
            )
            for code, body, awarded, expires in accreditation_rows
        ],
        batch_size=BATCH_SIZE,
    )
    designations = QualityDesignation.objects.bulk_create(
        [
            QualityDesignation(
                practice_id=practice_ids[code],
                name="Center of Excellence",
                awarded_by="Oral Surgery Quality Council (invented for the demo)",
                awarded_on=awarded,
                expires_on=expires,
            )
            for code, awarded, expires in designation_rows
        ]
    )

    claims_rng = rng("claims")
    claims = Claim.objects.bulk_create(
        [
            Claim(
                mso=msos[i],
                kind=kind,
                parameters=parameters,
                statement=statement,
                source=claims_rng.choice(["Website", "Partner brochure", "Conference talk"])
                + " (invented for the demo)",
                stated_on=as_of - DAY * claims_rng.randint(30, 600),
            )
            for i, profile in enumerate(profiles)
            for kind, parameters, statement in profile.claims
        ]
    )

    if connection.vendor == "postgresql":
        # Fresh statistics for the planner after a bulk load (autovacuum may be slow or off).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    return {
        "MSOs": len(msos),
        "services": len(services),
        "practices": len(practices),
        "affiliations": len(affiliations),
        "responses": responses,
        "comments": comments,
        "self-reported NPS": len(submissions),
        "interviews": len(interviews),
        "promise items": len(items),
        "accreditations": len(accreditations),
        "designations": len(designations),
        "claims": len(claims),
    }
