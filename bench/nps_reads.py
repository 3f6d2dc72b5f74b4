"""Benchmark the NPS read of the comparison: every MSO, each of the last ten years, one query.

    DATABASE_URL=postgres://.../benchd DEBUG=1 .venv/bin/python bench/nps_reads.py \
        [--database-url URL] [--small-database-url URL] [--runs 21] [--as-of 2026-11-01]

Two databases with the same MSOs and practices (same seed and as-of): the large scale with
10 million responses (--database-url, default $DATABASE_URL) and the same with 1 million
(--small-database-url, default: the first one's name + "_1m" on the same server). A database
that does not exist or holds no MSO is created, migrated and seeded with seed_demo (2 to 3
minutes for the large one); one that holds MSOs is used as it is (its counts are printed).
``partners.selectors.msos_nps_by_year`` is called once to warm up, then --runs times, in a
child process with DATABASE_URL set to the database; the databases take --rounds turns and
the median of all runs is shown. Targets: <= 200 ms at 10M, time(10M)/time(1M) <= 1.3.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
YEARS = 10
SEED = 1


def measure(runs, as_of):
    """Run in the child: time msos_nps_by_year over the last YEARS years; print JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mso_eval.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partners.models import MsoNpsMonth, SurveyResponse
    from partners.selectors import msos_nps_by_year

    last_year = (as_of - datetime.timedelta(days=1)).year  # the year of the latest responses
    first_year = last_year - YEARS + 1

    def read():
        return msos_nps_by_year(first_year=first_year, last_year=last_year)

    result = read()  # warm-up: connection, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        read()
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        read()
    sql = queries.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
        plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    print(json.dumps({
        "responses": SurveyResponse.objects.count(),
        "rollup_rows": MsoNpsMonth.objects.count(),
        "msos": len(result),
        "estimates": sum(len(years) for years in result.values()),
        "years": [first_year, last_year],
        "times_ms": [1000 * t for t in times],
        "queries": len(queries.captured_queries),
        "sql_ms": plan["Execution Time"],
    }))  # fmt: skip


def database_name(url):
    return urlsplit(url).path.lstrip("/")


def with_database(url, name):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_seeded(url, as_of, responses=None):
    """Create, migrate and seed the database unless it already holds demo MSOs."""
    import psycopg

    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.environ.get("DEBUG", "1")}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True)
    with psycopg.connect(url) as conn:
        seeded = conn.execute("SELECT EXISTS (SELECT 1 FROM partners_mso)").fetchone()[0]
    if seeded:
        return
    command = [*manage, "seed_demo", "--scale", "large", "--seed", str(SEED),
               "--as-of", as_of.isoformat()]  # fmt: skip
    if responses:
        command += ["--responses", str(responses)]
    print(f"seeding {name}: {' '.join(command[1:])}", flush=True)
    subprocess.run(command, env=env, check=True)


def run_child(url, runs, as_of):
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.environ.get("DEBUG", "1")}
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--runs", str(runs), "--as-of", as_of.isoformat()],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        sys.exit(f"measuring {database_name(url)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--small-database-url")
    parser.add_argument("--runs", type=int, default=21, help="timed runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each database")
    parser.add_argument(
        "--as-of",
        type=datetime.date.fromisoformat,
        default=datetime.date.today().replace(day=1),
        help="as-of day of the seeded data (default: first day of this month, as seed_demo)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.runs, args.as_of)
    if not args.database_url or not args.database_url.startswith("postgres"):
        sys.exit("Give a PostgreSQL --database-url (or DATABASE_URL).")
    large = args.database_url
    small = args.small_database_url or with_database(large, database_name(large) + "_1m")
    ensure_seeded(large, args.as_of)
    ensure_seeded(small, args.as_of, responses=1_000_000)

    # The two databases take turns, round after round, so that the load of other processes
    # on a shared machine falls on both alike; the medians are over all runs of all rounds.
    databases = (("10M", large), ("1M", small))
    rounds = {label: [] for label, _ in databases}
    for _ in range(args.rounds):
        for label, url in databases:
            rounds[label].append(run_child(url, args.runs, args.as_of))
    medians = {}
    for label, url in databases:
        r = rounds[label][-1]
        times = [t for result in rounds[label] for t in result["times_ms"]]
        medians[label] = statistics.median(times)
        sql = statistics.median(result["sql_ms"] for result in rounds[label])
        print(f"\n== {label}: database {database_name(url)}: {r['responses']:,} responses, "
              f"{r['rollup_rows']:,} MSO-month rollup rows")  # fmt: skip
        print(f"  msos_nps_by_year {r['years'][0]}-{r['years'][1]}: {r['msos']} MSOs, "
              f"{r['estimates']:,} yearly estimates with intervals")  # fmt: skip
        print(f"  median of {len(times)} runs {medians[label]:8.1f} ms  (min {min(times):.1f}, "
              f"max {max(times):.1f}; target <= 200 ms)")  # fmt: skip
        print(f"  SQL execution     {sql:8.1f} ms  (EXPLAIN ANALYZE of the one query, median)")
        print(f"  queries           {r['queries']:8d}")
    ratio = medians["10M"] / medians["1M"]
    print(f"\nratio time(10M) / time(1M): {ratio:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
