"""The profile's figures beside the criteria: pure functions, and as stored in a snapshot."""

import datetime
import io

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from partners import selectors
from partners.models import MSO, ReferenceInterview
from scorecards.profile import practice_average, quotable_advice
from scorecards.services import scorecard_compute
from scorecards.statistics import nps_point

AS_OF = datetime.date(2026, 6, 1)
counts = st.tuples(*[st.integers(0, 40)] * 3)


@given(st.dictionaries(st.integers(1, 30), counts, max_size=12), st.sets(st.integers(1, 30)))
def test_the_average_is_the_plain_mean_of_active_practices_with_30_responses(by_practice, active):
    got = practice_average(by_practice, active)
    values = [nps_point(*c) for p, c in by_practice.items() if p in active and sum(c) >= 30]
    assert got["practices"] == len(values)
    if len(values) < 3:
        assert got["status"] == "insufficient_data" and got["mean"] is None
    else:
        assert got["mean"] == pytest.approx(sum(values) / len(values))
        assert got["lowest"] == min(values) and got["highest"] == max(values)
        assert got["lowest"] <= got["mean"] <= got["highest"]


def test_a_large_practice_weighs_as_much_as_a_small_one():
    got = practice_average({1: (1000, 0, 0), 2: (0, 0, 30), 3: (0, 30, 0)}, {1, 2, 3})
    assert got["mean"] == pytest.approx((100 - 100 + 0) / 3)


QUOTES = [("Read the contract.", "Dr. Named", True, "independent", "2025-01-01"),
          ("Ask about call.", "Dr. Shy", False, "mso_supplied", "2025-02-01"),
          ("   ", "Dr. Blank", True, "independent", "2025-03-01")]  # fmt: skip


def test_advice_names_only_with_consent_and_is_anonymous_only_from_three_interviews():
    assert quotable_advice(QUOTES, interviews=2) == [
        {"text": "Read the contract.", "by": "Dr. Named", "provenance": "independent",
         "interviewed_on": "2025-01-01"},
    ]  # fmt: skip
    shown = quotable_advice(QUOTES, interviews=3)
    assert [(q["text"], q["by"]) for q in shown] == [
        ("Read the contract.", "Dr. Named"), ("Ask about call.", None)
    ]
    assert all("Dr. Shy" not in str(q) for q in shown)


@pytest.mark.django_db
def test_the_snapshot_holds_the_profiles_evidence():
    call_command("seed_demo", scale="tiny", seed=3, as_of=AS_OF.isoformat(), stdout=io.StringIO())
    snapshot, _ = scorecard_compute(as_of=AS_OF)
    first, last = selectors.months_before(AS_OF)
    for card in snapshot.scorecards.select_related("mso"):
        d, mso = card.document, card.mso
        by_practice = selectors.msos_practices_nps(first_month=first, last_month=last,
                                                   mso_ids=[mso.pk]).get(mso.pk, {})  # fmt: skip
        shown = {p["id"]: p["n"] for p in d["practices"] if p["n"]}
        assert shown == {pid: c.n for pid, c in by_practice.items()}
        active = {a.practice_id for a in mso.affiliations.active_on(AS_OF)}
        assert {p["id"] for p in d["practices"] if p["active"]} == active
        assert d["practice_average_nps"] == practice_average(by_practice, active)
        self_reported = selectors.mso_nps(mso_id=mso.pk, first_month=first, last_month=last,
                                          provenance=selectors.SELF_REPORTED)  # fmt: skip
        assert d["self_reported_nps"]["n"] == self_reported.n
        interviews = ReferenceInterview.objects.filter(mso=mso, interviewed_on__lte=AS_OF)
        assert sum(s["n"] for s in d["interviews"]["summary"].values()) == interviews.count()
        for quote in d["advice"]:
            sources = interviews.filter(advice=quote["text"])
            if quote["by"] is None:
                assert sources.filter(consent_to_quote=False).exists()
                assert interviews.count() >= 3
            else:
                assert sources.filter(consent_to_quote=True, interviewee=quote["by"]).exists()
        ledger_items = sum(a["kept"] + a["partly"] + a["broken"] for a in d["ledger"])
        assert ledger_items == sum(i.promise_ledger.count() for i in interviews)
    assert MSO.objects.filter(published=True).count() == snapshot.scorecards.count()


def test_advice_shows_the_newest_first_within_named_and_anonymous():
    quotes = [("Old named.", "Dr. A", True, "independent", "2023-01-01"),
              ("New named.", "Dr. B", True, "independent", "2025-01-01"),
              ("Old anonymous.", "Dr. C", False, "independent", "2022-01-01"),
              ("New anonymous.", "Dr. D", False, "independent", "2024-06-01")]  # fmt: skip
    assert [q["text"] for q in quotable_advice(quotes, interviews=4)] == [
        "New named.", "Old named.", "New anonymous.", "Old anonymous."]
