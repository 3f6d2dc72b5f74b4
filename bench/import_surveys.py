"""Benchmark the survey import against the floor: a raw COPY of the same file.

    DATABASE_URL=postgres://... DEBUG=1 .venv/bin/python bench/import_surveys.py \
        [--rows 1000000] [--also 5000000] [--repeat 1] [--keep-files]

For each size it writes one CSV file to disk, then:
  (a) floor: COPY ... FROM STDIN WITH (FORMAT csv, HEADER true) of the file's bytes into a fresh,
      unindexed table of text columns (what psql \\copy would do; no checks at all);
  (a') lower bounds: the least that an import which stages with COPY and then moves the rows
      with one INSERT ... SELECT must spend: the floor, plus an INSERT ... SELECT of the staged
      rows into a table without index or constraint, bare (text to text) and typed (practice id
      by join, date and score cast); and the least that any import which leaves the responses
      indexed must spend: the floor plus building those indexes once. No check, foreign key or
      rollup is in them;
  (b) import: partners.surveys.importing.surveys_import of the same file, in a child process so that
      its peak RSS is its own; the import is undone afterwards, so every run really inserts.
Targets: import/floor <= 2.0, import/(lower bound, both) <= 3.0, undo of 1M rows <= 5 s,
peak <= 250 MB, peak(5M)/peak(1M) <= 1 (memory must not grow with the file). The machine is
shared: run with --repeat 3 to take medians.

    ... bench/import_surveys.py --format qualtrics [--rows 1000000] [--xlsx-rows 200000]

writes the same rows as a plain CSV file and as a Qualtrics export (three header rows, the
usual columns, personal-data columns filled), imports each in a child process and prints
both times and their ratio (target <= 1.3); with --xlsx-rows it also imports a Qualtrics
export of that many rows saved as XLSX and prints its peak RSS (target < 250 MB).
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mso_eval.settings")

SOURCE = "bench"
PRACTICES = 10_000
COMMENTS = ["Kind staff.", "Long wait, but good care.", 'The "quick" visit took two hours.']


def setup_django():
    import django

    django.setup()


def ensure_practices(count=PRACTICES):
    """Create bench practices until there are ``count``; return all practice codes."""
    from partners.models import US_STATE_CODES, Practice

    have = Practice.objects.count()
    if have < count:
        taken = set(Practice.objects.values_list("code", flat=True))
        new = (f"BENCH-{i:05d}" for i in range(count * 2))
        codes = [code for code in new if code not in taken][: count - have]
        Practice.objects.bulk_create(
            [
                Practice(code=code, name=f"Bench practice {code}", state=US_STATE_CODES[i % 50])
                for i, code in enumerate(codes)
            ],
            batch_size=2000,
        )
        print(f"created {len(codes):,} practices")
    return list(Practice.objects.order_by("code").values_list("code", flat=True))


def write_csv(path, rows, codes, days_back, seed=1):
    """A survey export: practice, responded_on, score, response_id, comment (1% filled); each
    row has a random practice and a random day of the last ``days_back``."""
    import datetime

    rng = random.Random(seed)
    today = datetime.date.today()
    days = [(today - datetime.timedelta(days=i)).isoformat() for i in range(1, days_back + 1)]
    comments = ['"' + text.replace('"', '""') + '"' for text in COMMENTS]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("practice,responded_on,score,response_id,comment\n")
        lines = []
        for i in range(rows):
            comment = rng.choice(comments) if rng.random() < 0.01 else ""
            lines.append(
                f"{rng.choice(codes)},{rng.choice(days)},{rng.randint(0, 10)},"
                f"b{seed}-{i},{comment}\n"
            )
            if len(lines) == 100_000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))


QUALTRICS_FIELDS = [
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
    "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
    "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
    "DistributionChannel", "UserLanguage", "Q1", "Q1_NPS_GROUP", "Q2", "Practice",
]  # fmt: skip
QUALTRICS_KEYS = [
    "startDate", "endDate", "status", "ipAddress", "progress", "duration", "finished",
    "recordedDate", "_recordId", "recipientLastName", "recipientFirstName", "recipientEmail",
    "externalDataReference", "locationLatitude", "locationLongitude", "distributionChannel",
    "userLanguage", "QID1", "QID1_NPS_GROUP", "QID2_TEXT", "practice",
]  # fmt: skip


def qualtrics_rows(rows, codes, days_back, seed=1):
    """The header rows and then the data rows of a Qualtrics export: the same practices,
    days and scores as write_csv's rows (same seed), with Qualtrics' other columns filled."""
    import datetime
    import json

    rng = random.Random(seed)
    today = datetime.date.today()
    days = [(today - datetime.timedelta(days=i)).isoformat() for i in range(1, days_back + 1)]
    texts = [name if not name.startswith("Q") else
             {"Q1": "How likely are you to recommend our practice to a friend or family member?",
              "Q1_NPS_GROUP": "How likely are you to recommend our practice? - Group",
              "Q2": "What is the main reason for your score?"}[name]
             for name in QUALTRICS_FIELDS]  # fmt: skip
    zoned = {"startDate", "endDate", "recordedDate"}
    yield QUALTRICS_FIELDS
    yield texts
    yield [json.dumps({"ImportId": key, **({"timeZone": "America/Chicago"} if key in zoned
                                           else {})}) for key in QUALTRICS_KEYS]  # fmt: skip
    for i in range(rows):
        comment = rng.choice(COMMENTS) if rng.random() < 0.01 else ""
        code, day, score = rng.choice(codes), rng.choice(days), rng.randint(0, 10)
        stamp = f"{day} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
        group = "Promoter" if score >= 9 else "Passive" if score >= 7 else "Detractor"
        yield [stamp, stamp, "IP Address", f"198.51.{i % 256}.{(i * 7) % 256}", "100", "95",
               "True", stamp, f"R_b{seed}-{i}", "", "", "", "", "41.8781", "-87.6298",
               "anonymous", "EN", str(score), group, comment, code]  # fmt: skip


def write_qualtrics_csv(path, rows, codes, days_back, seed=1):
    import csv

    with open(path, "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(qualtrics_rows(rows, codes, days_back, seed))


def write_qualtrics_xlsx(path, rows, codes, days_back, seed=1):
    """The same export as a workbook, written in openpyxl's streaming (write-only) mode."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for number, row in enumerate(qualtrics_rows(rows, codes, days_back, seed)):
        if number >= 3:
            row[17] = int(row[17])  # the score as a number, as a spreadsheet holds it
        sheet.append(row)
    workbook.save(path)


def floor_and_lower_bound(path):
    """Seconds for (a) the floor: a raw COPY of the file into a fresh unindexed text table, and
    for the least any COPY-then-INSERT ... SELECT import must add to it: (b) copying those rows
    once more with INSERT ... SELECT into an identical table (no cast, index or constraint),
    and (c) the same with the practice code joined to its id and the date and score cast;
    (d) building the response table's two indexes once over the typed rows, which any import
    that leaves the responses indexed must pay at least."""
    from django.db import connection

    floor, bare, typed = "bench_copy_floor", "bench_insert_bare", "bench_insert_typed"
    with connection.cursor() as cursor:
        for table in (floor, bare, typed):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        for table in (floor, bare):
            cursor.execute(
                f"CREATE TABLE {table} (practice text, responded_on text, score text,"
                " response_id text, comment text)"
            )
        cursor.execute(
            f"CREATE TABLE {typed} (practice_id bigint, responded_on date, score smallint,"
            " response_id text, comment text)"
        )
        seconds = {}
        started = time.perf_counter()
        # Autocommit: each statement is its own transaction, committed when it returns.
        sql = f"COPY {floor} FROM STDIN WITH (FORMAT csv, HEADER true)"
        with cursor.cursor.copy(sql) as copy, open(path, "rb") as source:
            while block := source.read(1 << 20):
                copy.write(block)
        seconds["floor"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(f"INSERT INTO {bare} SELECT * FROM {floor}")
        seconds["bare"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(f"""
            INSERT INTO {typed}
            SELECT p.id, f.responded_on::date, f.score::smallint, f.response_id, f.comment
            FROM {floor} f JOIN partners_practice p ON p.code = f.practice
        """)  # fmt: skip
        seconds["typed"] = time.perf_counter() - started
        # Indexes built once over the loaded rows, the cheapest way to have them: the two that
        # the response table needs (NPS by practice and day, and the unique response id).
        started = time.perf_counter()
        cursor.execute(f"CREATE INDEX ON {typed} (practice_id, responded_on, score)")
        cursor.execute(f"CREATE UNIQUE INDEX ON {typed} (response_id)")
        seconds["indexes"] = time.perf_counter() - started
        for table in (floor, bare, typed):
            cursor.execute(f"DROP TABLE {table}")
    return seconds


def child_import(path, file_format="plain"):
    """Run in the child process: import the file, report time and this process's peak RSS."""
    setup_django()
    from partners.surveys.formats import Mapping
    from partners.surveys.importing import surveys_import

    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with open(path, "rb") as stream:
        report = surveys_import(stream=stream, file_name=Path(path).name, source=SOURCE,
                                mapping=Mapping(format=file_format))  # fmt: skip
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({
        "seconds": seconds, "imported": report.imported, "id": report.survey_import_id,
        "peak_mb": peak_kb / 1024, "before_mb": before_kb / 1024,
    }))  # fmt: skip


def run_import(path, file_format="plain"):
    """The import in a child process; returns its JSON report."""
    done = subprocess.run(
        [sys.executable, __file__, "--child-import", str(path), "--child-format", file_format],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        sys.exit(f"the import failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def undo_bench_imports():
    """Undo every bench import, then vacuum so the next run starts from a clean table."""
    from django.db import connection

    from partners.models import SurveyImport
    from partners.surveys.importing import survey_import_undo

    started = time.perf_counter()
    ids = list(SurveyImport.objects.filter(source=SOURCE).values_list("pk", flat=True))
    for pk in ids:
        survey_import_undo(survey_import_id=pk)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in ("partners_surveyresponse", "partners_surveycomment",
                      "partners_practicenpsmonth", "partners_msonpsmonth"):  # fmt: skip
            cursor.execute(f"VACUUM ANALYZE {table}")
    return seconds if ids else None


def measure(rows, codes, repeat, keep, days_back):
    path = Path(tempfile.gettempdir()) / f"bench_surveys_{rows}_{days_back}d.csv"
    started = time.perf_counter()
    write_csv(path, rows, codes, days_back)
    size_mb = path.stat().st_size / 1e6
    print(f"\n== {rows:,} rows over {days_back:,} days: {path} ({size_mb:.0f} MB, written in "
          f"{time.perf_counter() - started:.1f} s)")  # fmt: skip
    floors, bares, typeds, indexes, imports, peaks, undos = [], [], [], [], [], [], []
    for run in range(1, repeat + 1):
        bound = floor_and_lower_bound(path)
        floors.append(bound["floor"])
        bares.append(bound["bare"])
        typeds.append(bound["typed"])
        indexes.append(bound["indexes"])
        result = run_import(path)
        if result["imported"] != rows:
            sys.exit(f"imported {result['imported']:,} rows, expected {rows:,}")
        imports.append(result["seconds"])
        peaks.append(result["peak_mb"])
        undo = undo_bench_imports()
        undos.append(undo)
        print(f"  run {run}: floor {floors[-1]:.2f} s, bare insert {bares[-1]:.2f} s, "
              f"typed insert {typeds[-1]:.2f} s, indexes {indexes[-1]:.2f} s, "
              f"import {imports[-1]:.2f} s, "
              f"peak RSS {result['peak_mb']:.0f} MB ({result['peak_mb'] - result['before_mb']:+.0f}"
              f" MB over the {result['before_mb']:.0f} MB before the import), "
              f"undo {undo:.1f} s")  # fmt: skip
    if not keep:
        path.unlink()
    floor, bare, typed, index, imported, peak, undo = (
        statistics.median(x) for x in (floors, bares, typeds, indexes, imports, peaks, undos)
    )
    print(f"  rows                 {rows:>12,}")
    print(f"  floor COPY           {floor:>12.2f} s  {rows / floor:>12,.0f} rows/s")
    print(f"  bare INSERT..SELECT  {bare:>12.2f} s  (the floor's rows again, text to text)")
    print(f"  typed INSERT..SELECT {typed:>12.2f} s  (practice id joined, date and score cast)")
    print(f"  index build          {index:>12.2f} s  (the two response indexes, built once)")
    print(f"  lower bound          {(floor + bare) / floor:>12.2f} x the floor "
          f"(COPY + bare INSERT..SELECT); {(floor + typed) / floor:.2f} x with types")
    print(f"  lower bound, indexed {(floor + index) / floor:>12.2f} x the floor (COPY + index "
          "build: any design that keeps the responses indexed)")
    print(f"  lower bound, both    {(floor + bare + index) / floor:>12.2f} x the floor (COPY, "
          "bare INSERT..SELECT and index build: staging, then an indexed response table)")
    print(f"  surveys_import       {imported:>12.2f} s  {rows / imported:>12,.0f} rows/s")
    print(f"  ratio import/floor   {imported / floor:>12.2f}    (target <= 2.0)")
    print(f"  ratio import/both    {imported / (floor + bare + index):>12.2f}    (target <= 3.0: "
          "the lower bound, both)")
    print(f"  undo                 {undo:>12.2f} s  (target <= 5 s)")
    print(f"  import peak RSS      {peak:>12.0f} MB (target <= 250 MB)")
    return peak


def measure_format(rows, codes, repeat, keep, days_back, file_format, xlsx_rows):
    """Plain against an export of the same rows, imported in the same run; then the peak
    memory of an XLSX export."""
    folder = Path(tempfile.gettempdir())
    plain = folder / f"bench_surveys_{rows}_plain.csv"
    export = folder / f"bench_surveys_{rows}_{file_format}.csv"
    started = time.perf_counter()
    write_csv(plain, rows, codes, days_back)
    write_qualtrics_csv(export, rows, codes, days_back)
    print(f"\n== {rows:,} rows, plain ({plain.stat().st_size / 1e6:.0f} MB) and {file_format} "
          f"({export.stat().st_size / 1e6:.0f} MB), written in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    plains, exports = [], []
    for run in range(1, repeat + 1):
        for path, fmt, times in ((plain, "plain", plains), (export, file_format, exports)):
            result = run_import(path, fmt)
            if result["imported"] != rows:
                sys.exit(f"{fmt}: imported {result['imported']:,} rows, expected {rows:,}")
            times.append(result["seconds"])
            undo_bench_imports()
            print(f"  run {run}: {fmt:<10} {result['seconds']:.2f} s, "
                  f"peak RSS {result['peak_mb']:.0f} MB")  # fmt: skip
    if not keep:
        plain.unlink()
        export.unlink()
    plain_s, export_s = statistics.median(plains), statistics.median(exports)
    print(f"  plain                {plain_s:>12.2f} s  {rows / plain_s:>12,.0f} rows/s")
    print(f"  {file_format:<20} {export_s:>12.2f} s  {rows / export_s:>12,.0f} rows/s")
    print(f"  ratio {file_format}/plain {export_s / plain_s:>8.2f}    (target <= 1.3)")
    if xlsx_rows:
        path = folder / f"bench_surveys_{xlsx_rows}_{file_format}.xlsx"
        started = time.perf_counter()
        write_qualtrics_xlsx(path, xlsx_rows, codes, days_back, seed=2)
        print(f"\n== {xlsx_rows:,} rows as XLSX ({path.stat().st_size / 1e6:.0f} MB, written "
              f"in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        result = run_import(path, "auto")
        undo_bench_imports()
        if result["imported"] != xlsx_rows:
            sys.exit(f"xlsx: imported {result['imported']:,} rows, expected {xlsx_rows:,}")
        if not keep:
            path.unlink()
        print(f"  import               {result['seconds']:>12.2f} s  "
              f"{xlsx_rows / result['seconds']:>12,.0f} rows/s")  # fmt: skip
        print(f"  peak RSS             {result['peak_mb']:>12.0f} MB (target < 250 MB; "
              f"{result['before_mb']:.0f} MB before the import)")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--also", type=int, help="a second, larger size, e.g. 5000000")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians shown")
    parser.add_argument("--keep-files", action="store_true", help="keep the CSV files in /tmp")
    parser.add_argument(
        "--days", type=int, default=3650,
        help="days the responses spread over (default ten years: about 0.7 practice-months to"
        " update per response, the rollups' worst case; 30 is a monthly export)",
    )  # fmt: skip
    parser.add_argument(
        "--format", choices=["qualtrics"],
        help="compare the import of the same rows as plain CSV and as this tool's export",
    )  # fmt: skip
    parser.add_argument("--xlsx-rows", type=int, default=0,
                        help="with --format: also import an XLSX export of this many rows")
    parser.add_argument("--child-import", help=argparse.SUPPRESS)
    parser.add_argument("--child-format", default="plain", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        return child_import(args.child_import, args.child_format)

    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The floor is a PostgreSQL COPY: set DATABASE_URL to a PostgreSQL database.")
    codes = ensure_practices()
    undo_bench_imports()  # leftovers of an interrupted run
    print(f"database {connection.settings_dict['NAME']}, {len(codes):,} practices")
    if args.format:
        return measure_format(args.rows, codes, args.repeat, args.keep_files, args.days,
                              args.format, args.xlsx_rows)  # fmt: skip
    first = measure(args.rows, codes, args.repeat, args.keep_files, args.days)
    if args.also:
        second = measure(args.also, codes, args.repeat, args.keep_files, args.days)
        print(f"\npeak RSS {args.also:,} / {args.rows:,} rows: {second / first:.2f} "
              "(target <= 1.0: memory does not grow with the file)")  # fmt: skip


if __name__ == "__main__":
    main()
