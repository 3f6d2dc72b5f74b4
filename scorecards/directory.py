"""The MSO directory: filtering and sorting the latest snapshot's scorecards (pure functions).

A row is a scorecard document (see ``services.score_evidence``) with the MSO's facts added
under ``facts``. Filters never hide an MSO for missing evidence silently: an MSO without the
figure a filter asks about (insufficient data) does not pass that filter, and the page says how
many were left out that way.
"""


def _nps(row):
    return row["nps"]["nps"] if row["nps"]["status"] == "ok" else None


def _criterion(row, key):
    c = row["criteria"].get(key)
    return c["score"] if c and c["status"] == "ok" else None


def _accreditation_share(row):
    c = row["criteria"].get("clinical_excellence")
    return c["value"] if c and c["status"] == "ok" else None


SORT_KEYS = {
    # Missing figures sort last whatever the order; ties by name.
    "total": lambda r: (r["total"] is None, -(r["total"] or 0), r["name"]),
    "nps": lambda r: (_nps(r) is None, -(_nps(r) or 0), r["name"]),
    "trust": lambda r: (_criterion(r, "surgeon_trust") is None,
                        -(_criterion(r, "surgeon_trust") or 0), r["name"]),
    "practices": lambda r: (-r["facts"]["active_practices"], r["name"]),
    "name": lambda r: r["name"].casefold(),
}


def filter_and_sort(rows, filters):
    """Rows passing every filter, sorted; returns (rows, {filter: rows left out for lack of
    evidence})."""
    checks = {
        "focus": lambda r, v: r["facts"]["specialty_focus"] == v,
        "ownership": lambda r, v: r["facts"]["ownership_model"] == v,
        "state": lambda r, v: v in r["facts"]["states"],
        "min_nps": lambda r, v: None if _nps(r) is None else _nps(r) >= v,
        "min_accreditation": lambda r, v: (None if _accreditation_share(r) is None
                                           else _accreditation_share(r) >= v),
        "min_autonomy": lambda r, v: (None if _criterion(r, "clinical_autonomy") is None
                                      else _criterion(r, "clinical_autonomy") >= v),
    }  # fmt: skip
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
