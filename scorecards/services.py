"""Computing scorecard snapshots: a few aggregate queries feed the pure scoring functions."""

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from partners import jobs, selectors
from partners.jobs import JobError
from partners.models import (
    MSO,
    Accreditation,
    Benchmark,
    BenchmarkKind,
    Claim,
    Job,
    JobStatus,
    MSOService,
    PromiseItem,
    ReferenceInterview,
)
from partners.selectors import months_before

from . import claims as claim_checks
from . import profile, scoring
from .models import SUMMARY_KEYS, Methodology, MsoScorecard, ScorecardSnapshot
from .statistics import nps_band_of_interval, nps_estimate, world_class_streak

logger = logging.getLogger(__name__)
YEARS_SHOWN = 10
DEFAULT_HEALTHCARE_AVERAGE = 46.0


class NoPublishedMethodology(JobError):
    pass


class QueryCounter:
    """Counts the queries run inside ``connection.execute_wrapper(counter)``."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def current_methodology():
    methodology = (
        Methodology.objects.filter(published=True).prefetch_related("criteria")
        .order_by("-published_at", "-version").first()
    )  # fmt: skip
    if methodology is None:
        raise NoPublishedMethodology("No methodology is published; publish one first.")
    return methodology


HEALTHCARE_AVERAGE_KEY = "healthcare_average"


def benchmarks(as_of):
    """(healthcare average, [(band name, lower bound)]), each benchmark from its latest year
    up to as-of. The average is the one keyed ``healthcare_average`` (other averages, such as
    a dental one, are reference data for people, not for the scores)."""
    rows = Benchmark.objects.filter(year__lte=as_of.year).order_by("key", "-year")
    latest = {}
    for row in rows:
        latest.setdefault(row.key, row)
    healthcare = latest.get(HEALTHCARE_AVERAGE_KEY)
    average = float(healthcare.value) if healthcare else DEFAULT_HEALTHCARE_AVERAGE
    bands = [(b.name, float(b.value)) for b in latest.values() if b.kind == BenchmarkKind.BAND]
    return average, bands


def gather_evidence(*, as_of):
    """Everything the scorecards need about every published MSO, in a fixed number of queries.

    Returns a plain dict (JSON-serialisable) so that it can be fingerprinted.
    """
    first_month, last_month = months_before(as_of)
    last_full_year = as_of.year - 1
    msos = list(
        MSO.objects.filter(published=True)
        .order_by("name")
        .values("id", "slug", "name", "specialty_focus", "ownership_model", "specialties",
                "founded_year")
    )
    ids = [m["id"] for m in msos]
    nps_12 = selectors.msos_nps(first_month=first_month, last_month=last_month, mso_ids=ids)
    # The partial current year ends with the last full month before as-of, as the 12-month
    # window does: rollups are monthly, and nothing after as-of may enter a snapshot.
    by_year = selectors.msos_nps_by_year(
        first_year=last_full_year - YEARS_SHOWN + 1, last_year=as_of.year, through=last_month,
        mso_ids=ids,
    )  # fmt: skip
    practice_counts = selectors.msos_practices_nps(
        first_month=first_month, last_month=last_month, mso_ids=ids
    )
    interviews = (
        ReferenceInterview.objects.filter(mso_id__in=ids, interviewed_on__lte=as_of)
        .values("mso_id", "trust", "autonomy", "would_choose_again", "provenance")
        .annotate(n=Count("id"))
        .order_by()
    )
    ledger = (
        PromiseItem.objects.filter(interview__mso_id__in=ids, interview__interviewed_on__lte=as_of)
        .values("interview__mso_id", "service_area", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    ledger_interviews = (
        PromiseItem.objects.filter(interview__mso_id__in=ids, interview__interviewed_on__lte=as_of)
        .values("interview__mso_id")
        .annotate(n=Count("interview_id", distinct=True))
        .order_by()
    )
    claim_rows = Claim.objects.filter(mso_id__in=ids).order_by("mso_id", "id").values(
        "id", "mso_id", "statement", "kind", "parameters"
    )
    healthcare_average, bands = benchmarks(as_of)
    # For the profiles: the practices behind the figures, accreditations, advice, self-reported.
    active = selectors.msos_active_practices(day=as_of, mso_ids=ids)
    practice_names = {str(pid): [code, name] for rows in active.values()
                      for pid, code, name, _ in rows}  # fmt: skip
    active_ids = {int(pid) for pid in practice_names}
    counted_ids = {pid for counts in practice_counts.values() for pid in counts}
    practice_names.update((str(pid), list(names)) for pid, names in selectors.practice_names(
        practice_ids=counted_ids - active_ids).items())  # fmt: skip
    accreditations = (
        Accreditation.objects.filter(practice_id__in=active_ids, awarded_on__lte=as_of)
        .order_by("practice__code", "-expires_on", "body")
        .values_list("practice_id", "body", "awarded_on", "expires_on")
    )
    advice = (
        ReferenceInterview.objects.filter(mso_id__in=ids, interviewed_on__lte=as_of)
        .exclude(advice="").order_by("mso_id", "-interviewed_on", "id")
        .values_list("mso_id", "advice", "interviewee", "consent_to_quote", "provenance",
                     "interviewed_on")
    )  # fmt: skip
    self_reported = selectors.msos_self_reported_nps(
        first_month=first_month, last_month=last_month, mso_ids=ids
    )
    services = {}
    for mso_id, area in MSOService.objects.filter(mso_id__in=ids).values_list("mso_id", "area"):
        services.setdefault(mso_id, []).append(area)

    evidence = {
        m["id"]: {
            "slug": m["slug"], "name": m["name"], "specialty_focus": m["specialty_focus"],
            "services_offered": len(services.get(m["id"], ())) or None,
            "nps_12": list(_counts(nps_12.get(m["id"]))),
            "by_year": {str(y): list(_counts(e))
                        for y, e in sorted(by_year.get(m["id"], {}).items())},
            "practices": [], "trust": {}, "autonomy": {}, "would_choose_again": {},
            "provenance": {}, "promises": {}, "ledger_interviews": 0,
            "active_practices": 0, "accredited_practices": 0, "claims": [],
            "practice_counts": {}, "active_practice_ids": [], "ledger_by_area": {},
            "by_provenance": {}, "advice": [], "accreditations": [],
            "self_reported_12": list(_counts(self_reported.get(m["id"]))),
            "facts": {"ownership_model": m["ownership_model"],
                      "specialty_focus": m["specialty_focus"], "specialties": m["specialties"],
                      "founded_year": m["founded_year"],
                      "services": sorted(services.get(m["id"], ())), "states": []},
        }
        for m in msos
    }  # fmt: skip
    for mso_id, practices_of_mso in practice_counts.items():
        evidence[mso_id]["practices"] = [list(c) for c in practices_of_mso.values()]
        evidence[mso_id]["practice_counts"] = {str(pid): list(c)
                                               for pid, c in practices_of_mso.items()}  # fmt: skip
    for mso_id, rows in active.items():
        evidence[mso_id]["active_practice_ids"] = [pid for pid, _, _, _ in rows]
        evidence[mso_id]["active_practices"] = len(rows)
        evidence[mso_id]["facts"]["states"] = sorted({state for *_, state in rows})
    for row in interviews:
        e = evidence[row["mso_id"]]
        for field in ("trust", "autonomy", "would_choose_again", "provenance"):
            key = str(row[field])
            e[field][key] = e[field].get(key, 0) + row["n"]
        summary = e["by_provenance"].setdefault(
            row["provenance"], {"trust": {}, "autonomy": {}, "would_choose_again": {}}
        )
        for field in ("trust", "autonomy", "would_choose_again"):
            key = str(row[field])
            summary[field][key] = summary[field].get(key, 0) + row["n"]
    for row in ledger:
        e = evidence[row["interview__mso_id"]]
        e["promises"][row["outcome"]] = e["promises"].get(row["outcome"], 0) + row["n"]
        area = e["ledger_by_area"].setdefault(row["service_area"], {})
        area[row["outcome"]] = row["n"]
    mso_of_practice = {pid: mso_id for mso_id, rows in active.items() for pid, *_ in rows}
    accredited = {}  # practices with an accreditation current at as-of, per MSO
    for practice_id, body, awarded_on, expires_on in accreditations:
        mso_id = mso_of_practice[practice_id]
        evidence[mso_id]["accreditations"].append(
            [practice_id, body, awarded_on.isoformat(), expires_on.isoformat()]
        )
        if expires_on >= as_of:
            accredited.setdefault(mso_id, set()).add(practice_id)
    for mso_id, practice_ids in accredited.items():
        evidence[mso_id]["accredited_practices"] = len(practice_ids)
    for mso_id, *quote in advice:
        text, interviewee, consent, provenance, interviewed_on = quote
        evidence[mso_id]["advice"].append(
            [text, interviewee, consent, provenance, interviewed_on.isoformat()]
        )
    for row in ledger_interviews:
        evidence[row["interview__mso_id"]]["ledger_interviews"] = row["n"]
    for row in claim_rows:
        evidence[row["mso_id"]]["claims"].append(
            [row["id"], row["statement"], row["kind"], row["parameters"]]
        )
    return {
        "as_of": as_of.isoformat(),
        "first_month": first_month.isoformat(),
        "last_month": last_month.isoformat(),
        "last_full_year": last_full_year,
        "healthcare_average": healthcare_average,
        "bands": bands,
        "practice_names": practice_names,
        "msos": {str(k): v for k, v in evidence.items()},
    }


def _counts(estimate):
    if estimate is None:
        return (0, 0, 0)
    return (estimate.promoters, estimate.passives, estimate.detractors)


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



def _test_pause(point, detail=""):
    """A hook for tests/scorecards/test_reliability.py only, inert unless the environment
    variable SCORECARDS_TEST_PAUSE_DIR names a directory (that test sets it for the worker it
    starts). Reaching ``point`` writes ``<point>-<pid>-<ns>.arrived`` there (holding
    ``detail``), then waits, at most a minute, while ``<point>.hold`` exists: the test can kill
    this process, or run another computation alongside, right there."""
    directory = os.environ.get("SCORECARDS_TEST_PAUSE_DIR")
    if not directory:
        return
    arrived = Path(directory, f"{point}-{os.getpid()}-{time.time_ns()}.arrived")
    arrived.with_suffix(".tmp").write_text(str(detail))
    arrived.with_suffix(".tmp").replace(arrived)  # seen whole or not at all
    hold, deadline = Path(directory, f"{point}.hold"), time.monotonic() + 60
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


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


def scorecard_compute(*, as_of=None, job=None, progress=None):
    """Compute a snapshot of all published MSOs unless nothing changed since the last one.

    Returns (snapshot, created). All rows of a snapshot are written in one transaction, so a
    computation that dies half-way leaves nothing behind.
    """
    as_of = as_of or timezone.localdate()
    progress = progress or (lambda percent, message: None)
    progress(5, "Reading the evidence")
    queries = QueryCounter()
    with connection.execute_wrapper(queries):
        methodology = current_methodology()
        weights = methodology.weights()
        evidence = gather_evidence(as_of=as_of)
    digest = fingerprint(evidence, methodology, weights)
    existing = ScorecardSnapshot.objects.filter(fingerprint=digest).first()
    if existing:
        return existing, False
    progress(40, "Scoring")
    documents = score_evidence(evidence, weights)
    progress(80, "Saving the snapshot")
    try:
        with transaction.atomic():
            _test_pause("writing")  # past the fingerprint check, nothing written yet
            snapshot = ScorecardSnapshot.objects.create(
                methodology=methodology, data_as_of=as_of, fingerprint=digest, job=job,
                query_count=queries.count,
            )  # fmt: skip
            _test_pause("snapshot_row_written", snapshot.pk)  # its scorecards not yet
            MsoScorecard.objects.bulk_create(
                MsoScorecard(
                    snapshot=snapshot, mso_id=int(mso_id), rank=d["rank"], total=d["total"],
                    coverage=d["coverage"], rank_stability=d["rank_stability"], document=d,
                    summary={key: d.get(key) for key in SUMMARY_KEYS},
                )  # fmt: skip
                for mso_id, d in documents.items()
            )
    except IntegrityError:
        # Another computation of the same evidence won the race: use its snapshot.
        return ScorecardSnapshot.objects.get(fingerprint=digest), False
    return snapshot, True


def latest_snapshot():
    return ScorecardSnapshot.objects.select_related("methodology").order_by(
        "-computed_at", "-id"
    ).first()


def snapshot_document(snapshot):
    """The export document of a snapshot (see the README for its shape)."""
    methodology = snapshot.methodology
    cards = snapshot.scorecards.values_list("document", flat=True)
    ranked = sorted(cards, key=lambda d: (d["rank"] is None, d["rank"] or 0, d["name"]))
    return {
        "snapshot": {
            "id": snapshot.pk,
            "computed_at": snapshot.computed_at.isoformat(),
            "data_as_of": snapshot.data_as_of.isoformat(),
            "methodology": {
                "name": methodology.name, "version": methodology.version,
                "weights": methodology.weights(),
            },  # fmt: skip
        },
        "msos": [_in_document_order(d) for d in ranked],
    }


DOCUMENT_ORDER = ["slug", "name", "rank", "total", "coverage", "rank_stability", "ranked",
                  "criteria", "nps", "nps_by_year", "world_class_streak", "nps_tied_with",
                  "claims"]  # fmt: skip
CRITERION_ORDER = ["score", "value", "n", "ci_low", "ci_high", "status", "weight", "evidence"]


def _in_document_order(document):
    """JSON columns may reorder keys (PostgreSQL's jsonb does); export them in a fixed order."""
    ordered = {key: document[key] for key in DOCUMENT_ORDER if key in document}
    ordered["criteria"] = {
        key: {k: c[k] for k in CRITERION_ORDER if k in c}
        for key, c in document["criteria"].items()
    }
    return {**ordered, **{k: v for k, v in document.items() if k not in ordered}}



# --- Jobs ----------------------------------------------------------------------------------

COMPUTE_KIND = "compute_scorecards"
COMPUTE_TASK = "scorecards.tasks.scorecard_compute"  # by name: the task module imports this one
DEBOUNCE_SECONDS = 30


def scorecards_request_recompute(*, user=None, countdown=DEBOUNCE_SECONDS):
    """Ask for a new snapshot after evidence changed. However many requests arrive, at most
    one computation waits in the queue, starting ``countdown`` seconds after the first
    request; it sees every change made before it starts. Returns the queued (or already
    queued) job: never a failed one, nor one that no worker started in time (that one is
    failed, and a new one queued)."""
    for _ in range(3):
        pending = _pending_compute_job()
        if pending:
            return pending
        try:
            with transaction.atomic():
                return jobs.job_enqueue(task=COMPUTE_TASK, kind=COMPUTE_KIND, user=user,
                                        countdown=countdown)  # fmt: skip
        except IntegrityError:  # another request queued one a moment ago
            continue
    return _pending_compute_job()


def scorecards_recompute_now(*, user=None):
    """"Recompute now": start a computation at once. A computation already waiting for its
    debounce is sent again with no delay (its delayed message is then dropped); otherwise a
    new one is queued with none."""
    with transaction.atomic():
        pending = _pending_compute_job(lock=True)
        if pending is None:
            return scorecards_request_recompute(user=user, countdown=0)
        jobs.send_after_commit(pending, countdown=0)
    return pending


def _pending_compute_job(*, lock=False):
    """The healthy queued computation, if any; an orphaned one is failed on the way."""
    queued = Job.objects.filter(kind=COMPUTE_KIND, status=JobStatus.QUEUED)
    if lock:
        queued = queued.select_for_update()
    pending = queued.first()
    if pending is not None and Job.objects.filter(jobs.orphaned_q(), pk=pending.pk).exists():
        jobs.job_fail(pending, jobs.NOT_STARTED)
        return None
    return pending


def scorecard_compute_job(job):
    """The job's service: compute a snapshot, reporting progress on the job's row."""
    snapshot, created = scorecard_compute(
        job=job, progress=lambda percent, message: jobs.job_progress(job, percent=percent,
                                                                     message=message),
    )  # fmt: skip
    return {"snapshot_id": snapshot.pk, "created": created}


def latest_compute_job():
    job = Job.objects.filter(kind=COMPUTE_KIND).order_by("-created_at", "-id").first()
    return job and jobs.job_followed(job)


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


# --- Methodology versions ------------------------------------------------------------------


def weights_problem(weights):
    """The message for weights that do not sum to 100, or None."""
    total = sum(weights)
    if total != 100:
        return f"The weights add up to {total}; they must add up to 100."
    return None


def methodology_new_version(*, methodology):
    """A draft copy of a methodology as its next version; published versions never change."""
    with transaction.atomic():
        latest = (
            Methodology.objects.select_for_update().filter(name=methodology.name)
            .order_by("-version").first()
        )  # fmt: skip
        draft = Methodology.objects.create(
            name=methodology.name, version=latest.version + 1, notes=methodology.notes
        )
        draft.criteria.bulk_create(
            type(c)(methodology=draft, key=c.key, weight=c.weight)
            for c in methodology.criteria.all()
        )
    return draft


def methodology_publish(*, methodology):
    """Publish a draft; refuses weights that do not sum to 100. The next snapshot uses it."""
    from django.core.exceptions import ValidationError

    problem = weights_problem(c.weight for c in methodology.criteria.all())
    if problem:
        raise ValidationError(problem)
    methodology.published, methodology.published_at = True, timezone.now()
    methodology.save(update_fields=["published", "published_at"])
    transaction.on_commit(lambda: scorecards_request_recompute(countdown=0))
    return methodology
