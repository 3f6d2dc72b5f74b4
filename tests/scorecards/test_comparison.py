"""``scorecards.comparison``: a ★ only where the intervals say one MSO is ahead."""

import re

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from scorecards.comparison import best_in_row
from scorecards.models import CRITERION_CHOICES, MsoScorecard


@pytest.mark.parametrize(("figures", "best", "tied"), [
    # 100 (65-100, n=7) against 88 (53-98): the intervals overlap, so no star.
    ([(100, 65, 100), (88, 53, 98)], None, {0, 1}),
    ([(90, 80, 97), (60, 50, 70), (55, 45, 66)], 0, set()),
    ([(90, 70, 97), (85, 75, 92), (40, 30, 50)], None, {0, 1}),  # the third is behind both
    ([(90, 80, 97), None], None, set()),  # nothing to compare it with
    ([(70, None, None), (60, None, None)], 0, set()),  # self-reported: points
    ([(70, None, None), (70, None, None)], None, {0, 1}),
    ([None, None], None, set()),
])  # fmt: skip
def test_best_in_row(figures, best, tied):
    assert best_in_row(figures) == (best, tied)


intervals = st.tuples(st.floats(0, 100), st.floats(0, 30), st.floats(0, 30)).map(
    lambda t: (t[0], max(0.0, t[0] - t[1]), min(100.0, t[0] + t[2])))


@given(st.lists(intervals, min_size=2, max_size=5))
def test_a_star_means_the_interval_lies_above_every_other(figures):
    best, tied = best_in_row(figures)
    if best is not None:
        assert not tied
        assert all(figures[best][1] > f[2] for i, f in enumerate(figures) if i != best)
    else:
        top = max(range(len(figures)), key=lambda i: figures[i][0])
        assert top in tied


CRITERION_LABELS = dict(CRITERION_CHOICES)


@pytest.mark.django_db
def test_every_star_on_the_compare_page_is_earned(client, surgeon, snapshot):
    cards = {c.document["slug"]: c.document for c in MsoScorecard.objects.filter(
        snapshot=snapshot, rank__isnull=False).order_by("rank")[:5]}  # fmt: skip
    client.force_login(surgeon)
    page = client.get(reverse("compare") + "?" + "&".join(f"m={s}" for s in cards))
    text = page.content.decode()

    rows = re.findall(r"<tr>(.*?)</tr>", text, re.S)
    stars = [row for row in rows if "★" in row]
    assert stars or "tied" in text
    documents = list(cards.values())
    for key in documents[0]["criteria"]:
        cells = [d["criteria"][key] for d in documents]
        best, _tied = best_in_row([(c["score"], c["ci_low"], c["ci_high"])
                                   if c["status"] == "ok" else None for c in cells])  # fmt: skip
        row = next(r for r in rows if f'data-label="{documents[0]["name"]}"' in r
                   and CRITERION_LABELS[key] in r)  # fmt: skip
        assert ("★" in row) is (best is not None)
