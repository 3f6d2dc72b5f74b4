"""NPS statistics against brute-force definitions and the product brief's formulas."""

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorecards.statistics import (
    MIN_RESPONSES,
    _adjusted,
    nps_band,
    nps_band_of_interval,
    nps_by_year,
    nps_estimate,
    nps_interval,
    nps_point,
    nps_z,
    statistically_tied,
    world_class_streak,
)

counts = st.integers(min_value=0, max_value=5_000)
groups = st.tuples(counts, counts, counts).filter(lambda g: sum(g) > 0)
BANDS = [("Good", 0), ("Excellent", 50), ("World-class", 80)]


def classify(score):
    """The brief's coding of one score, written out here independently of the code."""
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def adjusted_estimate(promoters, passives, detractors):
    """The adjusted NPS 100 x (p' - d'), the centre of the interval."""
    return 100 * _adjusted(promoters, passives, detractors)[0]


def coded(promoters, passives, detractors):
    """Responses coded +1 / 0 / -1: NPS is 100 x their mean."""
    return [1] * promoters + [0] * passives + [-1] * detractors


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=300))
def test_nps_is_100_times_the_mean_of_coded_scores(scores):
    kinds = [classify(s) for s in scores]
    p, pa, d = kinds.count("promoter"), kinds.count("passive"), kinds.count("detractor")
    brute = 100 * statistics.fmean(coded(p, pa, d))
    assert nps_point(p, pa, d) == pytest.approx(brute)


@given(groups)
def test_adjusted_variance_is_the_variance_of_coded_scores_with_the_adjustment(group):
    # Brute force with the adjustment: weights P + 0.75, passives + 1.5, D + 0.75
    # (three extra pseudo-responses), population variance of the +1/0/-1 codes.
    p, pa, d = group
    weights = {1: p + 0.75, 0: pa + 1.5, -1: d + 0.75}
    total = sum(weights.values())
    mean = sum(code * w for code, w in weights.items()) / total
    variance = sum(w * (code - mean) ** 2 for code, w in weights.items()) / total
    low, high = nps_interval(p, pa, d)
    half = 1.96 * math.sqrt(variance / total)
    assert adjusted_estimate(p, pa, d) == pytest.approx(100 * mean)
    assert low == pytest.approx(100 * max(-1, mean - half))
    assert high == pytest.approx(100 * min(1, mean + half))


@given(groups)
def test_interval_contains_the_adjusted_estimate_and_stays_in_range(group):
    low, high = nps_interval(*group)
    assert -100 <= low <= adjusted_estimate(*group) <= high <= 100


@given(groups, st.integers(min_value=2, max_value=50))
def test_interval_narrows_as_n_grows(group, factor):
    low, high = nps_interval(*group)
    bigger = [c * factor for c in group]
    big_low, big_high = nps_interval(*bigger)
    assert big_high - big_low <= high - low + 1e-9


def test_known_values():
    # 60 promoters, 25 passives, 15 detractors: n' = 103, p' = 60.75/103, d' = 15.75/103.
    estimate = nps_estimate(60, 25, 15)
    assert estimate.nps == 45
    p, d = 60.75 / 103, 15.75 / 103
    half = 1.96 * math.sqrt((p + d - (p - d) ** 2) / 103)
    assert estimate.ci_low == pytest.approx(100 * (p - d - half))
    assert estimate.ci_high == pytest.approx(100 * (p - d + half))
    assert (round(estimate.ci_low, 1), round(estimate.ci_high, 1)) == (29.3, 58.0)


def test_interval_is_clipped_at_the_ends_of_the_scale():
    assert nps_interval(200, 0, 0) == (pytest.approx(96.484, abs=1e-3), 100)
    assert nps_interval(0, 0, 200) == (-100, pytest.approx(-96.484, abs=1e-3))
    # One promoter is far from certainty: the adjustment keeps the interval wide.
    assert nps_interval(1, 0, 0) == (pytest.approx(-48.5), pytest.approx(98.5))


def test_no_responses_give_no_figure():
    estimate = nps_estimate(0, 0, 0)
    assert (estimate.nps, estimate.ci_low, estimate.ci_high, estimate.n) == (None, None, None, 0)
    assert not estimate.sufficient


def test_insufficient_below_thirty_responses():
    assert not nps_estimate(29, 0, 0).sufficient
    assert nps_estimate(30, 0, 0).sufficient
    assert MIN_RESPONSES == 30


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        nps_point(-1, 0, 5)


@given(groups, groups)
def test_z_is_antisymmetric_and_tie_is_symmetric(a, b):
    assert nps_z(a, b) == pytest.approx(-nps_z(b, a))
    assert statistically_tied(a, b) == statistically_tied(b, a)


def test_z_by_the_formula():
    a, b = (80, 15, 5), (50, 30, 20)
    pa, da, na = 80.75 / 103, 5.75 / 103, 103
    pb, db, nb = 50.75 / 103, 20.75 / 103, 103
    va, vb = pa + da - (pa - da) ** 2, pb + db - (pb - db) ** 2
    expected = ((pa - da) - (pb - db)) / math.sqrt(va / na + vb / nb)
    assert nps_z(a, b) == pytest.approx(expected)
    assert not statistically_tied(a, b)


def test_small_groups_with_different_nps_are_tied():
    assert statistically_tied((8, 1, 1), (6, 2, 2))


@given(groups)
def test_a_group_is_tied_with_itself(group):
    assert statistically_tied(group, group)


@pytest.mark.parametrize("value, band", [
    (-5, None), (0, None), (0.1, "Good"), (50, "Good"), (50.5, "Excellent"), (80, "Excellent"),
    (80.01, "World-class"), (100, "World-class"), (None, None),
])  # fmt: skip
def test_bands_are_exclusive_lower_bounds(value, band):
    assert nps_band(value, BANDS) == band


@pytest.mark.parametrize("low, high, band", [
    (55, 70, "Excellent"), (40, 59, "Good or Excellent"), (45, 85, "Good to World-class"),
    (-10, 20, "Good or lower"), (-30, -5, None), (81, 95, "World-class"),
    (60, 90, "Excellent or World-class"), (None, None, None),
])  # fmt: skip
def test_a_band_is_read_from_the_interval(low, high, band):
    assert nps_band_of_interval(low, high, BANDS) == band


def test_two_figures_either_side_of_a_bound_get_the_same_band_when_their_intervals_cross_it():
    # 49.87 and 50.32 printed "50 · Good" and "50 · Excellent": the points differ, the
    # intervals both cross 50.
    below, above = nps_estimate(250, 95, 52), nps_estimate(200, 72, 42)
    assert below.nps < 50 < above.nps
    assert (nps_band_of_interval(below.ci_low, below.ci_high, BANDS)
            == nps_band_of_interval(above.ci_low, above.ci_high, BANDS) == "Good or Excellent")


@given(groups)
def test_a_single_band_is_named_only_when_the_whole_interval_lies_in_it(group):
    est = nps_estimate(*group)
    band = nps_band_of_interval(est.ci_low, est.ci_high, BANDS)
    if band in dict(BANDS):
        assert nps_band(est.ci_low, BANDS) == nps_band(est.ci_high, BANDS) == band


def test_nps_by_year_in_year_order():
    series = nps_by_year({2024: (50, 0, 0), 2023: (10, 0, 10)})
    assert [(year, e.nps) for year, e in series] == [(2023, 0), (2024, 100)]


def test_world_class_streak_counts_back_from_the_last_full_year():
    years = {
        2020: (90, 10, 0),   # 90
        2021: (70, 20, 10),  # 60: breaks
        2022: (85, 15, 0),   # 85
        2023: (90, 5, 5),    # 85
        2024: (95, 5, 0),    # 95
        2025: (10, 0, 0),    # current, partial year: not counted
    }
    assert world_class_streak(years, last_full_year=2024) == 3
    assert world_class_streak(years, last_full_year=2021) == 0


def test_world_class_streak_ends_at_a_year_with_too_few_responses_or_none():
    assert world_class_streak({2023: (100, 0, 0), 2024: (20, 0, 0)}, last_full_year=2024) == 0
    assert world_class_streak({2022: (100, 0, 0), 2024: (100, 0, 0)}, last_full_year=2024) == 1
    assert world_class_streak({2024: (81, 19, 0)}, last_full_year=2024) == 1
    assert world_class_streak({2024: (80, 20, 0)}, last_full_year=2024) == 0  # exactly 80
