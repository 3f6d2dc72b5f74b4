"""Scoring as pure functions: evidence in, scores out. No Django import.

Each criterion takes aggregated evidence and returns a CriterionResult: a score from 0 to 100
or "insufficient data", with the raw value, the n behind it and an interval where it has one.
Missing evidence is never scored as 0 or as 100. The total is the weighted mean over the
criteria that have evidence, with the share of the weight they cover; an MSO whose evidence
covers less than 60% of the weight is listed unranked.

Scales. ``score``, ``ci_low`` and ``ci_high`` are always on the score's 0-100 scale, so the
interval holds the score. ``value`` is on the criterion's own scale (NPS points from -100 to
100, a mean rating from 1 to 5, or a percentage for shares), and ``evidence["value_ci"]`` is the
same interval as ``[low, high]`` on that scale ("NPS 52 (95% CI 47 to 57)"). A criterion below
its minimum evidence has no score and no interval (``ci_low``/``ci_high`` None, no
``value_ci``); its ``value`` may still be reported.

Every result's ``evidence`` also says:

- ``minimum``: the minimum evidence, as a phrase that names its unit ("30 responses",
  "5 promise-ledger items from 3 interviews"); the same text as ``MINIMUM_EVIDENCE[key]``;
- ``n_unit``: what ``n`` counts ("responses", "interviews", "practices", ...);
- ``interval``: how the 95% interval is computed, or None where there is none (support breadth,
  whose evidence also carries ``note = "self-reported, no interval"``).
"""

import functools
import math
import random
from dataclasses import dataclass, field

import numpy as np

from .statistics import MIN_RESPONSES, Z_95, nps_estimate, statistically_tied

OK = "ok"
INSUFFICIENT = "insufficient_data"
MIN_COVERAGE = 0.6
MIN_INTERVIEWS = 3
MIN_LEDGER_ITEMS = 5
MIN_CONSISTENCY_PRACTICES = 3
SERVICE_AREAS = 11
STABILITY_DRAWS = 1000
STABILITY_FACTORS = (0.5, 1.5)  # each draw multiplies each weight by a factor in this range
STABILITY_SEED = 20240601


@dataclass(frozen=True)
class CriterionResult:
    key: str
    score: float | None
    value: float | None
    n: int
    ci_low: float | None = None
    ci_high: float | None = None
    evidence: dict = field(default_factory=dict)

    @property
    def status(self):
        return OK if self.score is not None else INSUFFICIENT


@dataclass
class MsoEvidence:
    """Everything the criteria need about one MSO, already aggregated (counts, not rows)."""

    # Response-level NPS over the 12 months before data-as-of.
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    # (P, passives, D) of each practice over the same months, while with this MSO.
    practice_counts: list = field(default_factory=list)
    healthcare_average: float = 46.0
    # Interviews: ratings 1-5 as {rating: count}, answers as counts.
    trust: dict = field(default_factory=dict)
    autonomy: dict = field(default_factory=dict)
    would_choose_again: dict = field(default_factory=dict)  # {"yes": n, "unsure": n, "no": n}
    promises: dict = field(default_factory=dict)  # {"kept": n, "partly": n, "broken": n}
    interviews_with_ledger: int = 0
    # Practices affiliated at data-as-of, and how many of them hold a current accreditation.
    active_practices: int = 0
    accredited_practices: int = 0
    # Service areas the MSO says it offers (self-reported); None when the profile lists none.
    services_offered: int | None = None


MINIMUM_EVIDENCE = {
    "patient_experience": f"{MIN_RESPONSES} responses",
    "practice_consistency": f"{MIN_CONSISTENCY_PRACTICES} practices with {MIN_RESPONSES}+ "
    "responses each",
    "surgeon_trust": f"{MIN_INTERVIEWS} interviews",
    "would_choose_again": f"{MIN_INTERVIEWS} interviews",
    "promise_keeping": f"{MIN_LEDGER_ITEMS} promise-ledger items from {MIN_INTERVIEWS} interviews",
    "clinical_autonomy": f"{MIN_INTERVIEWS} interviews",
    "clinical_excellence": "1 active practice",
    "support_breadth": "a filled-in profile (1 service area)",
}
N_UNITS = {
    "patient_experience": "responses",
    "practice_consistency": "practices",
    "surgeon_trust": "interviews",
    "would_choose_again": "interviews",
    "promise_keeping": "ledger items",
    "clinical_autonomy": "interviews",
    "clinical_excellence": "practices",
    "support_breadth": "service areas",
}
INTERVAL_METHODS = {
    "patient_experience": "adjusted-Wald interval of the NPS, mapped as (NPS + 100) / 2",
    "practice_consistency": "Wilson interval of the share",
    "surgeon_trust": "normal interval of the mean rating, mapped as (rating - 1) / 4 x 100",
    "would_choose_again": "Wilson interval on the weighted successes (yes + unsure / 2)",
    "promise_keeping": "Wilson interval on the weighted successes (kept + partly / 2)",
    "clinical_autonomy": "normal interval of the mean rating, mapped as (rating - 1) / 4 x 100",
    "clinical_excellence": "Wilson interval of the share",
    "support_breadth": None,
}


def _stated(key, evidence):
    """The criterion's evidence with its minimum, the unit of its n and its interval method."""
    return {**evidence, "minimum": MINIMUM_EVIDENCE[key], "n_unit": N_UNITS[key],
            "interval": INTERVAL_METHODS[key]}  # fmt: skip


def _insufficient(key, value, n, **evidence):
    return CriterionResult(key, None, value, n, evidence=_stated(key, evidence))


def _result(key, score, value, n, evidence, score_ci=(None, None), value_ci=None):
    """A scored result; ``score_ci`` is on the 0-100 scale, ``value_ci`` on the value's own."""
    evidence = _stated(key, evidence)
    if value_ci is not None and value_ci[0] is not None:
        evidence["value_ci"] = [value_ci[0], value_ci[1]]
    return CriterionResult(key, score, value, n, score_ci[0], score_ci[1], evidence)


def wilson_interval(successes, n, z=Z_95):
    """95% Wilson interval of a proportion, as percentages.

    ``successes`` may be fractional (weighted outcomes). The interval always holds the share
    itself: the bounds are widened by float noise at most (at 0 and at n successes).
    """
    if n == 0:
        return None, None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))
    return 100 * low, 100 * high


def _rating_stats(histogram):
    """(n, mean, low, high) of 1-5 ratings; the interval is the normal one for the mean."""
    n = sum(histogram.values())
    if n == 0:
        return 0, None, None, None
    mean = sum(r * c for r, c in histogram.items()) / n
    if n < 2:
        return n, mean, None, None
    variance = sum(c * (r - mean) ** 2 for r, c in histogram.items()) / (n - 1)
    half = Z_95 * math.sqrt(variance / n)
    return n, mean, max(1.0, mean - half), min(5.0, mean + half)


def _rating_to_score(rating):
    return None if rating is None else 100 * (rating - 1) / 4


def _nps_to_score(nps):
    return (nps + 100) / 2


def patient_experience(e):
    """(NPS + 100) / 2. The adjusted-Wald interval of the NPS is mapped the same way for
    ``ci_low``/``ci_high``; ``evidence["value_ci"]`` keeps it in NPS points."""
    est = nps_estimate(e.promoters, e.passives, e.detractors)
    evidence = {"promoters": e.promoters, "passives": e.passives, "detractors": e.detractors}
    if est.n < MIN_RESPONSES:
        return _insufficient("patient_experience", est.nps, est.n, **evidence)
    return _result(
        "patient_experience", _nps_to_score(est.nps), est.nps, est.n, evidence,
        score_ci=(_nps_to_score(est.ci_low), _nps_to_score(est.ci_high)),
        value_ci=(est.ci_low, est.ci_high),
    )  # fmt: skip


def practice_consistency(e):
    counted = [c for c in e.practice_counts if sum(c) >= MIN_RESPONSES]
    above = sum(1 for c in counted if nps_estimate(*c).nps > e.healthcare_average)
    n = len(counted)
    evidence = {"practices_counted": n, "above_average": above,
                "healthcare_average": e.healthcare_average}  # fmt: skip
    share = 100 * above / n if n else None
    if n < MIN_CONSISTENCY_PRACTICES:
        return _insufficient("practice_consistency", share, n, **evidence)
    interval = wilson_interval(above, n)
    return _result("practice_consistency", share, share, n, evidence, interval, interval)


def _rating_criterion(key, histogram):
    """Mean rating (1 to 5) mapped to (r - 1) / 4 x 100; its normal interval is mapped the
    same way, and kept on the 1-5 scale in ``evidence["value_ci"]``."""
    n, mean, low, high = _rating_stats(histogram)
    evidence = {"ratings": {str(r): c for r, c in sorted(histogram.items())}}
    if n < MIN_INTERVIEWS:
        return _insufficient(key, mean, n, **evidence)
    return _result(key, _rating_to_score(mean), mean, n, evidence,
                   score_ci=(_rating_to_score(low), _rating_to_score(high)),
                   value_ci=(low, high))  # fmt: skip


def surgeon_trust(e):
    return _rating_criterion("surgeon_trust", e.trust)


def clinical_autonomy(e):
    return _rating_criterion("clinical_autonomy", e.autonomy)


def _weighted_share(key, full, half, n, evidence, enough):
    """100 x (full + half / 2) / n, with the Wilson interval on the weighted successes
    (full + half / 2 out of n). The 0 / 0.5 / 1 codes never vary more than 0/1 outcomes with
    the same mean (their variance is at most p(1 - p)), so this interval is, if anything, a
    little wide; unlike a normal interval on the mean it does not shrink to a point when
    every answer is the same."""
    successes = full + 0.5 * half
    value = 100 * successes / n if n else None
    if not enough:
        return _insufficient(key, value, n, **evidence)
    interval = wilson_interval(successes, n)
    return _result(key, value, value, n, evidence, interval, interval)


def would_choose_again(e):
    """yes = 1, unsure = 0.5, no = 0, as a percentage; Wilson interval on the weighted
    successes (see ``_weighted_share``)."""
    yes, unsure, no = (e.would_choose_again.get(k, 0) for k in ("yes", "unsure", "no"))
    n = yes + unsure + no
    evidence = {"yes": yes, "unsure": unsure, "no": no}
    return _weighted_share("would_choose_again", yes, unsure, n, evidence, n >= MIN_INTERVIEWS)


def promise_keeping(e):
    """kept = 1, partly = 0.5, broken = 0 over the promise ledger, as a percentage; Wilson
    interval on the weighted successes over the ledger items (see ``_weighted_share``)."""
    kept, partly, broken = (e.promises.get(k, 0) for k in ("kept", "partly", "broken"))
    n = kept + partly + broken
    evidence = {"kept": kept, "partly": partly, "broken": broken,
                "interviews": e.interviews_with_ledger}  # fmt: skip
    enough = n >= MIN_LEDGER_ITEMS and e.interviews_with_ledger >= MIN_INTERVIEWS
    return _weighted_share("promise_keeping", kept, partly, n, evidence, enough)


def clinical_excellence(e):
    """Share of active affiliated practices with a current accreditation, Wilson interval;
    needs 1 active practice, a minimum every result states (a score at n = 2 is shown with
    its wide interval and its minimum, not as if it were settled)."""
    n, accredited = e.active_practices, e.accredited_practices
    evidence = {"active_practices": n, "accredited_practices": accredited}
    if n < 1:
        return _insufficient("clinical_excellence", None, 0, **evidence)
    share = 100 * accredited / n
    interval = wilson_interval(accredited, n)
    return _result("clinical_excellence", share, share, n, evidence, interval, interval)


def support_breadth(e):
    """Share of the 11 service areas the MSO says it offers. Self-reported and a count over a
    fixed list, not a sample: it has no interval, and its evidence says so."""
    evidence = {"self_reported": True, "service_areas": SERVICE_AREAS,
                "note": "self-reported, no interval"}  # fmt: skip
    if not e.services_offered:
        return _insufficient("support_breadth", None, 0, **evidence)
    share = 100 * e.services_offered / SERVICE_AREAS
    return _result("support_breadth", share, share, e.services_offered,
                   {**evidence, "offered": e.services_offered})  # fmt: skip


CRITERIA = {
    "patient_experience": patient_experience,
    "practice_consistency": practice_consistency,
    "surgeon_trust": surgeon_trust,
    "would_choose_again": would_choose_again,
    "promise_keeping": promise_keeping,
    "clinical_autonomy": clinical_autonomy,
    "clinical_excellence": clinical_excellence,
    "support_breadth": support_breadth,
}


def score_criteria(evidence, keys):
    return {key: CRITERIA[key](evidence) for key in keys}


def scores_of(results):
    """{criterion: score or None} of {criterion: CriterionResult}."""
    return {k: r.score for k, r in results.items()}


def total_and_coverage(scores, weights):
    """Weighted mean over the criteria with evidence, and the share of the weight they cover.

    ``scores`` is {criterion: score, or None without enough evidence}:
    total = sum(w_k * s_k over scored k) / sum(w_k over scored k);
    coverage = sum(w_k over scored k) / sum(w_k)."""
    covered = sum(weights[k] for k, score in scores.items() if score is not None)
    whole = sum(weights.values())
    if covered == 0:
        return None, 0.0
    total = sum(weights[k] * score for k, score in scores.items() if score is not None) / covered
    return total, covered / whole


def is_ranked(coverage):
    return coverage >= MIN_COVERAGE - 1e-9


def competition_ranks(totals):
    """{id: total} of ranked MSOs -> {id: rank}; equal totals share a rank (1, 2, 2, 4)."""
    ordered = sorted(totals.items(), key=lambda item: -item[1])
    ranks, previous, rank = {}, None, 0
    for position, (key, total) in enumerate(ordered, start=1):
        if previous is None or round(total, 9) != round(previous, 9):
            rank = position
        ranks[key], previous = rank, total
    return ranks


def rank_stability(score_matrix, ok_matrix, weights, draws=STABILITY_DRAWS, seed=STABILITY_SEED,
                   of=None):
    """Share of random weightings under which each ranked MSO keeps its rank.

    ``score_matrix`` and ``ok_matrix`` are (MSOs x criteria); weights are per criterion. Each
    draw multiplies every weight by a factor drawn uniformly from ``STABILITY_FACTORS`` (0.5 to
    1.5; then the weights are renormalised, which leaves weighted means unchanged); ranks are
    recomputed over the same MSOs. The scores themselves are not re-drawn: this measures how
    much a rank depends on the chosen weights, not the sampling error of the scores (which
    their intervals show). Deterministic for its seed.

    ``of`` (row indices) asks for those MSOs' shares only, in that order: their ranks are still
    counted among all the MSOs, but only theirs are computed (a compare page needs 5 of 300).
    """
    scores = np.nan_to_num(np.asarray(score_matrix, dtype=float))
    ok = np.asarray(ok_matrix, dtype=float)
    base = np.asarray(weights, dtype=float)
    if scores.shape[0] == 0:
        return []
    drawn = _stability_factors(draws, len(base), seed) * base  # draws x criteria
    totals_all = np.vstack([base, drawn])
    totals = (totals_all @ (scores * ok).T) / (totals_all @ ok.T)  # (1 + draws) x MSOs
    if of is None:
        ranks = _competition_ranks_rows(totals)
    else:
        rounded = np.round(totals, 9)
        wanted = rounded[:, list(of)]  # (1 + draws) x len(of)
        ranks = 1 + (rounded[:, None, :] > wanted[:, :, None]).sum(axis=2)
    kept = (ranks[1:] == ranks[0]).mean(axis=0)
    return [float(x) for x in kept]


@functools.lru_cache(maxsize=16)
def _stability_factors(draws, criteria, seed):
    """The (draws x criteria) weight factors of ``rank_stability``, drawn once per process for
    each shape and seed (read-only: every caller multiplies, none writes)."""
    rng = random.Random(seed)
    factors = np.array([[rng.uniform(*STABILITY_FACTORS) for _ in range(criteria)]
                        for _ in range(draws)])  # fmt: skip
    factors.flags.writeable = False
    return factors


def _competition_ranks_rows(totals):
    """Competition ranks of each row (higher total first), rounding away float noise:
    rank = 1 + the number of MSOs with a strictly higher total in the same row.

    Vectorised over the rows: sort each row descending (in any order among equals); a value's
    rank is 1 + the position of the first equal value in its sorted row (a running maximum of
    the positions where a new value starts); the ranks are then put back in the original order.
    """
    rounded = np.round(totals, 9)
    rows, columns = rounded.shape
    order = np.argsort(-rounded, axis=1)
    ordered = np.take_along_axis(rounded, order, axis=1)
    positions = np.broadcast_to(np.arange(columns), (rows, columns))
    starts = np.ones((rows, columns), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first_equal = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
    ranks = np.empty((rows, columns), dtype=int)
    np.put_along_axis(ranks, order, first_equal + 1, axis=1)
    return ranks


def nps_ties(counts_by_id):
    """{id: (P, passives, D)} of MSOs with enough responses -> {id: sorted ids tied with it}."""
    ids = sorted(k for k, c in counts_by_id.items() if sum(c) >= MIN_RESPONSES)
    tied = {k: [] for k in ids}
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if statistically_tied(counts_by_id[a], counts_by_id[b]):
                tied[a].append(b)
                tied[b].append(a)
    return tied


def not_ranked_reason(*, coverage, failed=()):
    """Why an MSO has no total, in words, wherever a total would stand: an unranked MSO
    never shows a number there (a total over 15% of the weight is no total)."""
    if failed:
        return "not ranked: fails the must-haves (" + "; ".join(failed) + ")"
    return (f"not ranked: evidence for {round(100 * coverage)}% of the weight, "
            f"{round(100 * MIN_COVERAGE)}% needed")
