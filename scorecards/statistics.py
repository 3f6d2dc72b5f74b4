"""NPS statistics, exactly as the product brief defines them.

Plain Python with no Django import: the ORM feeds these functions counts.

- NPS = 100 x (P - D) / n.
- 95% interval, adjusted Wald (Rocks 2016): n' = n + 3, p' = (P + 0.75) / n',
  d' = (D + 0.75) / n', v = p' + d' - (p' - d')^2, se = sqrt(v / n'),
  interval = 100 x clip((p' - d') -/+ 1.96 se, -1, 1).
- Two groups differ when |z| >= 1.96, z = ((p1' - d1') - (p2' - d2')) / sqrt(v1/n1' + v2/n2').
- Fewer than 30 responses: insufficient data.
- A band (above 0 good, above 50 excellent, above 80 world-class) is read from the interval:
  a band's name only when the whole interval lies in it (``nps_band_of_interval``).
"""

import math
from dataclasses import dataclass

Z_95 = 1.96
MIN_RESPONSES = 30
WORLD_CLASS = 80


@dataclass(frozen=True)
class NpsEstimate:
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def n(self):
        return self.promoters + self.passives + self.detractors

    @property
    def sufficient(self):
        return self.n >= MIN_RESPONSES


def _check_counts(*counts):
    if any(c < 0 for c in counts):
        raise ValueError(f"counts cannot be negative: {counts}")


def nps_point(promoters, passives, detractors):
    """100 x (P - D) / n, or None without responses."""
    _check_counts(promoters, passives, detractors)
    n = promoters + passives + detractors
    if n == 0:
        return None
    return 100 * (promoters - detractors) / n


def _adjusted(promoters, passives, detractors):
    """(p' - d', v, n') of the adjusted-Wald method."""
    n_adj = promoters + passives + detractors + 3
    p = (promoters + 0.75) / n_adj
    d = (detractors + 0.75) / n_adj
    return p - d, p + d - (p - d) ** 2, n_adj


def nps_interval(promoters, passives, detractors, z=Z_95):
    """The adjusted-Wald 95% interval as (low, high) in NPS points, or (None, None) if n = 0."""
    _check_counts(promoters, passives, detractors)
    if promoters + passives + detractors == 0:
        return None, None
    centre, variance, n_adj = _adjusted(promoters, passives, detractors)
    half = z * math.sqrt(variance / n_adj)
    return 100 * max(-1.0, centre - half), 100 * min(1.0, centre + half)


def nps_estimate(promoters, passives, detractors):
    low, high = nps_interval(promoters, passives, detractors)
    return NpsEstimate(
        promoters, passives, detractors, nps_point(promoters, passives, detractors), low, high
    )


def nps_z(a, b):
    """z statistic of the difference between two groups, each (P, passives, D)."""
    _check_counts(*a, *b)
    centre_a, var_a, n_a = _adjusted(*a)
    centre_b, var_b, n_b = _adjusted(*b)
    se = math.sqrt(var_a / n_a + var_b / n_b)
    if se == 0:
        return 0.0 if centre_a == centre_b else math.copysign(math.inf, centre_a - centre_b)
    return (centre_a - centre_b) / se


def statistically_tied(a, b, z=Z_95):
    """True when the two groups' NPS do not differ at the 95% level (|z| < 1.96)."""
    return abs(nps_z(a, b)) < z


def nps_band(value, bands):
    """The name of the highest band whose lower bound ``value`` is above, or None.

    ``bands`` are (name, lower bound) pairs, e.g. [("Good", 0), ("Excellent", 50),
    ("World-class", 80)]; "above" is strict, as in "above 80 is world-class".
    """
    if value is None:
        return None
    best = None
    for name, bound in sorted(bands, key=lambda b: b[1]):
        if value > bound:
            best = name
    return best


def nps_band_of_interval(low, high, bands):
    """The band a 95% interval shows, so that a band never claims more than the evidence: a
    band's name only when the whole interval lies in it; "Good or Excellent" when it crosses
    one bound, "Good to World-class" when it crosses two, "Good or lower" when its low end is
    below every band; None when it is below every band, or without an interval.

    49.9 (interval 40 to 59) is "Good or Excellent", never "Good" beside a 50.3 that is
    "Excellent": both read from their intervals, not from their points.
    """
    if low is None or high is None:
        return None
    names = [name for name, _bound in sorted(bands, key=lambda b: b[1])]
    lowest, highest = nps_band(low, bands), nps_band(high, bands)
    if lowest == highest:
        return lowest
    if lowest is None:
        return f"{highest} or lower"
    if names.index(highest) - names.index(lowest) == 1:
        return f"{lowest} or {highest}"
    return f"{lowest} to {highest}"


def nps_by_year(counts_by_year):
    """{year: (P, passives, D)} -> [(year, NpsEstimate)] in year order."""
    return [(year, nps_estimate(*counts_by_year[year])) for year in sorted(counts_by_year)]


def world_class_streak(counts_by_year, last_full_year, threshold=WORLD_CLASS):
    """Consecutive full years, counting back from ``last_full_year``, with NPS above ``threshold``.

    A year without enough responses (or none) ends the streak: too little evidence
    is not evidence of world-class.
    """
    streak, year = 0, last_full_year
    while year in counts_by_year:
        estimate = nps_estimate(*counts_by_year[year])
        if not estimate.sufficient or estimate.nps <= threshold:
            break
        streak += 1
        year -= 1
    return streak
