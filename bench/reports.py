"""Benchmark consultant PDF reports: render time against WeasyPrint alone, peak memory, growth.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages \
        DEBUG=1 VAR_DIR=/tmp/bench-var .venv/bin/python bench/reports.py \
        [--seed small|large] [--runs 5] [--renders 20] [--paper a4|letter]

With --seed, the database is seeded first as bench/pages.py does ("large": 300 MSOs, 10M
responses; "small": the demo). Without it the database is used as it is; it needs a snapshot.

Each measurement runs in a fresh child process with a deployed worker's environment (DEBUG=0,
collected static files), on unsaved reports of the 5 and the 12 published MSOs with the most
practices, with the methodology's weights and every section:
  render    ``report_pdf(report)``: what the worker does (read the snapshot, draw the charts,
            render the template, lay out and write the PDF), the median of --runs
  floor     ``html_pdf(html)`` on the same final HTML: WeasyPrint alone, the median of --runs,
            the two taking turns so that a slow moment falls on both alike
  peak      the child's peak resident memory (ru_maxrss) after all its renders, the process's
            Python, Django and WeasyPrint included
  growth    in one more child, --renders renders of the 12-MSO report one after the other: the
            resident memory after the last against after the first
One render of each report is made first and not timed (the font configuration, the imports).
Targets: 5 MSOs <= 2 s, 12 MSOs <= 4 s, each <= 1.3x its floor, peak <= 300 MB, growth <= 10%.
The exit status is 1 when a target is missed.
"""

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from pages import django_setup, largest_msos, seed, server_env  # noqa: E402

SIZES = (5, 12)
TARGET_S = {5: 2.0, 12: 4.0}
TARGET_RATIO = 1.3
TARGET_PEAK_MB = 300
TARGET_GROWTH = 0.10


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def bench_report(size, paper):
    """An unsaved report of the ``size`` largest published MSOs, as the builder makes it."""
    from scorecards.reports.services import report_build
    from scorecards.selectors import latest_snapshot

    snapshot = latest_snapshot()
    if snapshot is None:
        sys.exit("No scorecard snapshot: run with --seed, or compute_scorecards --sync.")
    return report_build(client_name="Benchmark Client", prepared_by="Benchmark",
                        snapshot=snapshot, slugs=largest_msos(size),
                        weights=snapshot.methodology.weights(), paper=paper)  # fmt: skip


def checked_pdf(html):
    """WeasyPrint alone on ``html``; it must have used the stylesheet and refused nothing."""
    from scorecards.reports.render import StaticOnlyFetcher, html_pdf

    fetcher = StaticOnlyFetcher()
    pdf, pages = html_pdf(html, fetcher=fetcher)
    if fetcher.refused:
        sys.exit(f"the report's resources were refused: {fetcher.refused}")
    return pdf, pages


def child_time(size, runs, paper):
    django_setup()
    from scorecards.reports.render import report_html, report_pdf

    report = bench_report(size, paper)
    html = report_html(report)
    _, pages = checked_pdf(html)  # warm-up
    renders, floors = [], []
    for _ in range(runs):
        started = time.perf_counter()
        pdf, _ = report_pdf(report)
        renders.append(time.perf_counter() - started)
        started = time.perf_counter()
        checked_pdf(html)
        floors.append(time.perf_counter() - started)
    print(json.dumps({"size": size, "pages": pages, "html_kb": len(html.encode()) / 1024,
                      "pdf_kb": len(pdf) / 1024, "render_s": renders, "floor_s": floors,
                      "peak_mb": peak_mb()}))  # fmt: skip


def child_growth(renders, paper):
    django_setup()
    from scorecards.reports.render import report_pdf

    report = bench_report(max(SIZES), paper)
    rss = []
    for _ in range(renders):
        report_pdf(report)
        gc.collect()
        rss.append(rss_mb())
    print(json.dumps({"rss_mb": rss, "peak_mb": peak_mb()}))


def run_child(*args, env):
    done = subprocess.run([sys.executable, __file__, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        sys.exit(f"child {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(ok):
    return "ok" if ok else "MISSED"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", choices=("small", "large"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--paper", choices=("a4", "letter"), default="a4")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--child", choices=("time", "growth"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "time":
        return child_time(args.size, args.runs, args.paper)
    if args.child == "growth":
        return child_growth(args.renders, args.paper)
    if not args.database_url:
        sys.exit("Give --database-url (or DATABASE_URL).")
    os.environ["DATABASE_URL"] = args.database_url
    if args.seed:
        seed(args.seed)
    env = server_env()
    missed = []
    print(f"\n== reports ({args.paper}, DEBUG=0): median of {args.runs} renders each, "
          "floor = WeasyPrint alone on the same final HTML")
    print(f"  {'report':8} {'pages':>5} {'HTML KB':>8} {'PDF KB':>7} {'render s':>9} "
          f"{'floor s':>8} {'ratio':>6} {'peak MB':>8}  target")  # fmt: skip
    peaks = []
    for size in SIZES:
        r = run_child("--child", "time", "--size", str(size), "--runs", str(args.runs),
                      "--paper", args.paper, env=env)  # fmt: skip
        render, floor = statistics.median(r["render_s"]), statistics.median(r["floor_s"])
        ratio = render / floor
        ok = render <= TARGET_S[size] and ratio <= TARGET_RATIO
        if not ok:
            missed.append(f"{size} MSOs")
        peaks.append(r["peak_mb"])
        print(f"  {f'{size} MSOs':8} {r['pages']:5d} {r['html_kb']:8.0f} {r['pdf_kb']:7.0f} "
              f"{render:9.2f} {floor:8.2f} {ratio:6.2f} {r['peak_mb']:8.0f}  "
              f"<= {TARGET_S[size]:.0f} s and <= {TARGET_RATIO}x: {verdict(ok)}")  # fmt: skip
    g = run_child("--child", "growth", "--renders", str(args.renders), "--paper", args.paper,
                  env=env)  # fmt: skip
    first, last = g["rss_mb"][0], g["rss_mb"][-1]
    growth = (last - first) / first
    peak = max([*peaks, g["peak_mb"]])
    if peak > TARGET_PEAK_MB:
        missed.append("peak memory")
    if growth > TARGET_GROWTH:
        missed.append("memory growth")
    print(f"  peak resident memory of a worker process: {peak:.0f} MB "
          f"(<= {TARGET_PEAK_MB} MB: {verdict(peak <= TARGET_PEAK_MB)})")
    print(f"  {args.renders} renders of the 12-MSO report in one process: {first:.0f} MB after "
          f"the first, {last:.0f} MB after the last, {100 * growth:+.1f}% "
          f"(<= {100 * TARGET_GROWTH:.0f}%: {verdict(growth <= TARGET_GROWTH)})")
    print("  all targets met" if not missed else f"  missed: {', '.join(missed)}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
