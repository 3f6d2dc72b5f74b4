"""Snapshots computed from seeded evidence: idempotent, constant query count, exact export."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.db.models import Q

from partners.models import MSO, Affiliation, SurveyResponse
from partners.surveys.importing import surveys_import
from scorecards.documents import snapshot_csv_rows
from scorecards.models import Methodology, MsoScorecard, ScorecardSnapshot
from scorecards.selectors import snapshot_document
from scorecards.services import scorecard_compute
from scorecards.statistics import nps_estimate

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 6, 1)


@pytest.fixture
def seeded():
    call_command("seed_demo", scale="tiny", seed=3, as_of=AS_OF.isoformat(), stdout=io.StringIO())


def raw_nps_counts(mso, first, last):
    """Brute force: the responses of the MSO's practices while affiliated, from the raw table."""
    counts = [0, 0, 0]
    for aff in Affiliation.objects.filter(mso=mso):
        window = Q(responded_on__gte=max(first, aff.started_on), responded_on__lte=last)
        if aff.ended_on:
            window &= Q(responded_on__lte=aff.ended_on)
        for score in SurveyResponse.objects.filter(window, practice=aff.practice_id).values_list(
            "score", flat=True
        ):
            counts[0 if score >= 9 else 1 if score >= 7 else 2] += 1
    return counts


def test_snapshot_covers_every_published_mso(seeded):
    snapshot, created = scorecard_compute(as_of=AS_OF)
    assert created
    assert snapshot.methodology == Methodology.objects.get(version=1)
    assert snapshot.data_as_of == AS_OF
    assert set(snapshot.scorecards.values_list("mso_id", flat=True)) == set(
        MSO.objects.filter(published=True).values_list("id", flat=True)
    )


def test_unchanged_evidence_gives_no_new_snapshot(seeded):
    first, _ = scorecard_compute(as_of=AS_OF)
    again, created = scorecard_compute(as_of=AS_OF)
    assert (again, created) == (first, False)
    assert ScorecardSnapshot.objects.count() == 1


def test_new_evidence_gives_a_new_snapshot_and_keeps_the_old(seeded):
    first, _ = scorecard_compute(as_of=AS_OF)
    practice = Affiliation.objects.filter(ended_on__isnull=True).first().practice
    csv = f"practice,responded_on,score\n{practice.code},2026-05-10,0\n".encode()
    surveys_import(stream=io.BytesIO(csv), file_name="late.csv", source="test")
    second, created = scorecard_compute(as_of=AS_OF)
    assert created and second.pk != first.pk
    assert ScorecardSnapshot.objects.count() == 2
    assert MsoScorecard.objects.filter(snapshot=first).count() == (
        MsoScorecard.objects.filter(snapshot=second).count()
    )


def test_query_count_does_not_grow_with_the_number_of_msos(seeded):
    small, _ = scorecard_compute(as_of=AS_OF)
    # Copy every MSO with its affiliations' practices' evidence: twice as many MSOs.
    for mso in list(MSO.objects.all()):
        mso.pk, mso.name, mso.slug = None, mso.name + " II", mso.slug + "-ii"
        mso.save()
    big, created = scorecard_compute(as_of=AS_OF)
    assert created
    assert big.scorecards.count() == 2 * small.scorecards.count()
    assert big.query_count == small.query_count
    assert small.query_count <= 16


def test_export_figures_match_the_raw_data(seeded):
    snapshot, _ = scorecard_compute(as_of=AS_OF)
    document = snapshot_document(snapshot)
    assert document["snapshot"]["id"] == snapshot.pk
    assert document["snapshot"]["data_as_of"] == "2026-06-01"
    assert document["snapshot"]["methodology"]["version"] == 1
    assert sum(document["snapshot"]["methodology"]["weights"].values()) == 100
    for entry in document["msos"]:
        mso = MSO.objects.get(slug=entry["slug"])
        counts = raw_nps_counts(mso, datetime.date(2025, 6, 1), datetime.date(2026, 5, 31))
        expected = nps_estimate(*counts)
        nps = entry["nps"]
        assert (nps["promoters"], nps["passives"], nps["detractors"]) == tuple(counts)
        assert nps["n"] == expected.n
        if expected.n >= 30:
            assert nps["nps"] == pytest.approx(expected.nps)
            assert nps["ci_low"] == pytest.approx(expected.ci_low)
        else:  # changed: below 30 responses there is no NPS figure, only the counts
            assert (nps["nps"], nps["ci_low"], nps["ci_high"], nps["band"]) == (None,) * 4
        criterion = entry["criteria"]["patient_experience"]
        if expected.n >= 30:
            assert criterion["status"] == "ok"
            assert criterion["score"] == pytest.approx((expected.nps + 100) / 2)
        else:
            assert (criterion["status"], criterion["score"]) == ("insufficient_data", None)
        assert set(entry["criteria"]) == set(document["snapshot"]["methodology"]["weights"])
        # Ranked MSOs have a total and a rank; unranked ones have neither.
        assert (entry["rank"] is None) == (entry["total"] is None) == (entry["coverage"] < 0.6)


def test_export_shape_is_numbers_not_strings(seeded):
    snapshot, _ = scorecard_compute(as_of=AS_OF)
    out = io.StringIO()
    call_command("export_scorecard", format="json", stdout=out)
    document = json.loads(out.getvalue())
    entry = next(m for m in document["msos"] if m["rank"] == 1)
    assert isinstance(entry["total"], float) and isinstance(entry["coverage"], float)
    assert isinstance(entry["nps"]["n"], int)
    for key in ("slug", "name", "rank", "total", "coverage", "rank_stability", "criteria", "nps",
                "nps_by_year", "claims"):  # fmt: skip
        assert key in entry
    for year in entry["nps_by_year"]:
        assert set(year) >= {"year", "n", "nps", "ci_low", "ci_high"}
    for claim in entry["claims"]:
        assert claim["verdict"] in ("supported", "contradicted", "not_enough_evidence")


def test_csv_export_has_one_row_per_mso(seeded):
    snapshot, _ = scorecard_compute(as_of=AS_OF)
    out = io.StringIO()
    call_command("export_scorecard", format="csv", snapshot=snapshot.pk, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("rank,slug,name,total,coverage")
    assert len(lines) == 1 + snapshot.scorecards.count()
    assert snapshot_csv_rows(snapshot_document(snapshot))[1][1] in out.getvalue()


def test_export_without_snapshot_says_what_to_do(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="run compute_scorecards first"):
        call_command("export_scorecard")


def test_compute_command_sync(seeded):
    out = io.StringIO()
    call_command("compute_scorecards", sync=True, as_of=AS_OF, stdout=out)
    assert out.getvalue().startswith("Computed snapshot #")
    out = io.StringIO()
    call_command("compute_scorecards", sync=True, as_of=AS_OF, stdout=out)
    assert "no new snapshot" in out.getvalue()


def _consistency(snapshot):
    return {card.mso_id: card.document["criteria"]["practice_consistency"]
            for card in snapshot.scorecards.all()}  # fmt: skip


def test_practice_consistency_uses_the_healthcare_average_whatever_other_averages_exist(seeded):
    from partners.models import Benchmark, BenchmarkKind
    from scorecards.selectors import gather_evidence

    before = _consistency(scorecard_compute(as_of=AS_OF)[0])
    # A dental average sorts before "healthcare_average" and is far lower: it must not be used.
    Benchmark.objects.create(key="dental_average", name="Dental average",
                             kind=BenchmarkKind.AVERAGE, value=-50, source="Test", year=2025)
    assert gather_evidence(as_of=AS_OF)["healthcare_average"] == 46.0
    assert _consistency(scorecard_compute(as_of=AS_OF)[0]) == before
    # A newer healthcare average (up to as-of) is the one used.
    Benchmark.objects.create(key="healthcare_average", name="Healthcare industry average",
                             kind=BenchmarkKind.AVERAGE, value=60, source="Test", year=2025)
    assert gather_evidence(as_of=AS_OF)["healthcare_average"] == 60.0
    Benchmark.objects.create(key="healthcare_average", name="Healthcare industry average",
                             kind=BenchmarkKind.AVERAGE, value=10, source="Test", year=2027)
    assert gather_evidence(as_of=AS_OF)["healthcare_average"] == 60.0  # 2027 is after as-of


def test_nothing_after_data_as_of_enters_the_year_series(seeded):
    from scorecards.selectors import gather_evidence

    as_of = datetime.date(2025, 6, 15)  # the responses run to 2026-05-31
    evidence = gather_evidence(as_of=as_of)
    for mso in MSO.objects.filter(published=True):
        counts = evidence["msos"][str(mso.pk)]["by_year"]
        # The partial year 2025 ends with the last full month before as-of, like the window.
        expected = raw_nps_counts(mso, datetime.date(2025, 1, 1), datetime.date(2025, 5, 31))
        assert counts.get("2025", [0, 0, 0]) == expected
        assert "2026" not in counts
    documents = {c.mso_id: c.document for c in scorecard_compute(as_of=as_of)[0].scorecards.all()}
    assert all(y["year"] <= 2025 for d in documents.values() for y in d["nps_by_year"])


# --- below the minimum an NPS document has counts, not figures ---------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from scorecards.documents import nps_document  # noqa: E402

BANDS = [("Good", 0.0), ("Excellent", 50.0), ("World-class", 80.0)]


@given(st.tuples(*[st.integers(0, 60)] * 3))
def testnps_document_is_null_below_the_minimum_and_keeps_its_counts(counts):
    document = nps_document(counts, BANDS)
    expected = nps_estimate(*counts)
    assert (document["n"], document["promoters"], document["passives"],
            document["detractors"]) == (expected.n, *counts)  # fmt: skip
    if expected.n < 30:
        assert document["status"] == "insufficient_data"
        assert (document["nps"], document["ci_low"], document["ci_high"],
                document["band"]) == (None, None, None, None)  # fmt: skip
    else:
        assert document["status"] == "ok"
        assert document["ci_low"] <= document["nps"] == expected.nps <= document["ci_high"]


def test_the_api_gives_no_nps_figure_where_data_is_insufficient(seeded, client, surgeon):
    from django.urls import reverse

    scorecard_compute(as_of=AS_OF)
    client.force_login(surgeon)
    body = client.get(reverse("api_scorecards_latest")).json()
    series = [y for m in body["msos"] for y in [m["nps"], *m["nps_by_year"]]]
    insufficient = [s for s in series if s["status"] == "insufficient_data"]
    assert insufficient, "the demo data has years with too few responses"
    for entry in insufficient:
        assert entry["nps"] is None and entry["ci_low"] is None and entry["ci_high"] is None
        assert entry["n"] < 30 and entry.get("band") is None


def test_a_new_document_version_gives_a_new_snapshot_of_the_same_evidence(seeded, monkeypatch):
    first, _ = scorecard_compute(as_of=AS_OF)
    monkeypatch.setattr("scorecards.documents.DOCUMENT_VERSION", 999)
    second, created = scorecard_compute(as_of=AS_OF)
    assert created and second.pk != first.pk


def test_a_demo_reset_under_snapshots_refuses_clearly_and_changes_nothing(seeded):
    from django.core.management.base import CommandError

    scorecard_compute(as_of=AS_OF)
    msos = MSO.objects.count()
    with pytest.raises(CommandError, match="refer to the MSOs .* Nothing was changed"):
        call_command("seed_demo", scale="tiny", reset=True, as_of=AS_OF.isoformat(),
                     stdout=io.StringIO())  # fmt: skip
    assert MSO.objects.count() == msos
