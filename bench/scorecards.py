"""Benchmark a full scorecard snapshot at the scale of the product brief.

    .venv/bin/python bench/scorecards.py --large-url postgres://postgres@127.0.0.1/bench_large \
        --small-url postgres://postgres@127.0.0.1/bench_small [--runs 5] [--seed-if-empty]

Each database is measured in a child process: a full snapshot (reading the evidence of every
published MSO, scoring, rank stability, claim checks and writing the rows) inside a transaction
that is rolled back afterwards, so every run really computes and writes. Prints the median time,
the query count, and the ratio of the time at 10 million responses to the time at 1 million.
Targets: at most 3 s at the large scale; ratio at most 1.3; the query count a constant.

With --seed-if-empty, an empty database is seeded first: the large one with
``seed_demo --scale large`` and the small one with the same MSOs and practices but 1 million
responses (``--responses 1000000``).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(runs):
    """In the child: time full snapshots, each rolled back."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mso_eval.settings")
    django.setup()
    from django.db import transaction

    from partners.models import MSO, PracticeNpsMonth, SurveyResponse
    from scorecards.services import scorecard_compute

    class Rollback(Exception):
        pass

    as_of = SurveyResponse.objects.latest("responded_on").responded_on
    times, queries, created = [], None, None
    for _ in range(runs + 1):  # the first run warms caches and is not counted
        try:
            with transaction.atomic():
                start = time.perf_counter()
                snapshot, created = scorecard_compute(as_of=as_of)
                elapsed = time.perf_counter() - start
                queries = snapshot.query_count
                raise Rollback
        except Rollback:
            times.append(elapsed)
    return {
        "msos": MSO.objects.filter(published=True).count(),
        "responses": SurveyResponse.objects.count(),
        "rollup_rows": PracticeNpsMonth.objects.count(),
        "seconds": statistics.median(times[1:]),
        "queries": queries,
        "created": created,
    }


def run_child(url, runs):
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.getenv("DEBUG", "1")}
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--runs", str(runs)],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def seed_if_empty(url, responses=None):
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.getenv("DEBUG", "1")}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    count = subprocess.run(
        [*manage, "shell", "-c",
         "from partners.models import SurveyResponse; print(SurveyResponse.objects.count())"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()[-1]  # fmt: skip
    if int(count) == 0:
        extra = ["--responses", str(responses)] if responses else []
        print(f"seeding {url} ...", flush=True)
        subprocess.run([*manage, "seed_demo", "--scale", "large", *extra], env=env, cwd=ROOT,
                       check=True)  # fmt: skip


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--large-url", help="Database with the large scale (10M responses).")
    parser.add_argument("--small-url", help="The same MSOs and practices with 1M responses.")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed-if-empty", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.runs)))
        return
    if not args.large_url:
        parser.error("--large-url is required")
    if args.seed_if_empty:
        seed_if_empty(args.large_url)
        if args.small_url:
            seed_if_empty(args.small_url, responses=1_000_000)
    large = run_child(args.large_url, args.runs)
    print(f"large: {large['msos']} MSOs, {large['responses']:,} responses, "
          f"{large['rollup_rows']:,} practice-month rollups")  # fmt: skip
    print(f"  full snapshot: {large['seconds'] * 1000:.0f} ms (median of {args.runs}; "
          f"target <= 3000 ms), {large['queries']} queries")  # fmt: skip
    if args.small_url:
        small = run_child(args.small_url, args.runs)
        print(f"small: {small['msos']} MSOs, {small['responses']:,} responses")
        print(f"  full snapshot: {small['seconds'] * 1000:.0f} ms, {small['queries']} queries")
        print(f"ratio time(10M) / time(1M): {large['seconds'] / small['seconds']:.2f} "
              "(target <= 1.3)")  # fmt: skip
        print(f"query count equal at both scales: {large['queries'] == small['queries']}")


if __name__ == "__main__":
    main()
