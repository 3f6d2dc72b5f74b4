"""The MSO directory: filtering and sorting the latest snapshot's scorecards (pure functions).

A row is a scorecard document (see ``services.score_evidence``) with the MSO's facts added
under ``facts``. Filters never hide an MSO for missing evidence silently: an MSO without the
figure a filter asks about (insufficient data) does not pass that filter, and the page says how
many were left out that way.
"""


def nps_of(row):
    """The row's 12-month NPS, or None with too few responses."""
    return row["nps"]["nps"] if row["nps"]["status"] == "ok" else None


def criterion_score(row, key):
    """A criterion's score (0-100), or None without enough evidence."""
    c = row["criteria"].get(key)
    return c["score"] if c and c["status"] == "ok" else None


def criterion_value(row, key):
    """A criterion's raw value on its own scale (a share, a 1-5 mean), or None."""
    c = row["criteria"].get(key)
    return c["value"] if c and c["status"] == "ok" else None


SORT_KEYS = {
    # Missing figures sort last whatever the order; ties by name.
    "total": lambda r: (r["total"] is None, -(r["total"] or 0), r["name"]),
    "nps": lambda r: (nps_of(r) is None, -(nps_of(r) or 0), r["name"]),
    "trust": lambda r: (criterion_score(r, "surgeon_trust") is None,
                        -(criterion_score(r, "surgeon_trust") or 0), r["name"]),
    "practices": lambda r: (-r["facts"]["active_practices"], r["name"]),
    "name": lambda r: r["name"].casefold(),
}


def _at_least(figure, wanted):
    """None (unknown) without the figure, else whether it reaches ``wanted``."""
    return None if figure is None else figure >= wanted


def filter_and_sort(rows, filters):
    """Rows passing every filter, sorted; returns (rows, {filter: rows left out for lack of
    evidence})."""
    checks = {
        "focus": lambda r, v: r["facts"]["specialty_focus"] == v,
        "ownership": lambda r, v: r["facts"]["ownership_model"] == v,
        "state": lambda r, v: v in r["facts"]["states"],
        "min_nps": lambda r, v: _at_least(nps_of(r), v),
        "min_accreditation": lambda r, v: _at_least(criterion_value(r, "clinical_excellence"), v),
        "min_autonomy": lambda r, v: _at_least(criterion_score(r, "clinical_autonomy"), v),
    }
    kept, unknown = [], {}
    for row in rows:
        passed = True
        for name, value in filters.items():
            if name not in checks:
                continue
            verdict = checks[name](row, value)
            if verdict is None:
                unknown[name] = unknown.get(name, 0) + 1
            if not verdict:
                passed = False
                break
        if passed:
            kept.append(row)
    kept.sort(key=SORT_KEYS[filters.get("sort") or "total"])
    return kept, unknown
