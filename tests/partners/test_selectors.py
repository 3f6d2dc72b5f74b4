"""NPS selectors: every figure equals counts made by hand from the raw responses, and each
selector is one query however many practices and MSOs there are."""

import datetime
import io
import random
from collections import Counter

import pytest

from partners import selectors
from partners.aggregate_import import aggregates_import
from partners.models import Affiliation, AggregateNPSSubmission, SurveyResponse
from partners.selectors import NpsCounts
from partners.surveys.importing import surveys_import
from tests.partners.factories import affiliate, make_mso, make_practice

D = datetime.date
FIRST_DAY, LAST_DAY = D(2023, 1, 1), D(2025, 6, 30)


def import_surveys(rows, name="survey.csv"):
    """Import (practice code, day, score) rows through the survey import, rollups and all."""
    text = "practice,responded_on,score\n" + "".join(
        f"{code},{day.isoformat()},{score}\n" for code, day, score in rows
    )
    surveys_import(stream=io.BytesIO(text.encode()), file_name=name, source="vendor")


def attributed_responses():
    """(practice_id, MSO id or None, day, score) for every response, with the MSO found in
    Python from the affiliations."""
    affiliations = list(Affiliation.objects.values_list("practice_id", "mso_id", "started_on",
                                                        "ended_on"))  # fmt: skip
    result = []
    for practice_id, day, score in SurveyResponse.objects.values_list(
        "practice_id", "responded_on", "score"
    ):
        msos = [m for p, m, start, end in affiliations
                if p == practice_id and start <= day and (end is None or day <= end)]  # fmt: skip
        result.append((practice_id, msos[0] if msos else None, day, score))
    return result


def by_hand(responses, keep):
    """The NPS estimate of the responses (practice, MSO, day, score) ``keep`` accepts."""
    kinds = Counter(
        "p" if score >= 9 else "pa" if score >= 7 else "d"
        for practice, mso, day, score in responses
        if keep(practice, mso, day)
    )
    return NpsCounts(kinds["p"], kinds["pa"], kinds["d"])


def month_end(month):
    return (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def within(first_month, last_month):
    last_day = month_end(last_month)
    return lambda day: first_month <= day <= last_day


@pytest.fixture
def world(db):
    """Four practices and three published MSOs (one without practices), and about 1,200
    responses from 2023 to mid-2025:

    - P1 is with Alpha until 2024-03-14 and with Beta from 2024-03-15 (mid-month);
    - P2 is with Alpha from 2023-01-01;
    - P3 has no MSO until 2024-02-09, is with Beta from 2024-02-10 to 2024-05-31, then has none;
    - P4 never has an MSO.
    """
    alpha, beta = make_mso("Alpha MSO", slug="alpha"), make_mso("Beta MSO", slug="beta")
    gamma = make_mso("Gamma MSO", slug="gamma")
    practices = {code: make_practice(code) for code in ("P1", "P2", "P3", "P4")}
    affiliate(practices["P1"], alpha, D(2020, 1, 1), D(2024, 3, 14))
    affiliate(practices["P1"], beta, D(2024, 3, 15))
    affiliate(practices["P2"], alpha, D(2023, 1, 1))
    affiliate(practices["P3"], beta, D(2024, 2, 10), D(2024, 5, 31))
    rng = random.Random(20240315)
    span = (LAST_DAY - FIRST_DAY).days
    rows = [(rng.choice(list(practices)), FIRST_DAY + datetime.timedelta(rng.randint(0, span)),
             rng.randint(0, 10)) for _ in range(1200)]  # fmt: skip
    # Every affiliation boundary has responses on both sides.
    for code, day in (
        ("P1", D(2024, 3, 14)),
        ("P1", D(2024, 3, 15)),
        ("P3", D(2024, 2, 9)),
        ("P3", D(2024, 2, 10)),
        ("P3", D(2024, 5, 31)),
        ("P3", D(2024, 6, 1)),
    ):
        rows += [(code, day, 10), (code, day, 0), (code, day, 7)]  # fmt: skip
    import_surveys(rows[:700], "first.csv")
    import_surveys(rows[700:], "second.csv")
    return {"alpha": alpha, "beta": beta, "gamma": gamma, **practices,
            "responses": attributed_responses()}  # fmt: skip


WINDOWS = [
    (D(2024, 3, 1), D(2024, 3, 1)),  # the month P1 moved
    (D(2024, 2, 1), D(2024, 6, 1)),  # P3's months with Beta, and the months either side
    (D(2023, 1, 1), D(2025, 6, 1)),  # everything
    selectors.months_before(D(2024, 7, 15)),
    (D(2025, 7, 1), D(2025, 12, 1)),  # no responses
]


# --- Response-level figures --------------------------------------------------------------


@pytest.mark.parametrize(("first", "last"), WINDOWS)
def test_mso_nps_counts_responses_by_the_mso_of_their_day(world, first, last):
    inside = within(first, last)
    for name in ("alpha", "beta", "gamma"):
        mso_id = world[name].pk
        expected = by_hand(
            world["responses"], lambda p, m, day, mso_id=mso_id: m == mso_id and inside(day)
        )
        assert selectors.mso_nps(mso_id=mso_id, first_month=first, last_month=last) == expected


@pytest.mark.parametrize(("first", "last"), WINDOWS)
def test_practice_nps_counts_all_its_responses_whatever_its_mso(world, first, last):
    inside = within(first, last)
    for code in ("P1", "P2", "P3", "P4"):
        practice_id = world[code].pk
        expected = by_hand(
            world["responses"], lambda p, m, day, pid=practice_id: p == pid and inside(day)
        )
        got = selectors.practice_nps(practice_id=practice_id, first_month=first, last_month=last)
        assert got == expected


def test_practice_that_changed_mso_mid_month_counts_for_both_in_that_month(db):
    alpha, beta = make_mso("Alpha MSO", slug="alpha"), make_mso("Beta MSO", slug="beta")
    p1 = make_practice("P1")
    affiliate(p1, alpha, D(2020, 1, 1), D(2024, 3, 14))
    affiliate(p1, beta, D(2024, 3, 15))
    import_surveys([("P1", D(2024, 3, 1), 10), ("P1", D(2024, 3, 14), 9),
                    ("P1", D(2024, 3, 14), 3), ("P1", D(2024, 3, 15), 8),
                    ("P1", D(2024, 3, 31), 0)])  # fmt: skip
    march = {"first_month": D(2024, 3, 1), "last_month": D(2024, 3, 1)}

    assert selectors.mso_nps(mso_id=alpha.pk, **march) == NpsCounts(2, 0, 1)
    assert selectors.mso_nps(mso_id=beta.pk, **march) == NpsCounts(0, 1, 1)
    assert selectors.practice_nps(practice_id=p1.pk, **march) == NpsCounts(2, 1, 2)
    assert selectors.msos_nps(**march) == {
        alpha.pk: NpsCounts(2, 0, 1),
        beta.pk: NpsCounts(0, 1, 1),
    }
    assert selectors.msos_practices_nps(**march).get(beta.pk, {}) == {p1.pk: NpsCounts(0, 1, 1)}


def test_responses_while_unaffiliated_count_for_the_practice_but_no_mso(world):
    everything = {"first_month": D(2023, 1, 1), "last_month": D(2025, 6, 1)}
    responses = world["responses"]
    p3, p4 = world["P3"].pk, world["P4"].pk
    unaffiliated = [r for r in responses if r[1] is None]
    assert {r[0] for r in unaffiliated} == {p3, p4}

    by_mso = selectors.msos_nps(**everything)
    assert sum(e.n for e in by_mso.values()) == len(responses) - len(unaffiliated)
    assert by_mso[world["beta"].pk] == by_hand(responses, lambda p, m, d: m == world["beta"].pk)
    assert selectors.practice_nps(practice_id=p4, **everything).n == sum(
        1 for r in responses if r[0] == p4
    )
    # P3's responses on 2024-02-09 and 2024-06-01 belong to no MSO; those between, to Beta.
    feb_9 = [r for r in responses if r[0] == p3 and r[2] == D(2024, 2, 9)]
    assert feb_9 and all(mso is None for _, mso, _, _ in feb_9)
    assert selectors.msos_practices_nps(**everything).get(world["beta"].pk, {})[p3] == by_hand(
        responses, lambda p, m, day: p == p3 and m == world["beta"].pk
    )


@pytest.mark.parametrize(("first", "last"), WINDOWS)
def test_msos_nps_matches_counts_by_hand(world, first, last):
    inside = within(first, last)
    responses = world["responses"]
    expected = {
        mso_id: by_hand(responses, lambda p, m, day, mso_id=mso_id: m == mso_id and inside(day))
        for mso_id in {m for _, m, day, _ in responses if m is not None and inside(day)}
    }

    assert selectors.msos_nps(first_month=first, last_month=last) == expected
    alpha = world["alpha"].pk
    only_alpha = {k: v for k, v in expected.items() if k == alpha}
    assert selectors.msos_nps(first_month=first, last_month=last, mso_ids=[alpha]) == only_alpha


def test_msos_without_responses_are_left_out(world):
    got = selectors.msos_nps(first_month=D(2023, 1, 1), last_month=D(2025, 6, 1))
    assert set(got) == {world["alpha"].pk, world["beta"].pk}
    assert selectors.msos_nps(first_month=D(2023, 1, 1), last_month=D(2025, 6, 1),
                              mso_ids=[world["gamma"].pk]) == {}  # fmt: skip


def test_msos_nps_by_year_is_per_calendar_year(world):
    responses = world["responses"]
    expected = {}
    for mso_id, year in {(m, d.year) for _, m, d, _ in responses if m is not None}:
        expected.setdefault(mso_id, {})[year] = by_hand(
            responses, lambda p, m, d, mso_id=mso_id, year=year: m == mso_id and d.year == year
        )

    got = selectors.msos_nps_by_year(first_year=2023, last_year=2025)
    assert got == expected
    assert set(got[world["alpha"].pk]) == {2023, 2024, 2025}
    assert all(isinstance(year, int) for years in got.values() for year in years)
    assert selectors.msos_nps_by_year(first_year=2024, last_year=2024,
                                      mso_ids=[world["beta"].pk]) == {
        world["beta"].pk: {2024: expected[world["beta"].pk][2024]}
    }  # fmt: skip


def test_mso_practices_nps_counts_each_practice_while_with_the_mso(world):
    responses = world["responses"]
    for name in ("alpha", "beta"):
        mso_id = world[name].pk
        expected = {
            practice_id: by_hand(responses, lambda p, m, d, pid=practice_id, mso_id=mso_id:
                                 p == pid and m == mso_id and d.year == 2024)
            for practice_id in {p for p, m, d, _ in responses if m == mso_id and d.year == 2024}
        }  # fmt: skip
        got = selectors.msos_practices_nps(
            first_month=D(2024, 1, 1), last_month=D(2024, 12, 1)
        ).get(mso_id, {})
        assert got == expected
    assert set(got) == {world["P1"].pk, world["P3"].pk}  # Beta's practices in 2024


# --- Months and bounds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "months", "expected"),
    [
        (D(2025, 3, 15), 12, (D(2024, 3, 1), D(2025, 2, 1))),
        (D(2025, 3, 1), 12, (D(2024, 3, 1), D(2025, 2, 1))),
        (D(2025, 3, 31), 12, (D(2024, 3, 1), D(2025, 2, 1))),
        (D(2025, 1, 10), 12, (D(2024, 1, 1), D(2024, 12, 1))),
        (D(2025, 1, 10), 1, (D(2024, 12, 1), D(2024, 12, 1))),
        (D(2024, 12, 31), 24, (D(2022, 12, 1), D(2024, 11, 1))),
        (D(2024, 3, 1), 3, (D(2023, 12, 1), D(2024, 2, 1))),
    ],
)
def test_months_before_are_the_full_months_before_the_as_of_month(as_of, months, expected):
    assert selectors.months_before(as_of, months) == expected


@pytest.fixture
def edges(db):
    """Responses on the first and last day of 2024's first quarter, and the days either side."""
    alpha = make_mso("Alpha MSO", slug="alpha")
    p1 = make_practice("P1")
    affiliate(p1, alpha, D(2020, 1, 1))
    import_surveys([("P1", D(2023, 12, 31), 0), ("P1", D(2024, 1, 1), 10),
                    ("P1", D(2024, 3, 31), 9), ("P1", D(2024, 4, 1), 0)])  # fmt: skip
    aggregates_import(data=(
        b"practice,mso,period_start,period_end,promoters,passives,detractors\n"
        b"P1,,2023-12-31,2024-01-31,100,0,0\n"  # starts before the window
        b"P1,,2024-01-01,2024-03-31,0,5,0\n"  # exactly the window
        b"P1,,2024-03-01,2024-04-01,0,0,100\n"  # ends after it
        b",alpha,2024-02-01,2024-02-29,0,0,7\n"
    ))  # fmt: skip
    return alpha, p1


def test_date_range_bounds_are_inclusive(edges):
    alpha, p1 = edges
    quarter = {"first_month": D(2024, 1, 1), "last_month": D(2024, 3, 1)}

    assert selectors.mso_nps(mso_id=alpha.pk, **quarter) == NpsCounts(2, 0, 0)
    assert selectors.practice_nps(practice_id=p1.pk, **quarter) == NpsCounts(2, 0, 0)
    assert selectors.msos_nps(**quarter) == {alpha.pk: NpsCounts(2, 0, 0)}
    assert selectors.msos_practices_nps(**quarter).get(alpha.pk, {}) == {p1.pk: NpsCounts(2, 0, 0)}
    # Self-reported: only the submissions whose whole period lies within the months.
    assert selectors.practice_nps(
        practice_id=p1.pk, provenance=selectors.SELF_REPORTED, **quarter
    ) == NpsCounts(0, 5, 0)
    assert selectors.mso_nps(
        mso_id=alpha.pk, provenance=selectors.SELF_REPORTED, **quarter
    ) == NpsCounts(0, 5, 7)


@pytest.mark.parametrize(
    "quarter",
    [
        {"first_month": D(2024, 1, 15), "last_month": D(2024, 3, 31)},
        {"first_month": D(2024, 1, 31), "last_month": D(2024, 3, 2)},
    ],
    ids=["mid-month", "month-ends"],
)
def test_any_day_of_a_month_stands_for_the_whole_month(edges, quarter):
    alpha, p1 = edges
    assert selectors.mso_nps(mso_id=alpha.pk, **quarter) == NpsCounts(2, 0, 0)
    assert selectors.practice_nps(practice_id=p1.pk, **quarter) == NpsCounts(2, 0, 0)
    assert selectors.msos_nps(**quarter) == {alpha.pk: NpsCounts(2, 0, 0)}
    assert selectors.msos_practices_nps(**quarter).get(alpha.pk, {}) == {p1.pk: NpsCounts(2, 0, 0)}
    self_reported = {"provenance": selectors.SELF_REPORTED, **quarter}
    assert selectors.practice_nps(practice_id=p1.pk, **self_reported) == NpsCounts(0, 5, 0)
    assert selectors.mso_nps(mso_id=alpha.pk, **self_reported) == NpsCounts(0, 5, 7)


# --- Provenance -----------------------------------------------------------------------------

SUBMISSIONS = (
    "practice,mso,period_start,period_end,promoters,passives,detractors\n"
    "P1,,2024-01-01,2024-01-31,50,0,0\n"  # P1 with Alpha
    "P1,,2024-04-01,2024-04-30,0,40,0\n"  # P1 with Beta
    "P2,,2024-01-01,2024-06-30,0,0,30\n"  # P2 with Alpha
    "P3,,2024-01-01,2024-01-31,20,0,0\n"  # P3 without an MSO
    "P4,,2024-01-01,2024-01-31,0,10,0\n"  # P4 never has one
    ",alpha,2024-01-01,2024-12-31,700,200,100\n"
    ",beta,2024-03-01,2024-03-31,8,0,0\n"
)


def test_self_reported_figures_are_never_mixed_with_response_level_ones(world):
    year = {"first_month": D(2024, 1, 1), "last_month": D(2024, 12, 1)}
    alpha, beta = world["alpha"].pk, world["beta"].pk
    before = {
        "alpha": selectors.mso_nps(mso_id=alpha, **year),
        "P1": selectors.practice_nps(practice_id=world["P1"].pk, **year),
        "all": selectors.msos_nps(**year),
        "years": selectors.msos_nps_by_year(first_year=2024, last_year=2024),
        "practices": selectors.msos_practices_nps(**year).get(alpha, {}),
    }
    aggregates_import(data=SUBMISSIONS.encode())
    assert AggregateNPSSubmission.objects.count() == 7

    # Response-level figures are unchanged by the submissions ...
    assert selectors.mso_nps(mso_id=alpha, **year) == before["alpha"]
    assert selectors.mso_nps(mso_id=alpha, provenance=selectors.RESPONSES, **year) == (
        by_hand(world["responses"], lambda p, m, d: m == alpha and d.year == 2024)
    )
    assert selectors.practice_nps(practice_id=world["P1"].pk, **year) == before["P1"]
    assert selectors.msos_nps(**year) == before["all"]
    assert selectors.msos_nps_by_year(first_year=2024, last_year=2024) == before["years"]
    assert selectors.msos_practices_nps(**year).get(alpha, {}) == before["practices"]

    # ... and self-reported ones hold nothing but the submissions: the MSO's own and its
    # practices' while they were with it.
    self_reported = {"provenance": selectors.SELF_REPORTED, **year}
    assert selectors.mso_nps(mso_id=alpha, **self_reported) == NpsCounts(750, 200, 130)
    assert selectors.mso_nps(mso_id=beta, **self_reported) == NpsCounts(8, 40, 0)
    assert selectors.mso_nps(mso_id=world["gamma"].pk, **self_reported) == NpsCounts(0, 0, 0)
    assert selectors.practice_nps(practice_id=world["P1"].pk, **self_reported) == NpsCounts(
        50, 40, 0
    )
    assert selectors.practice_nps(practice_id=world["P3"].pk, **self_reported) == NpsCounts(
        20, 0, 0
    )
    # Without response-level data there is no response-level figure.
    later = {"first_month": D(2025, 7, 1), "last_month": D(2025, 12, 1)}
    aggregates_import(data=(
        "mso,period_start,period_end,promoters,passives,detractors\n"
        f"alpha,{later['first_month']},{later['first_month']},5,0,0\n"
    ).encode())  # fmt: skip
    assert selectors.mso_nps(mso_id=alpha, **later).n == 0
    assert selectors.mso_nps(mso_id=alpha, provenance=selectors.SELF_REPORTED, **later).n == 5


def test_practice_submission_counts_for_an_mso_only_if_with_it_for_the_whole_period(world):
    aggregates_import(data=(
        b"practice,period_start,period_end,promoters,passives,detractors\n"
        b"P1,2024-02-01,2024-03-14,1,0,0\n"  # with Alpha throughout
        b"P1,2024-03-15,2024-03-31,0,2,0\n"  # with Beta throughout
        b"P1,2024-03-01,2024-03-31,0,0,4\n"  # moved from Alpha to Beta during the period
        b"P3,2024-02-01,2024-02-29,8,0,0\n"  # joined Beta during the period
        b"P3,2024-05-01,2024-06-30,16,0,0\n"  # left Beta during the period
    ))  # fmt: skip
    months = {"first_month": D(2024, 1, 1), "last_month": D(2024, 12, 1),
              "provenance": selectors.SELF_REPORTED}  # fmt: skip

    assert selectors.mso_nps(mso_id=world["alpha"].pk, **months) == NpsCounts(1, 0, 0)
    assert selectors.mso_nps(mso_id=world["beta"].pk, **months) == NpsCounts(0, 2, 0)
    assert selectors.practice_nps(practice_id=world["P1"].pk, **months) == NpsCounts(1, 2, 4)
    assert selectors.practice_nps(practice_id=world["P3"].pk, **months) == NpsCounts(24, 0, 0)


def test_months_before_needs_at_least_one_month():
    with pytest.raises(ValueError, match="months must be 1 or more, not 0"):
        selectors.months_before(D(2025, 3, 15), 0)


def test_unknown_provenance_is_refused(world):
    year = {"first_month": D(2024, 1, 1), "last_month": D(2024, 12, 1)}
    with pytest.raises(ValueError, match="unknown provenance 'vendor'"):
        selectors.mso_nps(mso_id=world["alpha"].pk, provenance="vendor", **year)
    with pytest.raises(ValueError, match="unknown provenance 'vendor'"):
        selectors.practice_nps(practice_id=world["P1"].pk, provenance="vendor", **year)


# --- Practice counts -------------------------------------------------------------------------


def test_published_msos_count_the_practices_affiliated_on_the_day(world):
    hidden = make_mso("Hidden MSO", slug="hidden", published=False)
    affiliate(make_practice("P9"), hidden)

    def counts(day):
        return [(m.name, m.active_practices)
                for m in selectors.published_msos_with_practice_counts(day=day)]  # fmt: skip

    assert counts(D(2024, 3, 14)) == [("Alpha MSO", 2), ("Beta MSO", 1), ("Gamma MSO", 0)]
    assert counts(D(2024, 3, 15)) == [("Alpha MSO", 1), ("Beta MSO", 2), ("Gamma MSO", 0)]
    assert counts(D(2024, 5, 31)) == [("Alpha MSO", 1), ("Beta MSO", 2), ("Gamma MSO", 0)]
    assert counts(D(2024, 6, 1)) == [("Alpha MSO", 1), ("Beta MSO", 1), ("Gamma MSO", 0)]


# --- One query each, however many practices and MSOs ----------------------------------------


def add_practices_and_msos(count):
    """``count`` more MSOs, each with two practices, one of them moving to the next MSO."""
    msos = [make_mso(f"Extra MSO {i}", slug=f"extra-{i}") for i in range(count)]
    rows = []
    for i, mso in enumerate(msos):
        stays, moves = make_practice(f"X{i}-A"), make_practice(f"X{i}-B")
        affiliate(stays, mso, D(2022, 1, 1))
        affiliate(moves, mso, D(2022, 1, 1), D(2024, 6, 15))
        affiliate(moves, msos[(i + 1) % count], D(2024, 6, 16))
        rows += [(stays.code, D(2024, 6, 10), 9), (moves.code, D(2024, 6, 20), 4)]
    import_surveys(rows, f"extra-{count}.csv")
    aggregates_import(data=(
        "practice,period_start,period_end,promoters,passives,detractors\n"
        + "".join(f"X{i}-A,2024-01-01,2024-03-31,5,1,1\n" for i in range(count))
    ).encode())  # fmt: skip


SELECTOR_CALLS = {
    "mso_nps": lambda w, **m: selectors.mso_nps(mso_id=w["alpha"].pk, **m),
    "mso_nps self-reported": lambda w, **m: selectors.mso_nps(
        mso_id=w["alpha"].pk, provenance=selectors.SELF_REPORTED, **m
    ),
    "practice_nps": lambda w, **m: selectors.practice_nps(practice_id=w["P1"].pk, **m),
    "practice_nps self-reported": lambda w, **m: selectors.practice_nps(
        practice_id=w["P1"].pk, provenance=selectors.SELF_REPORTED, **m
    ),
    "msos_nps": lambda w, **m: selectors.msos_nps(**m),
    "msos_nps of some": lambda w, **m: selectors.msos_nps(
        mso_ids=[w["alpha"].pk, w["beta"].pk], **m
    ),
    "msos_nps_by_year": lambda w, **m: selectors.msos_nps_by_year(first_year=2023, last_year=2025),
    "mso_practices_nps": lambda w, **m: selectors.msos_practices_nps(**m).get(w["alpha"].pk, {}),
    "published_msos_with_practice_counts": lambda w, **m: list(
        selectors.published_msos_with_practice_counts(day=D(2024, 6, 30))
    ),
}


@pytest.mark.parametrize("extra", [0, 25])
def test_each_selector_runs_one_query(world, django_assert_num_queries, extra):
    if extra:
        add_practices_and_msos(extra)
    window = {"first_month": D(2023, 1, 1), "last_month": D(2025, 6, 1)}
    for call in SELECTOR_CALLS.values():
        with django_assert_num_queries(1):
            call(world, **window)
    figures = selectors.msos_nps(**window)
    assert len(figures) == 2 + extra
