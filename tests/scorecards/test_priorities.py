"""Personal priorities: the methodology's weights give the published ranking exactly; other
weights and must-haves change it, and a failing MSO is flagged, never hidden."""

import datetime
import io

import pytest
from django.core.management import call_command

from scorecards.priorities import failed_must_haves, rescore
from scorecards.selectors import directory_rows
from scorecards.services import scorecard_compute

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 6, 1)


@pytest.fixture
def rows():
    call_command("seed_demo", scale="tiny", seed=3, as_of=AS_OF.isoformat(), stdout=io.StringIO())
    snapshot = scorecard_compute(as_of=AS_OF)[0]
    return snapshot, directory_rows(snapshot=snapshot)


@pytest.mark.parametrize("copied", [False, True], ids=["computed", "copied"])
def test_the_methodologys_weights_give_the_published_ranking(rows, copied):
    snapshot, rows = rows
    weights = snapshot.methodology.weights()
    rescore(rows, weights, {}, published=weights if copied else None)
    for row in rows:
        assert row["mine"]["rank"] == row["rank"]
        assert row["mine"]["total"] == pytest.approx(row["total"]) if row["ranked"] else True
        assert row["mine"]["rank_stability"] == pytest.approx(row["rank_stability"]) if (
            row["ranked"]) else row["mine"]["rank_stability"] is None


def test_weighting_only_patient_experience_ranks_by_it(rows):
    snapshot, rows = rows
    weights = {k: 0 for k in snapshot.methodology.weights()} | {"patient_experience": 100}
    rescore(rows, weights, {})
    ranked = sorted((r for r in rows if r["mine"]["ranked"]), key=lambda r: r["mine"]["rank"])
    scores = [r["criteria"]["patient_experience"]["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True) and len(ranked) >= 3
    assert all(r["mine"]["total"] == pytest.approx(r["criteria"]["patient_experience"]["score"])
               for r in ranked)  # fmt: skip


def test_a_must_have_flags_the_msos_that_fail_it_and_keeps_them_listed(rows):
    snapshot, rows = rows
    weights = snapshot.methodology.weights()
    rescore(rows, weights, {"single_specialty_oms": True, "min_nps": 50}, published=weights)
    assert len(rows) == len(directory_rows(snapshot=snapshot))
    for row in rows:
        single = row["facts"]["specialty_focus"] == "single"
        high = row["nps"]["status"] == "ok" and row["nps"]["nps"] >= 50
        assert (not row["mine"]["failed"]) == (single and high)
        if row["mine"]["failed"]:
            assert row["mine"]["rank"] is None
    assert any("is not single-specialty OMS" in f for r in rows for f in r["mine"]["failed"])


def test_services_must_have_names_what_is_missing():
    row = {"facts": {"services": ["marketing"], "specialty_focus": "", "specialties": ""},
           "criteria": {}, "nps": {"status": "insufficient_data", "nps": None}}  # fmt: skip
    wanted = {"services": ["marketing", "equipment_funding"]}
    assert failed_must_haves(row, wanted) == ["does not offer equipment_funding"]
    assert failed_must_haves(row, wanted, {"equipment_funding": "Equipment funding"}) == [
        "does not offer Equipment funding"
    ]
    assert failed_must_haves(row, {"min_nps": 10}) == [
        "patient NPS is not at least 10 (or too few responses)"
    ]


def test_stability_asked_for_some_msos_is_theirs_among_all_and_none_for_the_others(rows):
    snapshot, rows = rows
    weights = {k: 0 for k in snapshot.methodology.weights()} | {"patient_experience": 60,
                                                               "support_breadth": 40}
    every = {r["slug"]: dict(r["mine"]) for r in rescore(rows, weights, {})}
    some = {r["slug"] for r in rows if every[r["slug"]]["ranked"]}
    some = set(sorted(some)[:2])
    for row in rescore(rows, weights, {}, stability_of=some):
        expected = every[row["slug"]]
        assert row["mine"]["rank"] == expected["rank"]
        assert row["mine"]["rank_stability"] == (
            expected["rank_stability"] if row["slug"] in some else None)
