"""Benchmark the server-side SVG charts (scorecards.charts): milliseconds per chart.

    DEBUG=1 .venv/bin/python bench/charts.py [--runs 200] [--points 300]

Each chart is rendered once to warm up, then --runs times; the median and the 95th
percentile are printed. The score grid is drawn with --points points (300 MSOs is the design
scale). No database is needed. The sample data below is also what the screenshots use.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mso_eval.settings")

BANDS = [("Good", 0), ("Excellent", 50), ("World-class", 80)]
BENCHMARK = ("Healthcare average 2024", 46)
SERVICE_AREAS = [
    "Marketing", "HR", "Revenue cycle management", "Payor contracting", "IT and practice systems",
    "Compliance", "Purchasing", "Equipment and technology funding", "Growth and expansion",
    "Recruiting", "Training and continuing education",
]  # fmt: skip


def sample_years():
    rows = []
    for year, n, nps, low, high in [
        (2016, 12, None, None, None),
        (2017, 240, 38.3, 30.1, 46.0),
        (2018, 812, 61.2, 57.0, 65.1),
        (2019, 1460, 66.0, 63.1, 68.8),
        (2020, 0, None, None, None),
        (2021, 2210, 71.4, 69.2, 73.5),
        (2022, 12850, 78.9, 78.0, 79.8),
        (2023, 3120, 82.3, 80.6, 83.9),
        (2024, 3340, 84.1, 82.6, 85.6),
        (2025, 29, None, None, None),
    ]:
        ok = nps is not None
        rows.append({"year": year, "n": n, "nps": nps, "ci_low": low, "ci_high": high,
                     "status": "ok" if ok else "insufficient_data"})  # fmt: skip
    return rows


def sample_rows():
    return [
        {"label": "Summit Oral Surgery Partners", "value": 84.1, "ci_low": 82.6, "ci_high": 85.6,
         "n": 3340, "href": "/msos/summit/", "best": True},
        {"label": "Coastal Maxillofacial Alliance", "value": 71.0, "ci_low": 64.2, "ci_high": 77.1,
         "n": 410, "href": "/msos/coastal/"},
        {"label": '<script>alert(1)</script> & "Co"', "value": 55.5, "ci_low": 41.0,
         "ci_high": 67.9, "n": 88, "href": "/msos/x/?a=1&b=2"},
        {"label": "Prairie Surgical Group", "value": None, "ci_low": None, "ci_high": None,
         "n": 14, "href": "/msos/prairie/"},
        {"label": "Harbor Facial Surgery MSO", "value": 12.0, "ci_low": 2.0, "ci_high": 22.5,
         "n": 150},
    ]  # fmt: skip


def sample_points(count=300, seed=7):
    rng = random.Random(seed)
    points = []
    for i in range(count):
        practices = int(rng.lognormvariate(2.6, 1.1))
        score = None if rng.random() < 0.08 else round(min(99, max(5, rng.gauss(58, 16))), 1)
        points.append({"label": f"MSO {i + 1:03d} Oral Surgery Partners", "x": practices,
                       "y": score, "href": f"/msos/{i + 1}/"})  # fmt: skip
    return points


def sample_small_points():
    names = ["Summit Oral Surgery Partners", "Coastal Maxillofacial Alliance", "Prairie Surgical",
             "Harbor Facial Surgery", "Northline OMS", "Redwood Dental Specialty",
             '<script>alert(1)</script> & "Co"', "Blue Ridge Surgical Partners"]  # fmt: skip
    xs = [142, 38, 6, 19, 64, 310, 11, 3]
    ys = [81.5, 72.0, None, 44.0, 58.5, 49.0, 66.0, 38.5]
    return [{"label": n, "x": x, "y": y, "href": f"/msos/{i}/"}
            for i, (n, x, y) in enumerate(zip(names, xs, ys, strict=True))]  # fmt: skip


def sample_areas():
    rng = random.Random(3)
    areas = []
    for name in SERVICE_AREAS:
        total = rng.choice([0, 2, 5, 8, 12, 14])
        kept = rng.randint(0, total)
        partly = rng.randint(0, total - kept)
        areas.append({"label": name, "kept": kept, "partly": partly,
                      "broken": total - kept - partly})  # fmt: skip
    return areas


def all_charts(points=None):
    from scorecards import charts

    years = sample_years()
    return {
        "nps_by_year_chart": charts.nps_by_year_chart(
            years, benchmark=BENCHMARK, bands=BANDS, href_for_year=lambda y: f"/evidence/{y}/"
        ),
        "ppd_bar": charts.ppd_bar(503, 212, 97),
        "ppd_bar (n=0)": charts.ppd_bar(0, 0, 0),
        "dot_plot": charts.dot_plot(sample_rows()),
        "score_grid (8)": charts.score_grid(sample_small_points()),
        "score_grid (300)": charts.score_grid(points or sample_points()),
        "ledger_bars": charts.ledger_bars(sample_areas()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--points", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from scorecards import charts

    years, rows, areas = sample_years(), sample_rows(), sample_areas()
    points = sample_points(args.points)
    cases = [
        ("nps_by_year_chart (10 years)", lambda: charts.nps_by_year_chart(
            years, benchmark=BENCHMARK, bands=BANDS, href_for_year=lambda y: f"/e/{y}/")),
        ("ppd_bar", lambda: charts.ppd_bar(503, 212, 97)),
        ("dot_plot (5 rows)", lambda: charts.dot_plot(rows)),
        (f"score_grid ({args.points} points)", lambda: charts.score_grid(points)),
        ("ledger_bars (11 areas)", lambda: charts.ledger_bars(areas)),
    ]  # fmt: skip
    print(f"{'chart':<32} {'median ms':>10} {'p95 ms':>8} {'bytes':>8}   ({args.runs} runs)")
    for name, fn in cases:
        size = len(fn())
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{name:<32} {statistics.median(times):>10.3f} {p95:>8.3f} {size:>8}")


if __name__ == "__main__":
    main()
