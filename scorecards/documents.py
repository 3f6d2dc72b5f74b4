"""A snapshot's documents, built from the evidence as gathered (pure functions, no Django
import, like ``scoring``): every figure of an MSO's scorecard with its n and interval, its
ranks and ties, its profile's evidence, and the export's order and CSV rows.

``score_evidence(evidence, weights)`` is the whole computation after the reading
(``selectors.gather_evidence``); ``fingerprint`` says whether a snapshot of that evidence
exists already. ``DOCUMENT_VERSION`` is raised whenever what a document holds changes.
"""

import hashlib
import json

from . import claims as claim_checks
from . import profile, scoring
from .statistics import nps_band_of_interval, nps_estimate, world_class_streak


def _ratings(histogram):
    return {int(k): v for k, v in histogram.items()}


# Raised whenever the scoring or the documents change, so that the next computation stores a
# new snapshot of unchanged evidence rather than keeping one computed the old way.
DOCUMENT_VERSION = 5


def fingerprint(evidence, methodology, weights):
    """A digest of what a snapshot is computed from; the as-of date enters through the
    evidence (the 12-month window), not by itself, so an unchanged window gives no new
    snapshot."""
    payload = {k: v for k, v in evidence.items() if k != "as_of"}
    payload["methodology"] = [methodology.pk, sorted(weights.items())]
    payload["document_version"] = DOCUMENT_VERSION
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def nps_document(counts, bands):
    """The NPS of some counts for a document. Below the minimum (status insufficient data)
    ``nps``, ``ci_low``, ``ci_high`` and ``band`` are null: only the counts and n are given, so
    that no reader quotes a figure the methodology does not stand behind."""
    est = nps_estimate(*counts)
    sufficient = est.sufficient
    return {
        "n": est.n, "promoters": est.promoters, "passives": est.passives,
        "detractors": est.detractors, "nps": est.nps if sufficient else None,
        "ci_low": est.ci_low if sufficient else None,
        "ci_high": est.ci_high if sufficient else None,
        "band": nps_band_of_interval(est.ci_low, est.ci_high, bands) if sufficient else None,
        "status": scoring.OK if sufficient else scoring.INSUFFICIENT,
    }  # fmt: skip


def score_evidence(evidence, weights):
    """Pure: evidence (as gathered) and weights -> {mso_id: document} with ranks and ties."""
    keys = list(weights)
    documents, results_by_id, totals = {}, {}, {}
    for mso_id, e in evidence["msos"].items():
        mso_evidence = scoring.MsoEvidence(
            promoters=e["nps_12"][0], passives=e["nps_12"][1], detractors=e["nps_12"][2],
            practice_counts=[tuple(c) for c in e["practices"]],
            healthcare_average=evidence["healthcare_average"],
            trust=_ratings(e["trust"]), autonomy=_ratings(e["autonomy"]),
            would_choose_again=e["would_choose_again"], promises=e["promises"],
            interviews_with_ledger=e["ledger_interviews"],
            active_practices=e["active_practices"],
            accredited_practices=e["accredited_practices"],
            services_offered=e["services_offered"],
        )  # fmt: skip
        results = scoring.score_criteria(mso_evidence, keys)
        total, coverage = scoring.total_and_coverage(scoring.scores_of(results), weights)
        results_by_id[mso_id] = results
        ranked = scoring.is_ranked(coverage)
        if ranked:
            totals[mso_id] = total
        claim_evidence = claim_checks.ClaimEvidence(
            last_12_months=tuple(e["nps_12"]),
            by_year={int(y): tuple(c) for y, c in e["by_year"].items()},
            last_full_year=evidence["last_full_year"],
            active_practices=e["active_practices"],
            accredited_practices=e["accredited_practices"],
            specialty_focus=e["specialty_focus"], autonomy=_ratings(e["autonomy"]),
        )  # fmt: skip
        claims = []
        for _claim_id, statement, kind, parameters in e["claims"]:
            verdict = claim_checks.check_claim(kind, parameters or {}, claim_evidence)
            claims.append({"statement": statement, "kind": kind, "verdict": verdict.verdict,
                           "evidence": verdict.evidence, "figures": verdict.figures})  # fmt: skip
        by_year_counts = {int(y): tuple(c) for y, c in e["by_year"].items()}
        documents[mso_id] = {
            "slug": e["slug"], "name": e["name"],
            "rank": None, "total": total if ranked else None, "coverage": coverage,
            "rank_stability": None, "ranked": ranked,
            "criteria": {
                key: {
                    "score": r.score, "value": r.value, "n": r.n, "ci_low": r.ci_low,
                    "ci_high": r.ci_high, "status": r.status, "weight": weights[key],
                    "evidence": r.evidence,
                }
                for key, r in results.items()
            },
            "nps": nps_document(e["nps_12"], evidence["bands"]),
            "nps_by_year": [
                {"year": year, **{k: v for k, v in nps_document(c, evidence["bands"]).items()
                                  if k in ("n", "nps", "ci_low", "ci_high", "status")}}
                for year, c in sorted(by_year_counts.items())
            ],
            "world_class_streak": world_class_streak(by_year_counts, evidence["last_full_year"]),
            "interviews": {"by_provenance": e["provenance"],
                           "summary": _interview_summary(e["by_provenance"])},
            "self_reported_nps": nps_document(e["self_reported_12"], evidence["bands"]),
            **_profile_document(e, evidence),
            "claims": claims,
            "nps_tied_with": [],
            "facts": {**e["facts"], "active_practices": e["active_practices"]},
        }  # fmt: skip
    ranks = scoring.competition_ranks(totals)
    ranked_ids = sorted(ranks, key=lambda k: (ranks[k], documents[k]["name"]))
    stability = scoring.rank_stability(
        [[results_by_id[i][k].score for k in keys] for i in ranked_ids],
        [[1 if results_by_id[i][k].status == scoring.OK else 0 for k in keys] for i in ranked_ids],
        [weights[k] for k in keys],
    )
    for mso_id, share in zip(ranked_ids, stability, strict=True):
        documents[mso_id]["rank"] = ranks[mso_id]
        documents[mso_id]["rank_stability"] = share
    ties = scoring.nps_ties({i: tuple(e["nps_12"]) for i, e in evidence["msos"].items()})
    for mso_id, others in ties.items():
        documents[mso_id]["nps_tied_with"] = sorted(documents[o]["slug"] for o in others)
    return documents


def _interview_summary(by_provenance):
    """Per provenance (MSO-supplied, independent): n, mean trust and autonomy (1 to 5), and the
    would-choose-again answers."""
    summary = {}
    for provenance, answers in sorted(by_provenance.items()):
        trust, autonomy = _ratings(answers["trust"]), _ratings(answers["autonomy"])
        n = sum(trust.values())
        summary[provenance] = {
            "n": n,
            "trust": sum(r * c for r, c in trust.items()) / n if n else None,
            "autonomy": sum(r * c for r, c in autonomy.items()) / n if n else None,
            "would_choose_again": answers["would_choose_again"],
        }
    return summary


def _profile_document(e, evidence):
    """The profile's evidence beside the criteria: the practices (each with its own NPS), the
    average NPS of affiliated practices, the promise ledger per service area, the advice that
    may be quoted, and the accreditations, current and expired, of the active practices."""
    names, as_of = evidence["practice_names"], evidence["as_of"]
    active = set(e["active_practice_ids"])
    counts = {int(pid): tuple(c) for pid, c in e["practice_counts"].items()}
    practices = []
    for pid in sorted(active | set(counts), key=lambda p: (-sum(counts.get(p, (0, 0, 0))), p)):
        code, name = names[str(pid)]
        practices.append({"id": pid, "code": code, "name": name, "active": pid in active,
                          **nps_document(counts.get(pid, (0, 0, 0)), evidence["bands"])})
    interviews = sum(e["provenance"].values())
    return {
        "practices": practices,
        "active_practices": len(active),
        "practice_average_nps": profile.practice_average(counts, active),
        "ledger": [{"area": area, **{k: c.get(k, 0) for k in ("kept", "partly", "broken")}}
                   for area, c in sorted(e["ledger_by_area"].items())],
        "advice": profile.quotable_advice([tuple(q) for q in e["advice"]], interviews),
        "accreditations": [
            {"practice_id": pid, "practice": names[str(pid)][1], "body": body,
             "awarded_on": awarded, "expires_on": expires, "current": expires >= as_of}
            for pid, body, awarded, expires in e["accreditations"]
        ],
    }  # fmt: skip


DOCUMENT_ORDER = ["slug", "name", "rank", "total", "coverage", "rank_stability", "ranked",
                  "criteria", "nps", "nps_by_year", "world_class_streak", "nps_tied_with",
                  "claims"]  # fmt: skip
CRITERION_ORDER = ["score", "value", "n", "ci_low", "ci_high", "status", "weight", "evidence"]


def in_document_order(document):
    """JSON columns may reorder keys (PostgreSQL's jsonb does); export them in a fixed order."""
    ordered = {key: document[key] for key in DOCUMENT_ORDER if key in document}
    ordered["criteria"] = {
        key: {k: c[k] for k in CRITERION_ORDER if k in c}
        for key, c in document["criteria"].items()
    }
    return {**ordered, **{k: v for k, v in document.items() if k not in ordered}}


def snapshot_csv_rows(document):
    """The export as CSV rows: a header, then one row per MSO."""
    weights = document["snapshot"]["methodology"]["weights"]
    keys = list(weights)
    header = ["rank", "slug", "name", "total", "coverage", "rank_stability", "nps_n", "nps",
              "nps_ci_low", "nps_ci_high", "nps_band"]  # fmt: skip
    for key in keys:
        header += [f"{key}_score", f"{key}_value", f"{key}_n", f"{key}_status"]
    rows = [header]
    for mso in document["msos"]:
        nps = mso["nps"]
        row = [mso["rank"], mso["slug"], mso["name"], mso["total"], mso["coverage"],
               mso["rank_stability"], nps["n"], nps["nps"], nps["ci_low"], nps["ci_high"],
               nps["band"]]  # fmt: skip
        for key in keys:
            c = mso["criteria"][key]
            row += [c["score"], c["value"], c["n"], c["status"]]
        rows.append(["" if v is None else v for v in row])
    return rows
