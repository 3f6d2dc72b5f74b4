"""Which figure of a row of compared MSOs is the best, as a pure function (no Django import).

A ★ says "this one is better than the others", so it is given only where the evidence says so:

| figures with evidence | highest interval against the next one | mark |
|---|---|---|
| fewer than 2 | | none |
| 2 or more | its low end above the next one's high end | ★ on the highest |
| 2 or more | the intervals overlap | "tied" on the highest and on each that overlaps it |

A figure without an interval (a self-reported share) is its own interval, a point: it is the
best only when it is strictly above the next one. The same rule holds on every row: the NPS,
each criterion, and nothing else.
"""


def _interval(figure):
    value, low, high = figure
    return (value if low is None else low), (value if high is None else high)


def best_in_row(figures):
    """``figures``: one (value, low, high) per MSO, or None where it has no figure. Returns
    (index of the best or None, set of the indices tied for the best)."""
    known = sorted((i for i, f in enumerate(figures) if f is not None and f[0] is not None),
                   key=lambda i: -figures[i][0])  # fmt: skip
    if len(known) < 2:
        return None, set()
    top, runner_up = known[0], known[1]
    top_low, top_high = _interval(figures[top])
    if top_low > _interval(figures[runner_up])[1]:
        return top, set()
    tied = {i for i in known if _interval(figures[i])[1] >= top_low}
    return None, tied
