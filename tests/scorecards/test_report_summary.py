"""``scorecards.reports.summary``: the executive summary in words, from the rows alone."""

from scorecards.reports.summary import summary_sentences

LABELS = {"patient_experience": "Patient experience", "surgeon_trust": "Surgeon trust",
          "clinical_excellence": "Clinical excellence"}  # fmt: skip
WEIGHTS = {"patient_experience": 50, "surgeon_trust": 30, "clinical_excellence": 20}


def row(slug, total, rank, *, coverage=1.0, failed=(), nps=50.0, tied=(), criteria=None,
        claims=()):  # fmt: skip
    ranked = rank is not None
    return {
        "slug": slug, "name": slug.title(), "nps": {"nps": nps}, "nps_tied_with": list(tied),
        "mine": {"total": total, "rank": rank, "ranked": ranked, "coverage": coverage,
                 "failed": list(failed)},
        "criteria": criteria or {k: {"status": "ok", "score": 70.0} for k in LABELS},
        "claims": list(claims),
    }  # fmt: skip


def sentences(rows):
    return summary_sentences(rows, labels=LABELS, weights=WEIGHTS,
                             weights_used="the weights of Default v1")  # fmt: skip


def test_the_leader_its_lead_its_weak_spot_ties_claims_and_the_unranked():
    rows = [
        row("alder", 81.26, 1, nps=72.4, tied=["birch"], criteria={
            "patient_experience": {"status": "ok", "score": 86.0},
            "surgeon_trust": {"status": "ok", "score": 61.6},
            "clinical_excellence": {"status": "insufficient_data", "score": None}}),
        row("birch", 78.0, 2, nps=69.6, tied=["alder"], claims=[
            {"verdict": "contradicted", "statement": "Complete clinical autonomy."},
            {"verdict": "supported", "statement": "Four practices accredited."}]),
        row("cedar", 45.5, None, coverage=0.15),
        row("dune", 70.0, None, failed=["single specialty"]),
    ]  # fmt: skip

    assert sentences(rows) == [
        "Alder leads with a total of 81.3 of 100 with the weights of Default v1, 3.3 points "
        "ahead of Birch (78.0).",
        "Its weakest criterion is surgeon trust, at 62 of 100.",
        "It has too little evidence on clinical excellence.",
        "On patient NPS, Alder (72) and Birch (70) are statistically tied: neither can be said "
        "to be ahead.",
        "The evidence contradicts Birch's claim “Complete clinical autonomy.”",
        "Cedar is not ranked: evidence for 15% of the weight, 60% needed.",
        "Dune is not ranked: fails the must-haves (single specialty).",
    ]


def test_with_one_or_no_msos_ranked():
    assert sentences([row("alder", 80.0, 1), row("birch", 40.0, None, coverage=0.2)])[0] == (
        "Alder is the only MSO ranked, with a total of 80.0 of 100 with the weights of "
        "Default v1.")
    assert sentences([row("birch", 40.0, None, coverage=0.2)])[0] == (
        "None of the 1 MSOs has evidence for 60% of the weight, so none is ranked.")


def test_the_same_rows_give_the_same_sentences():
    rows = [row("alder", 81.26, 1), row("birch", 78.0, 2)]
    assert sentences(rows) == sentences([dict(r) for r in rows])
