"""One way to write dates and counts (``partners.formatting``) on every surgeon page and in
the PDF report: "Dec. 3, 2026", never an ISO date beside it; n=3,684, never n=3684."""

import datetime
import re

import pytest
from django.urls import reverse

from partners.formatting import count_text, day_text, moment_text, nps_text
from scorecards.models import MsoScorecard

ISO_DATE = re.compile(r"\b20[0-9]{2}-[0-9]{2}-[0-9]{2}\b")
BARE_COUNT = re.compile(r"n=[0-9]{4,}")


def test_the_one_way_of_writing_figures():
    assert count_text(3684) == "3,684" and count_text(None) == ""
    assert day_text(datetime.date(2026, 12, 3)) == "Dec. 3, 2026"
    assert day_text("2025-07-29") == "July 29, 2025"  # as a document stores it
    assert moment_text(datetime.datetime(2026, 12, 3, 14, 5)) == "Dec. 3, 2026 14:05"
    assert (nps_text(-12.4), nps_text(52.6), nps_text(None)) == ("−12", "53", "")


def visible(page):
    """The page's text, without its scripts, styles and attributes."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", page.content.decode(), flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.django_db
def test_surgeon_pages_write_dates_and_counts_one_way(client, surgeon, snapshot):
    cards = list(MsoScorecard.objects.filter(snapshot=snapshot).select_related("mso"))
    client.force_login(surgeon)
    slugs = [c.mso.slug for c in cards]
    pages = {"directory": client.get(reverse("directory")),
             "compare": client.get(reverse("compare") + "?" + "&".join(
                 f"m={s}" for s in slugs[:5]))}  # fmt: skip
    for card in cards:
        pages[card.mso.slug] = client.get(reverse("mso_profile", args=[card.mso.slug]))
        for year in card.document["nps_by_year"][-1:]:
            pages[f"{card.mso.slug} {year['year']}"] = client.get(
                reverse("mso_year", args=[card.mso.slug, year["year"]]))

    big = 0
    for name, page in pages.items():
        assert page.status_code == 200, name
        text = visible(page)
        assert not ISO_DATE.findall(text), name
        assert not BARE_COUNT.findall(text), name
        big += len(re.findall(r"n=[0-9]{1,3},[0-9]{3}", text))
    assert big  # counts of a thousand and more were shown, with their separator


def test_a_moment_is_written_in_the_sites_time_zone(settings):
    from partners.templatetags.figures import day, moment

    settings.TIME_ZONE = "America/Chicago"
    late = datetime.datetime(2026, 12, 4, 3, 30, tzinfo=datetime.UTC)
    assert moment(late) == "Dec. 3, 2026 21:30"  # the evening before, in Chicago
    assert day(late) == "Dec. 3, 2026"


@pytest.mark.parametrize("value", [70.5, -12.5, 86.65, 0.45, -0.4, 49.875, 1234.5])
@pytest.mark.parametrize("digits", [0, 1])
def test_figures_round_as_the_templates_round_them(value, digits):
    from django.template.defaultfilters import floatformat

    from partners.formatting import number_text

    shown = floatformat(value, digits)  # what a template shows
    if float(shown) == 0:
        shown = shown.lstrip("-")  # "−0" is never written
    assert number_text(value, digits).replace("\u2212", "-").replace(",", "") == shown


def test_a_share_is_written_as_a_percent_rounded_half_up_as_the_charts_write_it():
    from scorecards.charts import _num
    from scorecards.templatetags.scorecards import percent

    for share in (0.625, 0.125, 0.865, 0.005, 1.0, 0.0):
        assert percent(share) == f"{_num(100 * share)}%"
    assert percent(0.625) == "63%"  # round() wrote 62%, beside a chart's 63%
