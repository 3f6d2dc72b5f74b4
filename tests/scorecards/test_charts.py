"""scorecards.charts: server-side SVG charts. Plain functions, no database."""

import re
import time
import xml.etree.ElementTree as ET

import pytest
from django.utils import formats, translation
from django.utils.safestring import SafeString
from hypothesis import given
from hypothesis import strategies as st

from scorecards import charts

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert(1)</script> & "Co"'
BANDS = [("Good", 0), ("Excellent", 50), ("World-class", 80)]
# attributes that hold geometry: a decimal comma in any of them breaks the drawing
GEOMETRY = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "d",
            "viewBox", "transform", "rx", "stroke-width", "font-size", "dy", "dx"}  # fmt: skip


def year(y, n, nps=None, low=None, high=None):
    ok = nps is not None
    return {"year": y, "n": n, "nps": nps, "ci_low": low, "ci_high": high,
            "status": "ok" if ok else "insufficient_data"}  # fmt: skip


YEARS = [
    year(2021, 12),
    year(2022, 812, 61.25, 57.03, 65.15),
    year(2023, 12_850, -12.5, -15.2, -9.8),
    year(2024, 0),
    year(2025, 3340, 84.1, 82.6, 85.6),
]
ROWS = [
    {"label": EVIL, "value": 72.5, "ci_low": 65.25, "ci_high": 79.75, "n": 1234,
     "href": "/msos/1/?a=1&b=2", "best": True},
    {"label": "Prairie Surgical", "value": None, "ci_low": None, "ci_high": None, "n": 14,
     "href": "/msos/2/"},
    {"label": "Harbor", "value": 12.5, "ci_low": 2.5, "ci_high": 22.5, "n": 150},
]  # fmt: skip
AREAS = [
    {"label": EVIL, "kept": 3, "partly": 1, "broken": 2},
    {"label": "Revenue cycle management", "kept": 9, "partly": 0, "broken": 5},
    {"label": "Compliance", "kept": 0, "partly": 0, "broken": 0},
]


def grid_points(count):
    return [
        {"label": f"MSO {i}" if i else EVIL, "x": (i * 7919) % 400, "href": f"/msos/{i}/",
         "y": None if i % 11 == 5 else 20 + (i * 37) % 80 + 0.5}
        for i in range(count)
    ]  # fmt: skip


def every_chart():
    return {
        "nps_by_year": charts.nps_by_year_chart(
            YEARS, benchmark=("Healthcare average 2024", 46), bands=BANDS,
            href_for_year=lambda y: f"/evidence/{y}/?q=1&r=2", title=f"NPS of {EVIL}",
        ),
        "ppd": charts.ppd_bar(1503, 212, 97, title=f"Mix of {EVIL}"),
        "ppd_empty": charts.ppd_bar(0, 0, 0),
        "dots": charts.dot_plot(ROWS, title=EVIL),
        "grid": charts.score_grid(grid_points(40), title=EVIL),
        "ledger": charts.ledger_bars(AREAS, title=EVIL),
    }  # fmt: skip


def parse(svg):
    return ET.fromstring(str(svg))


def circles(root):
    return root.iter(f"{SVG}circle")


def texts(root):
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("name", list(every_chart()))
def test_every_chart_is_accessible_scalable_xml(name):
    svg = every_chart()[name]
    assert isinstance(svg, SafeString)
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 400 \d+(\.\d)?", root.get("viewBox"))
    assert "sans-serif" in root.get("font-family")
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text and title.get("id")
    assert desc is not None and desc.text and desc.get("id")
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    # presentation attributes only (a strict CSP blocks style="", WeasyPrint may ignore it)
    assert not any("style" in e.attrib for e in root.iter())
    # no text smaller than 13 user units (11 px when 400 units are drawn 340 px wide)
    sizes = [float(e.get("font-size")) for e in root.iter() if e.get("font-size")]
    assert min(sizes) >= 13


def test_ids_are_unique_per_chart():
    a, b = parse(charts.ppd_bar(1, 2, 3)), parse(charts.ppd_bar(1, 2, 3))
    assert a.find(f"{SVG}title").get("id") != b.find(f"{SVG}title").get("id")


@pytest.mark.parametrize("name", ["nps_by_year", "ppd", "dots", "grid", "ledger"])
def test_labels_are_escaped(name):
    svg = str(every_chart()[name])
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)  # the escaping keeps it well-formed XML
    everything = root.find(f"{SVG}title").text + " ".join(texts(root))
    everything += root.find(f"{SVG}desc").text
    assert EVIL in everything  # escaped in the markup, the same text once parsed


def test_hrefs_are_escaped_and_unsafe_schemes_dropped():
    svg = charts.dot_plot([
        {"label": "a", "value": 1, "href": '/x/?a=1&b="2"'},
        {"label": "b", "value": 2, "href": "javascript:alert(1)"},
        {"label": "c", "value": 3, "href": " JavaScript:alert(1)"},
        {"label": "d", "value": 4, "href": "https://example.org/d"},
    ])  # fmt: skip
    root = parse(svg)
    hrefs = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert hrefs == ['/x/?a=1&b="2"', "https://example.org/d"]
    assert "javascript" not in str(svg).lower()


def assert_dot_decimals(svg):
    root = parse(svg)
    seen = 0
    for el in root.iter():
        for key, value in el.attrib.items():
            if key in GEOMETRY:
                seen += 1
                assert "," not in value, (el.tag, key, value)
                assert re.fullmatch(r"[-0-9. MLrotate()%]*", value), (el.tag, key, value)
    assert seen > 5


@pytest.mark.parametrize("name", list(every_chart()))
def test_coordinates_have_no_decimal_comma_in_german(name, settings):
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override("de"):
        assert formats.localize(12.5) == "12,5"  # the trap is really set
        svg = every_chart()[name]
    assert_dot_decimals(svg)
    # the data were fractional: at least one coordinate really has a decimal point
    assert re.search(r'(?:x|y|cx|cy|x1|y1|x2|y2|width|height)="-?\d+\.[1-9]', str(svg))


def test_nps_by_year_draws_no_dot_for_insufficient_years():
    root = parse(every_chart()["nps_by_year"])
    dots = list(circles(root))
    assert len(dots) == 3  # 2022, 2023, 2025 only
    tips = " ".join(c.find(f"{SVG}title").text for c in dots)
    assert "2021" not in tips and "2024" not in tips
    words = texts(root)
    assert "n=12, too few" in words
    assert "no responses" in words
    desc = root.find(f"{SVG}desc").text
    assert "2021: insufficient data (n=12, too few)" in desc
    assert "2022: 61 (95% interval 57 to 65), n=812" in desc
    assert "2023: -13 (95% interval -15 to -10), n=12,850" in desc  # half up, as the page
    assert "World-class above 80" in desc and "Healthcare average 2024 46" in desc
    # the benchmark is a dashed line, and is named
    assert any(e.get("stroke-dasharray") for e in root.iter(f"{SVG}line"))
    assert any("Healthcare average 2024" in t for t in words)


def test_nps_by_year_links_each_year():
    root = parse(every_chart()["nps_by_year"])
    hrefs = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert hrefs == [f"/evidence/{y}/?q=1&r=2" for y in range(2021, 2026)]
    plain = parse(charts.nps_by_year_chart(YEARS))
    assert not list(plain.iter(f"{SVG}a"))


def test_nps_by_year_places_points_on_the_axis():
    root = parse(charts.nps_by_year_chart([year(2024, 100, 0.0, -10.0, 10.0)]))
    (dot,) = circles(root)
    zero = [ln for ln in root.iter(f"{SVG}line") if ln.get("stroke") == charts.AXIS
            and ln.get("y1") == ln.get("y2")]  # fmt: skip
    assert float(dot.get("cy")) == pytest.approx(float(zero[0].get("y1")))


def test_nps_by_year_empty_and_many_years():
    assert "No survey data yet" in texts(parse(charts.nps_by_year_chart([])))
    many = [year(2000 + i, 40 + i, 10.0 + i, 0.0, 20.0 + i) for i in range(15)]
    root = parse(charts.nps_by_year_chart(many, bands=BANDS))
    assert len(list(circles(root))) == 15
    assert "\u201914" in texts(root)  # short year labels when slots are narrow


def test_ppd_bar_labels_percentages_and_counts():
    root = parse(charts.ppd_bar(503, 212, 97))
    words = texts(root)
    assert "62%" in words and "Promoters" in words
    assert "62% · 503" in words and "26% · 212" in words and "12% · 97" in words
    desc = root.find(f"{SVG}desc").text
    assert desc.startswith("812 responses: promoters 62% (503)")
    assert "NPS 50." in desc  # a whole number, as the page shows it
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == charts.BLUE]
    assert float(rects[0].get("width")) == pytest.approx(396 * 503 / 812, abs=0.1)


def test_ppd_bar_says_no_nps_where_the_page_withholds_it():
    # 20 responses: the page says too few, so the text alternative states no NPS either.
    desc = parse(charts.ppd_bar(10, 6, 4)).find(f"{SVG}desc").text

    assert "NPS" not in desc.replace("Too few responses for an NPS", "")
    assert "Too few responses for an NPS (at least 30 are needed)." in desc


def test_ppd_bar_empty_state():
    root = parse(charts.ppd_bar(0, 0, 0))
    assert "No responses yet" in texts(root)
    assert "%" not in " ".join(texts(root))


def test_dot_plot_rows():
    root = parse(every_chart()["dots"])
    assert len(list(circles(root))) == 2
    words = texts(root)
    assert "insufficient data" in words
    assert "best" in words
    desc = root.find(f"{SVG}desc").text
    assert "Prairie Surgical: insufficient data, n=14" in desc
    assert f"{EVIL}: 73 (65 to 80), n=1,234 (best)" in desc
    hrefs = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert hrefs == ["/msos/1/?a=1&b=2", "/msos/2/"]


def test_dot_plot_clips_to_the_scale():
    root = parse(charts.dot_plot([{"label": "x", "value": 120, "ci_low": 90, "ci_high": 140}]))
    (dot,) = circles(root)
    assert float(dot.get("cx")) == pytest.approx(390.0)


def test_score_grid_points_links_and_unranked():
    points = grid_points(40)
    root = parse(charts.score_grid(points))
    ranked = [p for p in points if p["y"] is not None and p["x"] >= 1]
    unranked = [p for p in points if p["y"] is None]
    dots = list(circles(root))
    assert len(dots) == len(ranked)
    assert all(c.find(f"{SVG}title").text for c in dots)
    hrefs = {a.get("href") for a in root.iter(f"{SVG}a")}
    assert hrefs == {p["href"] for p in ranked}
    desc = root.find(f"{SVG}desc").text
    assert "Unranked, not plotted: " + ", ".join(p["label"] for p in unranked) in desc
    assert f"Not plotted: {len(unranked)} unranked (too little evidence)" in " ".join(texts(root))


def test_score_grid_counts_must_have_failures_apart_from_thin_evidence():
    points = [{"label": "a", "x": 5, "y": 60}, {"label": "b", "x": 5, "y": None},
              {"label": "c", "x": 7, "y": None, "excluded": "must_haves"}]  # fmt: skip
    root = parse(charts.score_grid(points))
    assert ("Not plotted: 1 fail the must-haves, 1 unranked (too little evidence)"
            in " ".join(texts(root)))  # fmt: skip
    assert "Failing the must-haves, not plotted: c." in root.find(f"{SVG}desc").text


def _label_boxes(root):
    """(text, box) of each point label, measured as the chart measures text."""
    out = []
    for t in root.iter(f"{SVG}text"):
        if t.get("class") == "grid-label":
            x, y, w = float(t.get("x")), float(t.get("y")), charts._text_width(t.text)
            out.append((t.text, (x, y - charts.FS * 0.72, x + w, y + charts.FS * 0.28)))
    return out


def test_score_grid_labels_are_whole_short_names_that_never_overlap():
    names = ["Wrenfield OMS Partners", "Quillmoor Surgical Partners", "Vellichor Surgical Group",
             "Ambervale Surgical Partners", "Corvane Specialty Partners",
             "Fernhollow Oral Surgery Alliance", "Pellwick Oral Surgery Network",
             "Tamberlin Specialty Care Partners", "Brindlecove Specialty Group",
             "Oxbell Multispecialty Alliance"]  # fmt: skip
    # Clustered: similar footprints and scores, as a region's MSOs often are.
    points = [{"label": charts.short_name(n), "name": n, "x": 20 + 3 * (i % 4),
               "y": 80 - 2.5 * i} for i, n in enumerate(names)]  # fmt: skip
    root = parse(charts.score_grid(points))
    labels = _label_boxes(root)

    assert len(labels) >= 6  # the rest keep their tooltip and the description
    assert {t for t, _ in labels} <= {charts.short_name(n) for n in names}  # never cut
    assert {charts.short_name(n) for n in names[:3]} <= {t for t, _ in labels}  # the top first
    for i, (_, a) in enumerate(labels):
        for _, b in labels[i + 1:]:
            assert not charts._overlap(a, b)
        for c in circles(root):
            cx, cy = float(c.get("cx")), float(c.get("cy"))
            assert not charts._overlap(a, (cx - 5, cy - 5, cx + 5, cy + 5))
    assert any(line.get("stroke") == charts.MUTED for line in root.iter(f"{SVG}line"))
    assert "Active practices (log scale)" in texts(root)


def test_score_grid_scale_and_medians():
    root = parse(charts.score_grid([
        {"label": "a", "x": 1, "y": 0}, {"label": "b", "x": 10, "y": 50},
        {"label": "c", "x": 100, "y": 100}, {"label": "z", "x": 0, "y": 70},
    ]))  # fmt: skip
    xs = sorted(float(c.get("cx")) for c in circles(root))
    # A log scale from 1 practice: 1, 10 and 100 practices are equally spaced; the axis
    # starts at 1, not 0, and an MSO without active practices is not plotted, but counted.
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.15)
    assert "Medians: 10 practices, score 50.0." in root.find(f"{SVG}desc").text
    shown = texts(root)
    assert "0" not in [t for t in shown if t.isdigit() and t != "0"] and "1" in shown
    assert "Dashed lines: the medians, 10 practices and score 50" in shown
    assert "Not plotted: 1 without active practices" in shown
    assert "No ranked MSOs" in texts(parse(charts.score_grid([{"label": "u", "x": 3, "y": None}])))


def test_score_grid_300_points_is_fast():
    points = grid_points(300)
    svg = charts.score_grid(points)
    root = parse(svg)
    assert len(list(circles(root))) == sum(p["y"] is not None and p["x"] >= 1 for p in points)
    start = time.perf_counter()
    for _ in range(5):
        charts.score_grid(points)
    assert (time.perf_counter() - start) / 5 < 0.05  # ~2 ms measured; generous for CI


def test_ledger_bars_counts():
    root = parse(every_chart()["ledger"])
    words = texts(root)
    assert "no promises recorded" in words
    assert "9" in words and "5" in words
    desc = root.find(f"{SVG}desc").text
    assert "Revenue cycle management: 9 kept · 0 partly · 5 broken" in desc
    assert "Compliance: no promises recorded" in desc
    assert "No promises recorded" in texts(parse(charts.ledger_bars([])))
    # one scale for all rows: 14 promises span the width, 6 promises 6/14 of it
    kept = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == charts.BLUE][1:]  # legend
    assert float(kept[0].get("width")) == pytest.approx(392 * 3 / 14, abs=0.1)
    assert float(kept[1].get("width")) == pytest.approx(392 * 9 / 14, abs=0.1)


def test_text_fitting_and_formatting():
    assert charts._fit("short", 200) == "short"
    cut = charts._fit("A very long managed services organization name", 100)
    assert cut.endswith("…") and charts._text_width(cut) <= 100
    assert charts._num(-0.4) == "0" and charts._num(-12.5) == "\u221213"
    assert charts._compact(812) == "812" and charts._compact(2210) == "2.2k"
    assert charts._compact(12_850) == "13k" and charts._compact(1_250_000) == "1.2M"


def test_score_grid_labels_each_of_twelve_clustered_points_with_its_short_label():
    # A report's 12 MSOs of about the same footprint and score, labelled by rank.
    points = [{"label": str(i), "x": 48 + i % 3, "y": 70 - i} for i in range(1, 13)]
    shown = texts(parse(charts.score_grid(points)))
    assert all(str(i) in shown for i in range(1, 13))


def test_ledger_for_print_states_counts_in_words_only_where_a_bar_cannot_show_them():
    areas = [{"label": "Marketing", "kept": 5, "partly": 2, "broken": 3},
             {"label": "HR", "kept": 40, "partly": 1, "broken": 0}]  # 1 partly: too narrow
    shown = texts(parse(charts.ledger_bars(areas, words_always=False)))
    assert "5 kept · 2 partly · 3 broken" not in shown and {"5", "2", "3"} <= set(shown)
    assert "40 kept · 1 partly · 0 broken" in shown
    assert "5 kept · 2 partly · 3 broken" in texts(parse(charts.ledger_bars(areas)))


@given(st.integers(-100_000, 100_000).map(lambda n: n / 1000), st.sampled_from([0, 1]))
def test_a_chart_writes_a_figure_as_the_page_beside_it_does(value, digits):
    from django.template.defaultfilters import floatformat

    from scorecards.charts import _num, _plain

    page = floatformat(value, digits).replace("-", "\u2212")
    if page in ("\u22120", "\u22120.0"):
        page = page[1:]
    assert _num(value, digits) == page
    assert _plain(value, digits) == page.replace("\u2212", "-")


def test_half_a_point_is_rounded_up_in_a_chart_as_on_the_page():
    from scorecards.charts import _num

    assert [_num(42.5), _num(-42.5), _num(86.65, 1), _num(0.5)] == ["43", "\u221243", "86.7", "1"]
