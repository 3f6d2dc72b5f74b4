"""Read queries: the evidence a snapshot is computed from (``gather_evidence``, in a fixed
number of aggregate queries), the reference data it is read against (``benchmarks``), and the
snapshots the pages read; each a fixed number of queries whatever the number of MSOs."""

import datetime

from django.db.models import Count

from partners import selectors as partner_reads
from partners.models import (
    MSO,
    Accreditation,
    Affiliation,
    Benchmark,
    BenchmarkKind,
    Claim,
    MSOService,
    PromiseItem,
    ReferenceInterview,
)
from partners.selectors import months_before, msos_practices_nps, practice_names

from .cache import snapshot_cached
from .documents import in_document_order
from .models import MsoScorecard, ScorecardSnapshot

YEARS_SHOWN = 10
DEFAULT_HEALTHCARE_AVERAGE = 46.0


def _snapshot_rows(snapshot):
    """[(mso_id, summary)] of the snapshot's scorecards: one query the first time, none after
    while the cache keeps them (decoding 300 summaries costs a page ~40 ms)."""

    def read():
        cards = list(
            MsoScorecard.objects.filter(snapshot=snapshot).values_list("mso_id", "summary")
        )
        if any("facts" not in summary for _, summary in cards):
            _facts_of_older_documents(snapshot, cards)
        return cards

    return snapshot_cached(snapshot, "rows", read)


def _facts_of_older_documents(snapshot, cards):
    """Snapshots computed before documents held the MSO's facts get today's: 3 queries."""
    ids = [mso_id for mso_id, _ in cards]
    facts = {m.pop("id"): m for m in MSO.objects.filter(pk__in=ids).values(
        "id", "ownership_model", "specialty_focus", "specialties", "founded_year")}  # fmt: skip
    states, services = {}, {}
    for mso_id, state in (
        Affiliation.objects.active_on(snapshot.data_as_of)
        .filter(mso_id__in=ids).values_list("mso_id", "practice__state").distinct()
    ):  # fmt: skip
        states.setdefault(mso_id, set()).add(state)
    for mso_id, area in MSOService.objects.filter(mso_id__in=ids).values_list("mso_id", "area"):
        services.setdefault(mso_id, []).append(area)
    for mso_id, summary in cards:
        summary["facts"] = {**facts[mso_id], "states": sorted(states.get(mso_id, ())),
                            "services": sorted(services.get(mso_id, ())),
                            "active_practices": summary["active_practices"] or 0}  # fmt: skip


def directory_rows(*, snapshot):
    """Every scorecard summary of the snapshot, each a new dict with its ``mso_id`` and the
    MSO's facts at data-as-of under ``facts`` (ownership model, focus, specialties, founding
    year, services offered, states of its practices, active practices): one query the first
    time the snapshot is read, none after. Callers may change a row's own keys, not what
    they hold."""
    return [{**summary, "mso_id": mso_id} for mso_id, summary in _snapshot_rows(snapshot)]


def mso_for_profile(*, slug):
    """A published MSO with its services: 2 queries."""
    return MSO.objects.filter(published=True, slug=slug).prefetch_related("services").first()


def scorecard_of(*, snapshot, mso):
    return MsoScorecard.objects.filter(snapshot=snapshot, mso=mso).first()


def names_of(*, slugs):
    """{slug: name} of the MSOs with these slugs: one query (none for no slugs)."""
    if not slugs:
        return {}
    return dict(MSO.objects.filter(slug__in=slugs).values_list("slug", "name"))


def interviews_of(*, mso, as_of):
    """The MSO's reference interviews up to ``as_of``, newest first, each a dict with its
    promise ledger under ``promises``: 2 queries."""
    interviews = list(
        ReferenceInterview.objects.filter(mso=mso, interviewed_on__lte=as_of)
        .order_by("-interviewed_on", "-id")
        .values("id", "interviewee", "consent_to_quote", "provenance", "interviewed_on",
                "years_affiliated", "trust", "autonomy", "would_choose_again", "promised",
                "delivered", "advice")
    )  # fmt: skip
    promises = {}
    for interview_id, *item in (
        PromiseItem.objects.filter(interview_id__in=[i["id"] for i in interviews])
        .order_by("service_area").values_list("interview_id", "service_area", "outcome", "note")
    ):  # fmt: skip
        promises.setdefault(interview_id, []).append(dict(zip(("area", "outcome", "note"), item,
                                                              strict=True)))  # fmt: skip
    for interview in interviews:
        interview["consent"] = interview.pop("consent_to_quote")
        interview["promises"] = promises.get(interview["id"], [])
    return interviews


def practices_in_year(*, mso, year, through):
    """[(practice_id, code, name, NpsCounts)] of the responses each practice gave in ``year``
    while with the MSO, no month after ``through``'s month counting; most responses first:
    2 queries."""
    first = datetime.date(year, 1, 1)
    last = min(datetime.date(year, 12, 1), through.replace(day=1))
    counts = msos_practices_nps(first_month=first, last_month=last, mso_ids=[mso.pk]).get(
        mso.pk, {})
    names = practice_names(practice_ids=list(counts))
    return sorted(((pid, *names[pid], c) for pid, c in counts.items()),
                  key=lambda row: (-row[3].n, row[1]))  # fmt: skip


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
    nps_12 = partner_reads.msos_nps(first_month=first_month, last_month=last_month, mso_ids=ids)
    # The partial current year ends with the last full month before as-of, as the 12-month
    # window does: rollups are monthly, and nothing after as-of may enter a snapshot.
    by_year = partner_reads.msos_nps_by_year(
        first_year=last_full_year - YEARS_SHOWN + 1, last_year=as_of.year, through=last_month,
        mso_ids=ids,
    )  # fmt: skip
    practice_counts = partner_reads.msos_practices_nps(
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
    active = partner_reads.msos_active_practices(day=as_of, mso_ids=ids)
    practice_names = {str(pid): [code, name] for rows in active.values()
                      for pid, code, name, _ in rows}  # fmt: skip
    active_ids = {int(pid) for pid in practice_names}
    counted_ids = {pid for counts in practice_counts.values() for pid in counts}
    practice_names.update((str(pid), list(names)) for pid, names in partner_reads.practice_names(
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
    self_reported = partner_reads.msos_self_reported_nps(
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


def latest_snapshot():
    """The latest snapshot, its methodology's weights read once per snapshot rather than once
    per request: a snapshot is computed only from a published methodology, which is frozen."""
    snapshot = ScorecardSnapshot.objects.select_related("methodology").order_by(
        "-computed_at", "-id"
    ).first()
    if snapshot is not None:
        methodology = snapshot.methodology
        methodology._weights = snapshot_cached(snapshot, "weights", methodology.weights)
    return snapshot


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
        "msos": [in_document_order(d) for d in ranked],
    }
