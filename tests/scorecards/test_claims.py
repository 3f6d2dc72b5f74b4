"""Each claim kind in each verdict."""

import pytest

from scorecards.claims import (
    CONTRADICTED,
    NOT_ENOUGH,
    SUPPORTED,
    ClaimEvidence,
    check_claim,
)

WORLD_CLASS_YEAR = (900, 80, 20)  # NPS 88, n=1000: interval well above 80
POOR_YEAR = (500, 300, 200)  # NPS 30: interval well below 80
BORDERLINE_YEAR = (41, 7, 2)  # NPS 78, n=50: interval contains 80


def years(*counts, last=2025):
    return {last - len(counts) + 1 + i: c for i, c in enumerate(counts)}


@pytest.mark.parametrize("history, verdict", [
    (years(WORLD_CLASS_YEAR, WORLD_CLASS_YEAR, WORLD_CLASS_YEAR), SUPPORTED),
    (years(WORLD_CLASS_YEAR, POOR_YEAR, WORLD_CLASS_YEAR), CONTRADICTED),
    (years(WORLD_CLASS_YEAR, BORDERLINE_YEAR, WORLD_CLASS_YEAR), NOT_ENOUGH),
    (years(WORLD_CLASS_YEAR, WORLD_CLASS_YEAR), NOT_ENOUGH),  # a year missing
    (years(WORLD_CLASS_YEAR, (20, 0, 0), WORLD_CLASS_YEAR), NOT_ENOUGH),  # too few responses
])  # fmt: skip
def test_nps_above_each_year(history, verdict):
    evidence = ClaimEvidence(by_year=history, last_full_year=2025)
    result = check_claim("nps_above_each_year", {"threshold": 80, "years": 3}, evidence)
    assert result.verdict == verdict
    assert result.evidence.startswith("2023: ")


def test_nps_above_each_year_shows_the_figures():
    evidence = ClaimEvidence(by_year=years(WORLD_CLASS_YEAR, POOR_YEAR), last_full_year=2025)
    result = check_claim("nps_above_each_year", {"threshold": 80, "years": 2}, evidence)
    assert "2025: NPS 30.0 (95% CI" in result.evidence
    assert "n=1000" in result.evidence


@pytest.mark.parametrize("counts, verdict", [
    (WORLD_CLASS_YEAR, SUPPORTED), (POOR_YEAR, CONTRADICTED), (BORDERLINE_YEAR, NOT_ENOUGH),
    ((10, 0, 0), NOT_ENOUGH),
])  # fmt: skip
def test_nps_above_12_months(counts, verdict):
    result = check_claim("nps_above_12_months", {"threshold": 80},
                         ClaimEvidence(last_12_months=counts))  # fmt: skip
    assert result.verdict == verdict


def test_nps_point_below_threshold_but_interval_containing_it_is_not_contradicted():
    result = check_claim("nps_above_12_months", {"threshold": 80},
                         ClaimEvidence(last_12_months=BORDERLINE_YEAR))  # fmt: skip
    assert result.verdict == NOT_ENOUGH
    assert "the interval contains 80" in result.evidence


@pytest.mark.parametrize("active, accredited, verdict", [
    (10, 4, SUPPORTED), (10, 3, CONTRADICTED), (0, 0, NOT_ENOUGH),
])  # fmt: skip
def test_accredited_practices(active, accredited, verdict):
    evidence = ClaimEvidence(active_practices=active, accredited_practices=accredited)
    assert check_claim("accredited_practices", {"count": 4}, evidence).verdict == verdict


@pytest.mark.parametrize("focus, verdict", [
    ("single", SUPPORTED), ("multi", CONTRADICTED), ("", NOT_ENOUGH),
])  # fmt: skip
def test_single_specialty(focus, verdict):
    assert check_claim("single_specialty", {}, ClaimEvidence(specialty_focus=focus)).verdict == (
        verdict
    )


@pytest.mark.parametrize("ratings, verdict", [
    ({5: 2, 4: 2}, SUPPORTED),  # mean 4.5 exactly, 4 interviews
    ({5: 1, 4: 2}, CONTRADICTED),  # 4.33
    ({5: 2}, NOT_ENOUGH),  # 2 interviews
])  # fmt: skip
def test_full_autonomy(ratings, verdict):
    assert check_claim("full_autonomy", {}, ClaimEvidence(autonomy=ratings)).verdict == verdict


def test_missing_parameters_and_unchecked_kinds():
    result = check_claim("nps_above_12_months", {}, ClaimEvidence())
    assert (result.verdict, result.evidence) == (NOT_ENOUGH, "the claim does not say its threshold")
    assert check_claim("other", {}, ClaimEvidence()).evidence == (
        "this kind of claim is not checked automatically"
    )
