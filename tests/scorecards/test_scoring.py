"""Criterion scoring at, below and without its minimum evidence; totals, coverage, ranks."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scorecards import scoring
from scorecards.scoring import (
    CRITERIA,
    INSUFFICIENT,
    OK,
    MsoEvidence,
    clinical_autonomy,
    clinical_excellence,
    competition_ranks,
    is_ranked,
    nps_ties,
    patient_experience,
    practice_consistency,
    promise_keeping,
    rank_stability,
    score_criteria,
    scores_of,
    support_breadth,
    surgeon_trust,
    total_and_coverage,
    wilson_interval,
    would_choose_again,
)

DEFAULT_WEIGHTS = {
    "patient_experience": 20, "practice_consistency": 10, "surgeon_trust": 15,
    "would_choose_again": 15, "promise_keeping": 15, "clinical_autonomy": 10,
    "clinical_excellence": 10, "support_breadth": 5,
}  # fmt: skip


# --- patient_experience: 30 responses ----------------------------------------------------

def test_patient_experience_at_minimum_scores():
    result = patient_experience(MsoEvidence(promoters=20, passives=4, detractors=6))
    assert result.status == OK
    assert result.n == 30
    assert result.value == pytest.approx(100 * 14 / 30)
    assert result.score == pytest.approx((100 * 14 / 30 + 100) / 2)
    # Changed: the interval was compared with the NPS value (it was on the NPS scale); it is
    # on the score's scale now, and the NPS interval is kept in evidence["value_ci"].
    assert result.ci_low < result.score < result.ci_high
    low, high = result.evidence["value_ci"]
    assert low < result.value < high


def test_patient_experience_one_below_minimum_is_insufficient():
    result = patient_experience(MsoEvidence(promoters=20, passives=4, detractors=5))
    assert (result.status, result.score, result.n) == (INSUFFICIENT, None, 29)


def test_patient_experience_without_evidence():
    result = patient_experience(MsoEvidence())
    assert (result.status, result.score, result.value, result.n) == (INSUFFICIENT, None, None, 0)


# --- practice_consistency: 3 practices with 30+ responses each ------------------------

def test_consistency_counts_only_practices_with_30_responses():
    evidence = MsoEvidence(practice_counts=[(30, 0, 0), (10, 10, 10), (5, 20, 5), (29, 0, 0)],
                           healthcare_average=46)  # fmt: skip
    result = practice_consistency(evidence)
    assert result.status == OK and result.n == 3
    # NPS 100 and 0 and 0: one of three above 46.
    assert result.score == pytest.approx(100 / 3)
    assert result.evidence["above_average"] == 1


def test_consistency_at_average_is_not_above():
    evidence = MsoEvidence(practice_counts=[(73, 0, 27)] * 3, healthcare_average=46)  # NPS 46
    assert practice_consistency(evidence).score == 0


def test_consistency_below_minimum_and_without_evidence():
    two = practice_consistency(MsoEvidence(practice_counts=[(30, 0, 0)] * 2))
    assert (two.status, two.n, two.value) == (INSUFFICIENT, 2, 100)
    assert practice_consistency(MsoEvidence()).status == INSUFFICIENT


# --- interview criteria: 3 interviews ----------------------------------------------------

@pytest.mark.parametrize("criterion, field", [(surgeon_trust, "trust"),
                                              (clinical_autonomy, "autonomy")])
def test_rating_criteria_at_below_and_without_minimum(criterion, field):
    at = criterion(MsoEvidence(**{field: {5: 1, 3: 1, 1: 1}}))
    assert at.status == OK and at.n == 3
    assert at.value == 3 and at.score == 50
    # Changed: the 1-5 interval moved to evidence["value_ci"]; ci_low/ci_high are 0-100.
    low, high = at.evidence["value_ci"]
    assert 1 <= low < 3 < high <= 5
    assert 0 <= at.ci_low < 50 < at.ci_high <= 100
    below = criterion(MsoEvidence(**{field: {5: 2}}))
    assert (below.status, below.n, below.value) == (INSUFFICIENT, 2, 5)
    assert criterion(MsoEvidence()).status == INSUFFICIENT


def test_rating_maps_one_to_zero_and_five_to_hundred():
    assert surgeon_trust(MsoEvidence(trust={1: 3})).score == 0
    assert surgeon_trust(MsoEvidence(trust={5: 4})).score == 100


def test_would_choose_again():
    at = would_choose_again(MsoEvidence(would_choose_again={"yes": 1, "unsure": 1, "no": 1}))
    assert at.status == OK and at.score == 50 and at.n == 3
    below = would_choose_again(MsoEvidence(would_choose_again={"yes": 2}))
    assert below.status == INSUFFICIENT and below.value == 100
    assert would_choose_again(MsoEvidence()).status == INSUFFICIENT


# --- promise_keeping: 5 ledger items from 3 interviews --------------------------------

def test_promise_keeping_needs_five_items_and_three_interviews():
    at = promise_keeping(MsoEvidence(promises={"kept": 3, "partly": 1, "broken": 1},
                                     interviews_with_ledger=3))  # fmt: skip
    assert at.status == OK and at.n == 5
    assert at.score == pytest.approx(100 * 3.5 / 5)
    four_items = promise_keeping(MsoEvidence(promises={"kept": 4}, interviews_with_ledger=3))
    assert four_items.status == INSUFFICIENT
    two_interviews = promise_keeping(MsoEvidence(promises={"kept": 9}, interviews_with_ledger=2))
    assert two_interviews.status == INSUFFICIENT
    assert promise_keeping(MsoEvidence()).status == INSUFFICIENT


# --- clinical_excellence: 1 practice; support_breadth: profile filled ----------------

def test_clinical_excellence():
    at = clinical_excellence(MsoEvidence(active_practices=1, accredited_practices=1))
    assert at.status == OK and at.score == 100 and at.n == 1
    share = clinical_excellence(MsoEvidence(active_practices=8, accredited_practices=2))
    assert share.score == 25
    assert share.ci_low < 25 < share.ci_high
    assert clinical_excellence(MsoEvidence(active_practices=0)).status == INSUFFICIENT


def test_support_breadth_is_self_reported_and_needs_a_profile():
    result = support_breadth(MsoEvidence(services_offered=11))
    assert result.score == 100 and result.evidence["self_reported"] is True
    assert support_breadth(MsoEvidence(services_offered=1)).score == pytest.approx(100 / 11)
    assert support_breadth(MsoEvidence(services_offered=None)).status == INSUFFICIENT


def test_wilson_interval_known_value():
    low, high = wilson_interval(2, 8)
    assert (round(low, 1), round(high, 1)) == (7.1, 59.1)


# --- totals, coverage, ranks -------------------------------------------------------------

def full_evidence(nps_promoters=80):
    return MsoEvidence(
        promoters=nps_promoters, passives=100 - nps_promoters, detractors=0,
        practice_counts=[(30, 0, 0)] * 3, trust={4: 3}, autonomy={4: 3},
        would_choose_again={"yes": 3}, promises={"kept": 5}, interviews_with_ledger=3,
        active_practices=4, accredited_practices=2, services_offered=11,
    )  # fmt: skip


def test_total_is_weighted_mean_over_criteria_with_evidence():
    results = score_criteria(full_evidence(), DEFAULT_WEIGHTS)
    total, coverage = total_and_coverage(scores_of(results), DEFAULT_WEIGHTS)
    expected = sum(DEFAULT_WEIGHTS[k] * r.score for k, r in results.items()) / 100
    assert total == pytest.approx(expected)
    assert coverage == 1


def test_missing_evidence_is_left_out_not_scored_as_zero():
    evidence = full_evidence()
    evidence.trust = {}
    results = score_criteria(evidence, DEFAULT_WEIGHTS)
    total, coverage = total_and_coverage(scores_of(results), DEFAULT_WEIGHTS)
    assert coverage == pytest.approx(0.85)
    covered = {k: r for k, r in results.items() if k != "surgeon_trust"}
    assert total == pytest.approx(
        sum(DEFAULT_WEIGHTS[k] * r.score for k, r in covered.items()) / 85
    )


def test_unranked_below_sixty_percent_coverage():
    # Only NPS (20) + excellence (10) + breadth (5) + consistency (10) = 45%.
    evidence = MsoEvidence(promoters=40, practice_counts=[(30, 0, 0)] * 3, active_practices=2,
                           accredited_practices=1, services_offered=3)  # fmt: skip
    results = score_criteria(evidence, DEFAULT_WEIGHTS)
    _, coverage = total_and_coverage(scores_of(results), DEFAULT_WEIGHTS)
    assert coverage == pytest.approx(0.45)
    assert not is_ranked(coverage)
    assert is_ranked(0.6) and not is_ranked(0.59)


def test_no_evidence_at_all():
    results = score_criteria(MsoEvidence(), DEFAULT_WEIGHTS)
    assert total_and_coverage(scores_of(results), DEFAULT_WEIGHTS) == (None, 0.0)


def test_competition_ranks_share_equal_totals():
    assert competition_ranks({"a": 70, "b": 80, "c": 70, "d": 10}) == {
        "b": 1, "a": 2, "c": 2, "d": 4,
    }  # fmt: skip


def test_nps_ties_are_pairwise_and_skip_small_samples():
    ties = nps_ties({
        "a": (80, 10, 10),   # 70
        "b": (75, 15, 10),   # 65: tied with a
        "c": (30, 30, 40),   # -10: differs from both
        "d": (5, 0, 0),      # too few responses
    })  # fmt: skip
    assert ties == {"a": ["b"], "b": ["a"], "c": []}


def test_rank_stability_is_deterministic_and_sensible():
    # Two criteria; x dominates y on both: always first. y and z trade places.
    scores = [[90, 90], [60, 40], [40, 60]]
    ok = [[1, 1], [1, 1], [1, 1]]
    first = rank_stability(scores, ok, [50, 50], seed=7)
    assert first == rank_stability(scores, ok, [50, 50], seed=7)
    assert first[0] == 1.0
    # y and z are tied at 50/50 weights; any perturbation breaks the tie, so rank 2 is kept
    # by one of them in each draw: the two shares sum to about 1.
    assert 0.3 < first[1] < 0.7 and first[1] + first[2] == pytest.approx(1.0)
    assert rank_stability(scores, ok, [50, 50], seed=8) != first


def test_rank_stability_ignores_criteria_without_evidence():
    scores = [[90, None], [80, 96]]
    ok = [[1, 0], [1, 1]]
    # The first MSO's total is 90 whatever the weights; the second is 88 at equal weights and
    # passes 90 only when the second weight is over 1.67 times the first: then they swap.
    shares = rank_stability(scores, ok, [50, 50], draws=1000, seed=1)
    assert 0.8 < shares[0] < 1 and shares[0] == shares[1]


# --- every interval on the score's scale, every minimum stated --------------------------

counts = st.integers(min_value=0, max_value=400)
ratings = st.dictionaries(st.integers(min_value=1, max_value=5), st.integers(1, 40), max_size=5)
evidence_strategy = st.builds(
    MsoEvidence,
    promoters=counts, passives=counts, detractors=counts,
    practice_counts=st.lists(st.tuples(counts, counts, counts), max_size=8),
    healthcare_average=st.floats(min_value=-100, max_value=100),
    trust=ratings, autonomy=ratings,
    would_choose_again=st.fixed_dictionaries(
        {"yes": st.integers(0, 30), "unsure": st.integers(0, 30), "no": st.integers(0, 30)}),
    promises=st.fixed_dictionaries(
        {"kept": st.integers(0, 30), "partly": st.integers(0, 30), "broken": st.integers(0, 30)}),
    interviews_with_ledger=st.integers(0, 10),
    active_practices=st.integers(0, 40),
    services_offered=st.one_of(st.none(), st.integers(0, 11)),
)  # fmt: skip


@st.composite
def any_evidence(draw):
    evidence = draw(evidence_strategy)
    evidence.accredited_practices = draw(st.integers(0, evidence.active_practices))
    return evidence


WITH_INTERVAL = [k for k in CRITERIA if k != "support_breadth"]


@settings(max_examples=300, deadline=None)
@given(any_evidence())
def test_every_interval_holds_its_score_on_the_0_to_100_scale(evidence):
    for key, result in score_criteria(evidence, CRITERIA).items():
        assert result.evidence["minimum"] == scoring.MINIMUM_EVIDENCE[key]
        if result.status == INSUFFICIENT:
            assert (result.score, result.ci_low, result.ci_high) == (None, None, None)
            assert "value_ci" not in result.evidence
            continue
        assert 0 <= result.score <= 100
        if key in WITH_INTERVAL:
            assert 0 <= result.ci_low <= result.score <= result.ci_high <= 100, key
            low, high = result.evidence["value_ci"]
            assert low <= result.value <= high, key


def test_patient_experience_interval_is_on_the_score_scale_and_the_nps_one_kept():
    from scorecards.statistics import nps_interval

    result = patient_experience(MsoEvidence(promoters=20, passives=4, detractors=6))
    nps_low, nps_high = nps_interval(20, 4, 6)
    assert result.evidence["value_ci"] == [nps_low, nps_high]
    assert (result.ci_low, result.ci_high) == ((nps_low + 100) / 2, (nps_high + 100) / 2)
    assert result.ci_low < result.score < result.ci_high


def test_rating_interval_is_mapped_like_the_score():
    result = surgeon_trust(MsoEvidence(trust={5: 1, 3: 1, 1: 1}))
    low, high = result.evidence["value_ci"]
    assert 1 <= low < 3 < high <= 5
    assert (result.ci_low, result.ci_high) == (100 * (low - 1) / 4, 100 * (high - 1) / 4)


def test_weighted_shares_have_a_wilson_interval_on_the_weighted_successes():
    again = would_choose_again(MsoEvidence(would_choose_again={"yes": 3, "unsure": 2, "no": 1}))
    assert (again.ci_low, again.ci_high) == wilson_interval(4, 6)
    assert again.ci_low < again.score < again.ci_high
    everyone = would_choose_again(MsoEvidence(would_choose_again={"yes": 3}))
    assert everyone.ci_high == 100 and everyone.ci_low < 50  # three yeses prove little
    kept = promise_keeping(MsoEvidence(promises={"kept": 3, "partly": 1, "broken": 1},
                                       interviews_with_ledger=3))  # fmt: skip
    assert (kept.ci_low, kept.ci_high) == wilson_interval(3.5, 5)


def test_wilson_interval_holds_the_share_at_the_edges():
    for n in range(1, 200):
        assert wilson_interval(0, n)[0] == 0
        assert wilson_interval(n, n)[1] == 100


def test_support_breadth_says_it_has_no_interval():
    result = support_breadth(MsoEvidence(services_offered=7))
    assert (result.ci_low, result.ci_high) == (None, None)
    assert result.evidence["note"] == "self-reported, no interval"


def test_clinical_excellence_states_its_minimum():
    result = clinical_excellence(MsoEvidence(active_practices=2, accredited_practices=1))
    assert result.status == OK and result.n == 2
    assert result.evidence["minimum"] == "1 active practice"
    assert result.evidence["n_unit"] == "practices"
    assert clinical_excellence(MsoEvidence()).evidence["minimum"] == "1 active practice"


def test_minimums_match_the_methodology():
    assert scoring.MINIMUM_EVIDENCE == {
        "patient_experience": "30 responses",
        "practice_consistency": "3 practices with 30+ responses each",
        "surgeon_trust": "3 interviews",
        "would_choose_again": "3 interviews",
        "promise_keeping": "5 promise-ledger items from 3 interviews",
        "clinical_autonomy": "3 interviews",
        "clinical_excellence": "1 active practice",
        "support_breadth": "a filled-in profile (1 service area)",
    }


@given(st.lists(st.lists(st.integers(0, 4), min_size=5, max_size=5), min_size=1, max_size=6))
def test_competition_ranks_of_each_row_count_the_strictly_higher_totals(rows):
    # Small integers give many ties; a float noise below the rounding must not split them.
    import numpy as np

    totals = np.array(rows, dtype=float) + 1e-12 * np.arange(5)
    ranks = scoring._competition_ranks_rows(totals)
    for row, row_ranks in zip(rows, ranks, strict=True):
        assert list(row_ranks) == [1 + sum(other > value for other in row) for value in row]


@settings(max_examples=40)
@given(st.lists(st.lists(st.integers(0, 10), min_size=3, max_size=3), min_size=1, max_size=12),
       st.data())
def test_the_stability_of_some_msos_equals_theirs_among_all(rows, data):
    scores = [[10.0 * v for v in row] for row in rows]
    ok = [[1, 1, 1] for _ in rows]
    wanted = data.draw(st.lists(st.integers(0, len(rows) - 1), unique=True, max_size=len(rows)))
    every = rank_stability(scores, ok, [50, 30, 20], draws=200)
    assert rank_stability(scores, ok, [50, 30, 20], draws=200, of=wanted) == [
        every[i] for i in wanted]
