"""A snapshot's bands and averages are those it was computed with: an edit of the benchmarks
table after it changes none of its pages or reports until the next snapshot, so a band named
beside a figure always agrees with the bands explained on the same page."""

import pytest
from django.urls import reverse

from partners.models import Benchmark, BenchmarkKind
from scorecards.models import MsoScorecard
from scorecards.reports.services import report_create
from scorecards.services import scorecard_compute

pytestmark = pytest.mark.django_db


def _move_the_bands():
    """Every band bound moved by 15 points, after the snapshot."""
    for band in Benchmark.objects.filter(kind=BenchmarkKind.BAND):
        band.value += 15
        band.save()


def _legend(snapshot):
    return [f"above {bound:.0f} {name.lower()}" for name, bound in snapshot.bands]


def test_a_snapshot_keeps_the_bands_and_average_it_was_computed_with(snapshot):
    from scorecards.selectors import benchmarks

    average, bands = benchmarks(snapshot.data_as_of)
    assert snapshot.benchmarks["healthcare_average"] == average
    assert snapshot.bands == sorted(bands, key=lambda b: b[1])
    _move_the_bands()
    snapshot.refresh_from_db()
    assert snapshot.bands == sorted(bands, key=lambda b: b[1])
    assert scorecard_compute()[0].bands != snapshot.bands  # the next snapshot has the new ones


def test_after_a_benchmark_edit_the_directory_explains_the_bands_its_figures_were_given(
        client, surgeon, snapshot):  # fmt: skip
    before = _legend(snapshot)
    _move_the_bands()
    client.force_login(surgeon)
    text = client.get(reverse("directory")).content.decode()
    for phrase in before:
        assert phrase in text


def test_after_a_benchmark_edit_a_years_practices_are_banded_as_its_figure(
        client, surgeon, snapshot):  # fmt: skip
    card = max(MsoScorecard.objects.filter(snapshot=snapshot).select_related("mso"),
               key=lambda c: c.document["nps"]["n"])  # fmt: skip
    year = card.document["nps_by_year"][-2]["year"]
    client.force_login(surgeon)
    before = client.get(reverse("mso_year", args=[card.mso.slug, year])).context["practices"]
    assert any(p["band"] for p in before)
    _move_the_bands()
    after = client.get(reverse("mso_year", args=[card.mso.slug, year])).context["practices"]
    assert [p["band"] for p in after] == [p["band"] for p in before]


def test_a_report_freezes_the_bands_of_its_snapshot_not_of_the_table(consultant, snapshot):
    slugs = list(MsoScorecard.objects.filter(snapshot=snapshot)
                 .values_list("mso__slug", flat=True)[:2])  # fmt: skip
    _move_the_bands()
    report = report_create(user=consultant, client_name="Lakeside Oral Surgery",
                           snapshot=snapshot, slugs=slugs,
                           weights=snapshot.methodology.weights())  # fmt: skip
    assert [tuple(b) for b in report.facts["bands"]] == snapshot.bands
