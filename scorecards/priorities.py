"""A surgeon's own priorities: weights and must-haves applied to a snapshot (pure functions).

The totals, ranks and rank stability are computed by the same scoring functions as the
snapshot (``scoring.total_and_coverage``, ``is_ranked``, ``competition_ranks``,
``rank_stability``) from the criterion scores the snapshot stored, so a surgeon who keeps the
methodology's weights sees exactly the published ranking.

Must-haves never hide an MSO: one that fails a must-have stays listed, is left out of the
ranking and says which must-haves it fails. Missing evidence fails a must-have that needs it
(an MSO without enough responses has no NPS to be "at least 50").
"""

from .claims import FULL_AUTONOMY_MEAN
from .directory import criterion_value, nps_of
from .scoring import OK, competition_ranks, is_ranked, rank_stability, total_and_coverage

MAX_WEIGHT = 100


def _single_specialty_oms(row, wanted):
    facts = row["facts"]
    return facts["specialty_focus"] == "single" and (
        "oral and maxillofacial" in (facts["specialties"] or "").lower()
    )


def _full_autonomy(row, wanted):
    value = criterion_value(row, "clinical_autonomy")
    return value is not None and value >= FULL_AUTONOMY_MEAN


def _services(row, wanted):
    return set(wanted) <= set(row["facts"]["services"])


def _min_nps(row, wanted):
    return nps_of(row) is not None and nps_of(row) >= wanted


def _min_accreditation(row, wanted):
    value = criterion_value(row, "clinical_excellence")
    return value is not None and value >= wanted


# key: (what the surgeon sets, how a failure reads, the check)
MUST_HAVES = {
    "single_specialty_oms": ("Oral and maxillofacial surgery only (single specialty)",
                             lambda v: "is not single-specialty OMS", _single_specialty_oms),
    "full_autonomy": (f"Full clinical autonomy, as partners experience it "
                      f"({FULL_AUTONOMY_MEAN} of 5 or more)",
                      lambda v: "partners do not report full clinical autonomy (or too few "
                                "interviews)", _full_autonomy),
    "services": ("Services offered", None, _services),
    "min_nps": ("Patient NPS at least", lambda v: f"patient NPS is not at least {v} (or too "
                                                  "few responses)", _min_nps),
    "min_accreditation_share": ("Accredited practices at least (%)",
                                lambda v: f"fewer than {v}% of its practices are accredited",
                                _min_accreditation),
}  # fmt: skip


def failed_must_haves(row, must_haves, service_labels=None):
    """The sentences saying which of ``must_haves`` the row fails (empty when it meets all);
    ``service_labels`` names the service areas (their codes otherwise)."""
    labels = service_labels or {}
    failed = []
    for key, wanted in must_haves.items():
        if key not in MUST_HAVES or wanted in (None, False, "", []):
            continue
        _, says, check = MUST_HAVES[key]
        if check(row, wanted):
            continue
        if key == "services":
            missing = [a for a in wanted if a not in row["facts"]["services"]]
            failed.append("does not offer " + ", ".join(labels.get(a, a) for a in missing))
        else:
            failed.append(says(wanted))
    return failed


def _scores(row, keys):
    """{criterion: score, or None without enough evidence} of a scorecard row."""
    criteria = row["criteria"]
    return {k: criteria[k]["score"] if criteria[k]["status"] == OK else None for k in keys}


def rescore(rows, weights, must_haves, service_labels=None, *, published=None,
            stability_of=None):
    """Each row (a scorecard document with ``facts``) with ``mine``: {"total", "coverage",
    "ranked", "rank", "rank_stability", "failed"} under these weights and must-haves. Weights
    of criteria the snapshot does not have are ignored; all weights 0 ranks nobody.

    ``published`` is the snapshot's own weights: when they are the ones asked for and no
    must-have is set, the snapshot already holds the answer, which is copied, not recomputed.
    ``stability_of`` (slugs) limits the rank stability, the costly part, to those MSOs (the
    others get None); by default every ranked MSO gets it."""
    if published is not None and weights == published and not any(
        wanted not in (None, False, "", []) for wanted in must_haves.values()
    ):
        for row in rows:
            row["mine"] = {key: row[key] for key in
                           ("total", "coverage", "ranked", "rank", "rank_stability")}
            row["mine"]["failed"] = []
        return rows
    keys = [k for k in weights if rows and k in rows[0]["criteria"]]
    weights = {k: weights[k] for k in keys}
    weighted = sum(weights.values()) > 0
    totals, scores = {}, {}
    for i, row in enumerate(rows):
        scores[i] = _scores(row, keys)
        failed = failed_must_haves(row, must_haves, service_labels)
        total, coverage = total_and_coverage(scores[i], weights) if weighted else (None, 0.0)
        ranked = total is not None and is_ranked(coverage) and not failed
        row["mine"] = {"total": total, "coverage": coverage, "ranked": ranked, "rank": None,
                       "rank_stability": None, "failed": failed}  # fmt: skip
        if ranked:
            totals[i] = total
    ranks = competition_ranks(totals)
    ranked_ids = sorted(ranks, key=lambda i: (ranks[i], rows[i]["name"]))
    for i in ranked_ids:
        rows[i]["mine"]["rank"] = ranks[i]
    wanted = [position for position, i in enumerate(ranked_ids)
              if stability_of is None or rows[i]["slug"] in stability_of]  # fmt: skip
    stability = rank_stability(
        [[scores[i][k] for k in keys] for i in ranked_ids],
        [[0 if scores[i][k] is None else 1 for k in keys] for i in ranked_ids],
        [weights[k] for k in keys], of=None if stability_of is None else wanted,
    ) if wanted else []  # fmt: skip
    for position, share in zip(wanted, stability, strict=True):
        rows[ranked_ids[position]]["mine"]["rank_stability"] = share
    return rows
