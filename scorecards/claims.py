"""Claim checks as pure functions: what an MSO says against the evidence. No Django import.

A verdict is supported, contradicted or not enough evidence, with the figures behind it. Where
an NPS interval applies, a claim "NPS above X" is supported only when the interval lies above X
and contradicted only when it lies below X; an interval that contains X is not enough evidence.
"""

from dataclasses import dataclass, field

from .statistics import nps_estimate

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_ENOUGH = "not_enough_evidence"
FULL_AUTONOMY_MEAN = 4.5
FULL_AUTONOMY_INTERVIEWS = 3

# The parameters each kind needs, and their meaning, for forms and messages.
PARAMETERS = {
    "nps_above_each_year": {"threshold": "NPS above", "years": "in each of the last N full years"},
    "nps_above_12_months": {"threshold": "NPS above"},
    "accredited_practices": {"count": "at least N practices"},
    "single_specialty": {},
    "full_autonomy": {},
    "other": {},
}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    evidence: str
    figures: dict = field(default_factory=dict)


@dataclass
class ClaimEvidence:
    """What the checks need about one MSO, already aggregated."""

    last_12_months: tuple = (0, 0, 0)  # (P, passives, D)
    by_year: dict = field(default_factory=dict)  # {year: (P, passives, D)}
    last_full_year: int = 0
    active_practices: int = 0
    accredited_practices: int = 0
    specialty_focus: str = ""
    autonomy: dict = field(default_factory=dict)  # {rating: count}


def _fmt(value):
    return f"{value:.1f}"


def _nps_against(threshold, counts):
    """(verdict, description) of one NPS figure against 'above threshold'."""
    est = nps_estimate(*counts)
    if not est.sufficient:
        return NOT_ENOUGH, f"{est.n} responses (30 needed)"
    described = f"NPS {_fmt(est.nps)} (95% CI {_fmt(est.ci_low)} to {_fmt(est.ci_high)}, n={est.n})"
    if est.ci_low > threshold:
        return SUPPORTED, described
    if est.ci_high < threshold:
        return CONTRADICTED, described
    return NOT_ENOUGH, described + f": the interval contains {threshold}"


def check_nps_above_each_year(evidence, *, threshold, years):
    first = evidence.last_full_year - years + 1
    parts, verdicts, figures = [], [], {}
    for year in range(first, evidence.last_full_year + 1):
        verdict, described = _nps_against(threshold, evidence.by_year.get(year, (0, 0, 0)))
        verdicts.append(verdict)
        parts.append(f"{year}: {described}")
        figures[str(year)] = verdict
    if CONTRADICTED in verdicts:
        verdict = CONTRADICTED
    elif all(v == SUPPORTED for v in verdicts):
        verdict = SUPPORTED
    else:
        verdict = NOT_ENOUGH
    return Verdict(verdict, "; ".join(parts), figures)


def check_nps_above_12_months(evidence, *, threshold):
    verdict, described = _nps_against(threshold, evidence.last_12_months)
    return Verdict(verdict, f"last 12 months: {described}")


def check_accredited_practices(evidence, *, count):
    if evidence.active_practices == 0:
        return Verdict(NOT_ENOUGH, "no affiliated practices on record")
    held = evidence.accredited_practices
    described = (
        f"{held} of {evidence.active_practices} affiliated practices hold a current accreditation"
    )
    return Verdict(SUPPORTED if held >= count else CONTRADICTED, described,
                   {"accredited": held, "active": evidence.active_practices})  # fmt: skip


def check_single_specialty(evidence):
    focus = evidence.specialty_focus
    if focus == "single":
        return Verdict(SUPPORTED, "the profile gives a single-specialty focus")
    if focus == "multi":
        return Verdict(CONTRADICTED, "the profile gives a multi-specialty focus")
    return Verdict(NOT_ENOUGH, "the profile gives no specialty focus")


def check_full_autonomy(evidence):
    n = sum(evidence.autonomy.values())
    if n < FULL_AUTONOMY_INTERVIEWS:
        return Verdict(NOT_ENOUGH, f"{n} interviews rate clinical autonomy (3 needed)")
    mean = sum(r * c for r, c in evidence.autonomy.items()) / n
    described = f"mean clinical autonomy {mean:.2f} of 5 from {n} interviews (4.5 needed)"
    verdict = SUPPORTED if mean >= FULL_AUTONOMY_MEAN else CONTRADICTED
    return Verdict(verdict, described, {"mean": mean, "n": n})


def check_claim(kind, parameters, evidence):
    """The verdict on one claim of ``kind`` with its ``parameters`` (a dict)."""
    needed = PARAMETERS.get(kind)
    if needed is None or kind == "other":
        return Verdict(NOT_ENOUGH, "this kind of claim is not checked automatically")
    values = {}
    for name in needed:
        try:
            values[name] = float(parameters[name]) if name == "threshold" else int(
                parameters[name]
            )
        except (KeyError, TypeError, ValueError):
            return Verdict(NOT_ENOUGH, f"the claim does not say its {name}")
    check = {
        "nps_above_each_year": check_nps_above_each_year,
        "nps_above_12_months": check_nps_above_12_months,
        "accredited_practices": check_accredited_practices,
        "single_specialty": check_single_specialty,
        "full_autonomy": check_full_autonomy,
    }[kind]
    return check(evidence, **values)
