"""The executive summary of a report in words, written from the snapshot alone and the same
way every time (pure functions, no Django import: the same rows give the same sentences).

Every figure a sentence states is one the report's tables state, written the same way: totals
to one decimal as in the summary table, NPS and criterion scores as whole numbers.

| sentence | when | from |
|---|---|---|
| who leads, and by how much | two MSOs or more ranked | ``mine.total`` of the first two |
| the only one ranked | one MSO ranked | ``mine.total`` |
| none ranked | no MSO ranked | the minimum coverage |
| where the leader is weak | the leader has a criterion with evidence | its lowest score |
| where the leader lacks evidence | a criterion of weight without enough evidence | labels |
| tied on patient NPS | two of the report's MSOs statistically tied | ``nps_tied_with`` |
| claims not supported | a claim contradicted or without enough evidence | ``claims`` |
| not ranked, and why | an MSO not ranked | ``not_ranked_reason`` |
"""

from partners.formatting import nps_text as _whole
from partners.formatting import number_text, rounded

from ..claims import CONTRADICTED, NOT_ENOUGH
from ..scoring import MIN_COVERAGE, OK, not_ranked_reason

MAX_CLAIM_SENTENCES = 6


def _total(row):
    return number_text(row["mine"]["total"], 1)


def _names(names):
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def summary_sentences(ranking, *, labels, weights, weights_used):
    """``ranking``: the report's rows in rank order (``mine`` from priorities.rescore, then
    the snapshot's document); ``labels``: {criterion: label}; ``weights``: the weights used;
    ``weights_used``: how the captions name them. Returns the summary as a list of sentences."""
    ranked = [r for r in ranking if r["mine"]["ranked"]]
    sentences = []
    if len(ranked) >= 2:
        first, second = ranked[0], ranked[1]
        lead = rounded(first["mine"]["total"], 1) - rounded(second["mine"]["total"], 1)
        sentences.append(
            f"{first['name']} leads with a total of {_total(first)} of 100 with "
            f"{weights_used}, {number_text(lead, 1)} points ahead of {second['name']} "
            f"({_total(second)})."
        )
    elif ranked:
        sentences.append(f"{ranked[0]['name']} is the only MSO ranked, with a total of "
                         f"{_total(ranked[0])} of 100 with {weights_used}.")  # fmt: skip
    else:
        sentences.append(f"None of the {len(ranking)} MSOs has evidence for "
                         f"{round(100 * MIN_COVERAGE)}% of the weight, so none is ranked.")
    if ranked:
        sentences.extend(_leader_gaps(ranked[0], labels, weights))
    sentences.extend(_ties(ranking))
    sentences.extend(_claims(ranking))
    for row in ranking:
        if not row["mine"]["ranked"]:
            reason = not_ranked_reason(coverage=row["mine"]["coverage"],
                                       failed=row["mine"]["failed"])  # fmt: skip
            sentences.append(f"{row['name']} is {reason}.")
    return sentences


def _leader_gaps(leader, labels, weights):
    weighted = [k for k in labels if weights.get(k)]
    scored = [(leader["criteria"][k]["score"], k) for k in weighted
              if leader["criteria"].get(k, {}).get("status") == OK]  # fmt: skip
    out = []
    if scored:
        score, key = min(scored)
        out.append(f"Its weakest criterion is {labels[key].lower()}, at {_whole(score)} of 100.")
    missing = [labels[k].lower() for k in weighted
               if leader["criteria"].get(k, {}).get("status") != OK]  # fmt: skip
    if missing:
        out.append(f"It has too little evidence on {_names(missing)}.")
    return out


def _ties(ranking):
    by_slug = {r["slug"]: r for r in ranking}
    out = []
    for row in ranking:
        for other in row["nps_tied_with"]:
            if other in by_slug and row["slug"] < other:
                a, b = row, by_slug[other]
                out.append(
                    f"On patient NPS, {a['name']} ({_whole(a['nps']['nps'])}) and {b['name']} "
                    f"({_whole(b['nps']['nps'])}) are statistically tied: neither can be said "
                    "to be ahead."
                )
    return out


def _quoted(statement):
    """A claim in quotation marks, closing the sentence once: “... always.” not “... always.”."""
    statement = statement.strip()
    if statement.endswith((".", "!", "?")):
        return f"“{statement}”"
    return f"“{statement}”."


def _claims(ranking):
    out = []
    for row in ranking:
        for claim in row.get("claims", []):
            if claim["verdict"] == CONTRADICTED:
                out.append(f"The evidence contradicts {row['name']}'s claim "
                           f"{_quoted(claim['statement'])}")  # fmt: skip
            elif claim["verdict"] == NOT_ENOUGH:
                out.append(f"There is not enough evidence for {row['name']}'s claim "
                           f"{_quoted(claim['statement'])}")  # fmt: skip
    if len(out) > MAX_CLAIM_SENTENCES:
        more = len(out) - MAX_CLAIM_SENTENCES
        out = out[:MAX_CLAIM_SENTENCES] + [f"{more} more claims are checked in the MSOs' "
                                           "sections."]  # fmt: skip
    return out
