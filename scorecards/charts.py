"""Server-side SVG charts for the browser pages and the WeasyPrint PDF reports.

Pure Python string building (no ORM, no template engine): a chart costs well under a
millisecond, the 300-point score grid a few milliseconds (``bench/charts.py``).

Every function returns a ``SafeString`` holding one ``<svg>`` element that:

* carries ``role="img"`` and ``aria-labelledby`` pointing at its ``<title>`` and ``<desc>``;
  the ``<desc>`` states the data in words, so a screen reader, a search engine or a text-only
  PDF extract gets the same figures as the picture. Because ``role="img"`` makes the
  children presentational to assistive technology, a page that links from a chart should
  also offer the same links as text (a table or list);
* uses a ``viewBox`` 400 units wide with ``width="100%"``: it scales to its container. Text is
  at least 13 units, i.e. at least 11 px when the chart is 340 px wide (a 390 px phone);
  ``static/css/app.css`` (``/* Charts */``) caps the width on large screens;
* sets ``font-family`` on the ``<svg>`` element (WeasyPrint does not pass the page's font
  into inline SVG text) and uses only presentation attributes (no ``style=""``, no
  ``dominant-baseline`` or ``paint-order``, which WeasyPrint ignores);
* writes every coordinate with ``f"{x:.1f}"``: never locale-aware, so a locale that writes
  ``12,5`` cannot break the geometry. Visible numbers are formatted the same way
  (US style, e.g. ``1,234``), whatever the active language;
* escapes every text and attribute that comes from data (MSO names, labels, hrefs). Hrefs
  with a scheme other than http(s) (``javascript:``, ``data:``, ...) are dropped.

Colours come from the Okabe-Ito colour-blind-safe palette and differ in lightness too, so
they survive greyscale printing; every colour is also named in a legend or label.

API (each returns an SVG string):

``nps_by_year_chart(years, *, benchmark=None, bands=(), href_for_year=None, title=...)``
    NPS per year, y axis -100..100: dot + 95% interval whisker per year, n under each year,
    shaded bands, a dashed benchmark line; years with too few responses show "n=12, too few"
    and no dot.
``ppd_bar(promoters, passives, detractors, *, title=...)``
    One stacked 100% bar of promoters / passives / detractors with percentages and counts.
``dot_plot(rows, *, low=0, high=100, title=...)``
    One row per MSO: dot with interval whisker on a common scale, n, best row marked.
``score_grid(points, *, title=...)``
    Scatter of total score (y, 0..100) against footprint (x, active practices, log(1 + x)
    scale), quadrant lines at the medians, each point a link with a tooltip.
``ledger_bars(areas, *, title=...)``
    The promise ledger: one stacked bar per service area of kept / partly kept / broken.
"""

import itertools
import math
import secrets

from django.utils.html import escape
from django.utils.safestring import mark_safe

from partners.formatting import count_text, number_text, rounded

from .statistics import MIN_RESPONSES

__all__ = ["dot_plot", "ledger_bars", "nps_by_year_chart", "ppd_bar", "score_grid"]

WIDTH = 400
FONT_FAMILY = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Liberation Sans', 'DejaVu Sans', sans-serif"
)
FS = 14  # smallest text in user units: >= 12 px on a 390 px phone (about 345 px of chart)
FS_L = 15

INK = "#1d2733"
MUTED = "#5b6775"
GRID = "#d9dee4"
AXIS = "#8a94a0"
ACCENT = "#1f5f8b"
DOT = "#0b3f6e"  # marks: dark blue, high contrast on white and on the band tints
BLUE = "#0072b2"  # Okabe-Ito blue: promoters, kept
LIGHT_BLUE = "#a6cee3"  # partly kept (a lighter "kept")
GREY = "#c5cbd3"  # passives
VERMILLION = "#d55e00"  # Okabe-Ito vermillion: detractors, broken (white text 4.9:1)
BAND_TINTS = ("#eef5ec", "#d3e7cd", "#b3d5a8", "#93c487")
BEST_TINT = "#fff3d1"

# Advance widths of DejaVu Sans (the widest common sans-serif, so estimates err on the
# safe side) in 1/100 em for chr(32)..chr(126); used to fit labels.
_WIDTHS = (
    32, 40, 46, 84, 64, 95, 78, 27, 39, 39, 50, 84, 32, 36, 32, 34, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 34, 34, 84, 84, 84, 53, 100, 68, 69, 70, 77, 63, 58, 77, 75, 29, 29, 66, 56, 86,
    75, 79, 60, 79, 69, 63, 61, 73, 68, 99, 69, 61, 69, 39, 34, 39, 84, 50, 50, 61, 63, 55, 63,
    62, 35, 63, 63, 28, 28, 58, 28, 97, 63, 61, 63, 63, 41, 52, 39, 63, 59, 82, 59, 59, 52, 64,
    34, 64, 84,
)  # fmt: skip
_SAFE_SCHEMES = ("http:", "https:", "mailto:")


# --------------------------------------------------------------------------- helpers


def _text_width(s, size=FS, bold=False):
    w = 0
    for ch in s:
        o = ord(ch)
        w += _WIDTHS[o - 32] if 32 <= o < 127 else 70
    return w * size / 100 * (1.1 if bold else 1.0)


def _fit(s, width, size=FS, bold=False):
    """``s``, shortened with an ellipsis if its estimated width exceeds ``width``."""
    if _text_width(s, size, bold) <= width:
        return s
    budget = width / (size / 100 * (1.1 if bold else 1.0)) - 70  # room left for the "…"
    used, cut = 0, 0
    for i, ch in enumerate(s):
        o = ord(ch)
        used += _WIDTHS[o - 32] if 32 <= o < 127 else 70
        if used > budget:
            cut = i
            break
    return s[:cut].rstrip() + "…"


def _href(url):
    """The escaped href, or None when there is none or its scheme is not http(s)/mailto."""
    if not url:
        return None
    url = str(url).strip()
    head = url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" in head and not head.lower().startswith(_SAFE_SCHEMES):
        return None
    return escape(url)


def _num(v, digits=0):
    """A visible number, rounded half up as the pages round the same figure beside the chart
    (Python's round() made an NPS of 42.5 "42" here and "43" in the table), with a true minus
    sign; never "-0"."""
    return number_text(v, digits)


def _plain(v, digits=0):
    """A number for the text alternative (ASCII minus), rounded as ``_num``."""
    return f"{rounded(v, digits) or 0.0:,.{digits}f}"


_count = count_text  # the one way a count is written (partners.formatting)


def _compact(n):
    n = int(n)
    if n < 1000:
        return str(n)
    if n < 9950:
        return f"{n / 1000:.1f}k"
    if n < 999_500:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


def _text(x, y, s, *, anchor=None, size=None, weight=None, fill=None, italic=False, extra=""):
    a = f'<text x="{x:.1f}" y="{y:.1f}"'
    if anchor:
        a += f' text-anchor="{anchor}"'
    if size:
        a += f' font-size="{size}"'
    if weight:
        a += f' font-weight="{weight}"'
    if fill:
        a += f' fill="{fill}"'
    if italic:
        a += ' font-style="italic"'
    return f"{a}{extra}>{escape(s)}</text>"


def _rect(x, y, w, h, fill, extra=""):
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" '
        f'fill="{fill}"{extra}/>'
    )


def _line(x1, y1, x2, y2, stroke, width=1, extra=""):
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width}"{extra}/>'
    )


def _svg(kind, height, title, desc, body):
    uid = "chart-" + secrets.token_hex(4)
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" '
        f'viewBox="0 0 {WIDTH} {height:.1f}" width="100%" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" font-family="{FONT_FAMILY}" font-size="{FS}" '
        f'fill="{INK}"><title id="{uid}-t">{escape(title)}</title>'
        f'<desc id="{uid}-d">{escape(desc)}</desc>{body}</svg>'
    )


def _spread(wanted, gap, low, high):
    """Positions near ``wanted`` (sorted copy) at least ``gap`` apart, kept within low..high."""
    pos = sorted(wanted)
    for i in range(1, len(pos)):
        pos[i] = max(pos[i], pos[i - 1] + gap)
    if pos and pos[-1] > high:
        pos[-1] = high
        for i in range(len(pos) - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - gap)
    return [max(p, low) for p in pos]


def _nice_step(span, target=4):
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _ticks(low, high, target=4):
    step = _nice_step(high - low, target)
    first = math.ceil(low / step - 1e-9) * step
    out, v = [], first
    while v <= high + 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _benchmark(benchmark):
    if benchmark is None:
        return None
    if isinstance(benchmark, dict):
        return str(benchmark.get("label") or "Benchmark"), float(benchmark["value"])
    if isinstance(benchmark, (tuple, list)):
        return str(benchmark[0]), float(benchmark[1])
    return "Benchmark", float(benchmark)


def _legend(items, y, x0=0.0, x1=float(WIDTH)):
    """Swatch + label items in a row from x0, wrapping onto more lines (20 units apart).

    ``items``: (fill, label); fill None draws a dashed-line swatch. Returns (svg, lines).
    """
    parts, x, line = [], x0, 0
    for fill, label in items:
        sw = 26 if fill is None else 12
        w = sw + 5 + _text_width(label) + 14
        if x > x0 and x + w - 14 > x1:
            x, line = x0, line + 1
        yy = y + line * 20
        if fill is None:
            parts.append(_line(x, yy - 4, x + sw, yy - 4, INK, 1.5, ' stroke-dasharray="6 4"'))
        else:
            parts.append(
                _rect(x, yy - 10, 12, 12, fill, f' rx="2" stroke="{AXIS}" stroke-width="0.5"')
            )
        parts.append(_text(x + sw + 5, yy, _fit(label, x1 - x - sw - 5), fill=INK))
        x += w
    return "".join(parts), line + 1


# --------------------------------------------------------------------------- NPS by year


def nps_by_year_chart(
    years, *, benchmark=None, bands=(), href_for_year=None, title="Patient NPS by year"
):
    """NPS per calendar year with its 95% interval, on a fixed -100..100 axis.

    ``years``: the snapshot's ``nps_by_year`` list of dicts ``{"year", "n", "nps", "ci_low",
    "ci_high", "status"}``. A year whose status is not ``"ok"`` (or whose ``nps`` is None) is
    drawn as "n=12, too few" without a dot: no figure is invented for it.
    ``benchmark``: a number, or ``(label, value)``, e.g. ``("Healthcare average 2024", 46)``,
    drawn as a dashed line and named in a legend.
    ``bands``: ``[(name, lower bound), ...]``, e.g. ``[("Good", 0), ("Excellent", 50),
    ("World-class", 80)]``; each band is shaded from its bound up to the next one.
    ``href_for_year``: optional callable ``year -> url`` (or None); each year's mark becomes
    a link to its evidence.
    """
    years = list(years)
    bench = _benchmark(benchmark)
    bands = sorted(((str(n), float(b)) for n, b in bands), key=lambda b: b[1])
    bands = [(n, b) for n, b in bands if -100 <= b < 100]

    x0, x1 = 40.0, WIDTH - 6.0
    y0, ph = 12.0, 220.0
    y1 = y0 + ph

    def yv(v):
        return y0 + (100.0 - max(-100.0, min(100.0, v))) * ph / 200.0

    # Band names go in a zone at the right of the plot when the years still get 40 units
    # each; otherwise (many years, a phone-sized viewBox) into the legend under the chart.
    count = max(len(years), 1)
    zone = 0.0
    if bands:
        zone = min(96.0, max(_text_width(n) for n, _ in bands)) + 10.0
        if (x1 - zone - x0) / count < 40:
            zone = 0.0
    xa1 = x1 - zone
    slot = (xa1 - x0) / count

    out = []
    # bands
    for i, (_name, bound) in enumerate(bands):
        top = bands[i + 1][1] if i + 1 < len(bands) else 100.0
        fill = BAND_TINTS[min(i, len(BAND_TINTS) - 1)]
        out.append(_rect(x0, yv(top), x1 - x0, yv(bound) - yv(top), fill))
    if zone:
        centres = []
        for i, (_name, bound) in enumerate(bands):
            top = bands[i + 1][1] if i + 1 < len(bands) else 100.0
            centres.append((yv(top) + yv(bound)) / 2 + FS * 0.35)
        order = sorted(range(len(bands)), key=lambda i: centres[i])
        placed = _spread([centres[i] for i in order], FS + 2, y0 + FS, y1 - 2)
        for i, y in zip(order, placed, strict=True):
            out.append(_text(x1 - 5, y, _fit(bands[i][0], zone - 8), anchor="end", fill=MUTED))
    # grid and y axis
    for v in (-100, -50, 0, 50, 100):
        y = yv(v)
        colour, width = (AXIS, 1.2) if v == 0 else (GRID, 1)
        out.append(_line(x0, y, x1, y, colour, width))
        out.append(_text(x0 - 6, y + FS * 0.35, _num(v), anchor="end", fill=MUTED))
    out.append(_line(x0, y0, x0, y1, AXIS))
    if bench is not None and -100 <= bench[1] <= 100:
        yb = yv(bench[1])
        out.append(_line(x0, yb, x1, yb, INK, 1.5, ' stroke-dasharray="6 4"'))

    # x labels: full year and "n=812" when they fit, else "’24" and a row headed "n"
    def fits(s):
        return _text_width(s) <= slot - 4

    full_year = all(fits(str(y.get("year"))) for y in years)
    full_n = all(fits(f"n={_count(y.get('n') or 0)}") for y in years)
    if not full_n:
        out.append(_text(x0 - 6, y1 + 36, "n", anchor="end", fill=MUTED))

    sufficient = [
        i for i, y in enumerate(years) if y.get("status", "ok") == "ok" and y.get("nps") is not None
    ]
    # trend line through consecutive sufficient years
    path, prev = [], None
    for i in sufficient:
        x, y = x0 + slot * (i + 0.5), yv(float(years[i]["nps"]))
        path.append(f"{'L' if prev == i - 1 else 'M'}{x:.1f} {y:.1f}")
        prev = i
    if len(path) > 1:
        out.append(
            f'<path d="{"".join(path)}" fill="none" stroke="{DOT}" stroke-width="1.5" '
            'stroke-opacity="0.45"/>'
        )

    words = []
    ok = set(sufficient)
    for i, y in enumerate(years):
        year, n = y.get("year"), int(y.get("n") or 0)
        cx = x0 + slot * (i + 0.5)
        ylabel = str(year) if full_year else "\u2019" + str(year)[-2:]
        out.append(_text(cx, y1 + 18, ylabel, anchor="middle", fill=INK))
        out.append(
            _text(cx, y1 + 36, f"n={_count(n)}" if full_n else _compact(n), anchor="middle",
                  fill=MUTED)
        )  # fmt: skip
        href = _href(href_for_year(year)) if href_for_year else None
        mark = []
        if i in ok:
            nps = float(y["nps"])
            lo, hi = y.get("ci_low"), y.get("ci_high")
            cy = yv(nps)
            top = cy
            if lo is not None and hi is not None:
                ylo, yhi = yv(float(lo)), yv(float(hi))
                top = yhi
                mark.append(_line(cx, yhi, cx, ylo, DOT, 2))
                mark.append(_line(cx - 4, yhi, cx + 4, yhi, DOT, 2))
                mark.append(_line(cx - 4, ylo, cx + 4, ylo, DOT, 2))
                tip = f"{year}: NPS {_plain(nps, 1)} (95% interval {_plain(lo, 1)} to {_plain(hi, 1)}), n={_count(n)}"  # noqa: E501
                words.append(
                    f"{year}: {_plain(nps)} (95% interval {_plain(lo)} to {_plain(hi)}), "
                    f"n={_count(n)}"
                )
            else:
                tip = f"{year}: NPS {_plain(nps, 1)}, n={_count(n)}"
                words.append(f"{year}: {_plain(nps)}, n={_count(n)}")
            mark.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{DOT}" stroke="#fff" '
                f'stroke-width="1.5"><title>{escape(tip)}</title></circle>'
            )
            if slot >= 24:
                ty = top - 6
                if ty - FS < y0 - 4:
                    ty = max(cy, yv(float(lo)) if lo is not None else cy) + FS + 4
                mark.append(_text(cx, ty, _num(nps), anchor="middle", weight="600", fill=INK))
        else:
            why = "too few" if n else "no responses"
            label = f"n={_count(n)}, {why}" if n else "no responses"
            words.append(f"{year}: insufficient data ({label})")
            mid = yv(0) - 8
            if _text_width(label) <= slot - 4:
                mark.append(_text(cx, mid, label, anchor="middle", fill=MUTED, italic=True))
            else:
                cy = (y0 + y1) / 2
                mark.append(
                    _text(cx, cy + FS * 0.35, label, anchor="middle", fill=MUTED, italic=True,
                          extra=f' transform="rotate(-90 {cx:.1f} {cy:.1f})"')
                )  # fmt: skip
        if href:
            hit = _rect(cx - slot / 2, y0, slot, y1 + 40 - y0, "#fff", ' fill-opacity="0"')
            out.append(f'<a href="{href}" class="chart-link">{hit}{"".join(mark)}</a>')
        else:
            out.extend(mark)

    height = y1 + 46
    items = []
    if bands and not zone:
        items += [
            (BAND_TINTS[min(i, len(BAND_TINTS) - 1)], f"{name} (above {_num(bound)})")
            for i, (name, bound) in enumerate(bands)
        ]
    if bench is not None:
        items.append((None, f"{bench[0]}: {_num(bench[1], 0 if bench[1] == int(bench[1]) else 1)}"))
    if items:
        legend, lines = _legend(items, y1 + 62, 4.0, WIDTH - 4.0)
        out.append(legend)
        height = y1 + 62 + 20 * (lines - 1) + 8

    if not years:
        out.append(_text((x0 + xa1) / 2, yv(0) - 8, "No survey data yet", anchor="middle",
                         fill=MUTED, italic=True))  # fmt: skip
    desc = "NPS by year with 95% intervals, scale -100 to 100. "
    desc += ("; ".join(words) + ".") if words else "No survey data yet."
    if bands:
        desc += " Bands: " + ", ".join(f"{n} above {_plain(b)}" for n, b in bands) + "."
    if bench is not None:
        desc += f" Dashed line: {bench[0]} {_plain(bench[1], 1).removesuffix('.0')}."
    return _svg("nps-years", height, title, desc, "".join(out))


# --------------------------------------------------------------------------- P / P / D bar


def ppd_bar(promoters, passives, detractors, *, title="Promoters, passives and detractors"):
    """One stacked 100% bar: promoters (blue), passives (grey), detractors (vermillion).

    Each segment shows its percentage when it fits; a legend under the bar gives name,
    percentage and count of each group. n = 0 draws an empty state instead.
    """
    counts = [int(promoters or 0), int(passives or 0), int(detractors or 0)]
    n = sum(counts)
    names = ("Promoters", "Passives", "Detractors")
    fills = (BLUE, GREY, VERMILLION)
    inks = ("#fff", INK, "#fff")
    x0, x1, by, bh = 2.0, WIDTH - 2.0, 4.0, 30.0
    out = []
    if n == 0:
        out.append(_rect(x0, by, x1 - x0, bh, "#fff", f' stroke="{GRID}" stroke-dasharray="4 3"'))
        out.append(_text(WIDTH / 2, by + bh / 2 + FS * 0.35, "No responses yet", anchor="middle",
                         fill=MUTED, italic=True))  # fmt: skip
        desc = "No survey responses yet."
        return _svg("ppd", by + bh + 6, title, desc, "".join(out))

    shares = [100.0 * c / n for c in counts]
    x = x0
    for share, fill, ink, name, c in zip(shares, fills, inks, names, counts, strict=True):
        w = (x1 - x0) * share / 100.0
        if w > 0:
            out.append(
                f"<g>{_rect(x, by, w, bh, fill)}<title>{name}: {_num(share)}% "
                f"({_count(c)})</title></g>"
            )
            label = f"{_num(share)}%"
            if _text_width(label, FS, True) + 8 <= w:
                out.append(_text(x + w / 2, by + bh / 2 + FS * 0.35, label, anchor="middle",
                                 weight="600", fill=ink))  # fmt: skip
        x += w
    col = (x1 - x0) / 3
    ly = by + bh + 22
    for i, (share, fill, name, c) in enumerate(zip(shares, fills, names, counts, strict=True)):
        lx = x0 + i * col
        out.append(_rect(lx, ly - 10, 12, 12, fill, ' rx="2"'))
        out.append(_text(lx + 17, ly, name, fill=INK, weight="600"))
        out.append(_text(lx + 17, ly + 18, _fit(f"{_num(share)}% · {_count(c)}", col - 20),
                         fill=MUTED))  # fmt: skip
    # The NPS is said only where the page states it: from MIN_RESPONSES responses on.
    if n >= MIN_RESPONSES:
        said = f" NPS {_plain(100.0 * (counts[0] - counts[2]) / n, 0)}."
    else:
        said = f" Too few responses for an NPS (at least {MIN_RESPONSES} are needed)."
    desc = (
        f"{_count(n)} responses: promoters {_plain(shares[0])}% ({_count(counts[0])}), "
        f"passives {_plain(shares[1])}% ({_count(counts[1])}), detractors "
        f"{_plain(shares[2])}% ({_count(counts[2])}).{said}"
    )
    return _svg("ppd", ly + 26, title, desc, "".join(out))


# --------------------------------------------------------------------------- dot plot


def dot_plot(rows, *, low=0, high=100, title="Comparison"):
    """One row per item (e.g. an MSO on a compare page): dot and interval on a common scale.

    ``rows``: dicts ``{"label", "value" (or None), "ci_low", "ci_high", "n", "href"
    (optional), "best" (bool, optional)}``. A None value shows "insufficient data" and no dot.
    The best row is highlighted and says "best". Values outside ``low..high`` are clipped to it.
    """
    rows = list(rows)
    low, high = float(low), float(high)
    digits = 1 if high - low <= 10 else 0
    x0, x1 = 10.0, WIDTH - 10.0
    rh, top = 48.0, 4.0

    def xv(v):
        v = max(low, min(high, float(v)))
        return x0 + (v - low) * (x1 - x0) / (high - low)

    ticks = _ticks(low, high)
    plot_bottom = top + rh * max(len(rows), 1)
    out = []
    for t in ticks:
        out.append(_line(xv(t), top, xv(t), plot_bottom, GRID))
    words = []
    for i, r in enumerate(rows):
        ry = top + i * rh
        label = str(r.get("label", ""))
        value, lo, hi, n = r.get("value"), r.get("ci_low"), r.get("ci_high"), r.get("n")
        best = bool(r.get("best"))
        href = _href(r.get("href"))
        part = []
        if best:
            part.append(_rect(0, ry + 1, WIDTH, rh - 2, BEST_TINT, ' rx="3"'))
        # label line: name · n   ...   [best] value (low–high); the interval is left out
        # of the text (the whisker, tooltip and desc still give it) rather than cut the name
        n_text = f" · n={_count(n)}" if n is not None else ""
        tag = "best" if best else ""
        tag_w = _text_width(tag, FS, True) + 12 if best else 0
        label_w = _text_width(label, FS_L, True) + _text_width(n_text)
        if value is not None:
            right = _num(value, digits)
            if lo is not None and hi is not None:
                sep = " to " if float(lo) < 0 else "\u2013"  # "−30–4" would misread
                ci = f" ({_num(lo, digits)}{sep}{_num(hi, digits)})"
                if label_w + _text_width(right + ci, FS, True) + tag_w + 10 <= x1 - x0:
                    right += ci
        else:
            right = "\u2014"
        right_w = _text_width(right, FS, True)
        room = x1 - x0 - right_w - 10 - _text_width(n_text) - tag_w
        shown = _fit(label, max(room, 40), FS_L, True)
        ly = ry + 16
        part.append(
            f'<text x="{x0:.1f}" y="{ly:.1f}"><tspan font-weight="600" font-size="{FS_L}" '
            f'fill="{ACCENT if href else INK}">{escape(shown)}</tspan>'
            f'<tspan fill="{MUTED}">{escape(n_text)}</tspan></text>'
        )
        if best:
            tx = x1 - right_w - 6 - (tag_w - 4)
            part.append(_rect(tx, ly - 11, tag_w - 4, 15, INK, ' rx="3"'))
            part.append(_text(tx + (tag_w - 4) / 2, ly, tag, anchor="middle", weight="600",
                              fill="#fff"))  # fmt: skip
        part.append(_text(x1, ly, right, anchor="end", weight="600", fill=INK))
        cy = ry + 33
        part.append(_line(x0, cy, x1, cy, GRID, 1))
        if value is not None:
            if lo is not None and hi is not None:
                xl, xh = xv(lo), xv(hi)
                part.append(_line(xl, cy, xh, cy, DOT, 2))
                part.append(_line(xl, cy - 5, xl, cy + 5, DOT, 2))
                part.append(_line(xh, cy - 5, xh, cy + 5, DOT, 2))
            tip = f"{label}: {_plain(value, digits)}"
            if lo is not None and hi is not None:
                tip += f" ({_plain(lo, digits)} to {_plain(hi, digits)})"
            if n is not None:
                tip += f", n={_count(n)}"
            words.append(tip + (" (best)" if best else ""))
            radius = 6 if best else 5
            part.append(
                f'<circle cx="{xv(value):.1f}" cy="{cy:.1f}" r="{radius}" fill="{DOT}" '
                f'stroke="#fff" stroke-width="1.5"><title>{escape(tip)}</title></circle>'
            )
        else:
            msg = "insufficient data"
            tw = _text_width(msg) + 10
            mid = (x0 + x1) / 2
            part.append(_rect(mid - tw / 2, cy - 9, tw, 16, BEST_TINT if best else "#fff"))
            part.append(_text(mid, cy + FS * 0.35, msg, anchor="middle", fill=MUTED, italic=True))
            words.append(
                f"{label}: insufficient data" + (f", n={_count(n)}" if n is not None else "")
            )
        if href:
            hit = _rect(0, ry, WIDTH, rh, "#fff", ' fill-opacity="0"')
            out.append(f'<a href="{href}" class="chart-link">{hit}{"".join(part)}</a>')
        else:
            out.extend(part)
    if not rows:
        out.append(_text(WIDTH / 2, top + 28, "No data", anchor="middle", fill=MUTED,
                         italic=True))  # fmt: skip
    ay = plot_bottom + 2
    out.append(_line(x0, ay, x1, ay, AXIS))
    for j, t in enumerate(ticks):
        anchor = "start" if j == 0 and xv(t) - x0 < 12 else "middle"
        if j == len(ticks) - 1 and x1 - xv(t) < 12:
            anchor = "end"
        tx = xv(t) - (2 if anchor == "end" else 0) + (-4 if anchor == "start" else 0)
        out.append(_text(tx, ay + 16, _num(t, 0 if t == int(t) else 1), anchor=anchor,
                         fill=MUTED))  # fmt: skip
    scale = f"scale {_plain(low, digits)} to {_plain(high, digits)}"
    desc = f"Dot plot with intervals, {scale}. " + ("; ".join(words) + "." if words else "No data.")
    return _svg("dots", ay + 24, title, desc, "".join(out))


# --------------------------------------------------------------------------- score grid


_X_CANDIDATES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
# Words an MSO's name ends with that say what it is, not which: dropped from a chart label.
_GENERIC_ENDINGS = ("Partners", "Group", "Alliance", "Network", "Collective", "Specialists",
                    "Partnership", "Holdings", "Company", "LLC", "Inc.")  # fmt: skip
LABEL_MAX = 170  # the widest label in chart units; a longer short name is left to its tooltip
NOT_PLOTTED = {
    "must_haves": "fail the must-haves",
    "unranked": "unranked (too little evidence)",
    "no_practices": "without active practices",
}


def short_name(name):
    """An MSO's name without the generic words it ends with, kept to two words at least:
    "Wrenfield OMS Partners" is "Wrenfield OMS"."""
    words = name.split()
    while len(words) > 2 and words[-1] in _GENERIC_ENDINGS:
        words.pop()
    return " ".join(words)


def score_grid(points, *, title="Total score and footprint"):
    """A G2-style grid: total score (y, 0..100) against footprint (x, active practices).

    ``points``: dicts ``{"label", "x" (active practices), "y" (total score or None),
    "href", "name" (for the tooltip and description; the label by default), "excluded" (why
    there is no score: "must_haves" or "unranked")}``. The x axis is
    logarithmic from 1 practice: it spreads the many small MSOs apart from the few large ones.
    The dashed lines mark the medians of the plotted points, and say so under the chart. Each
    point is a link (if it has an href) with a ``<title>`` tooltip; up to 30 points, the
    top-scoring ones (at most 12) are also labelled with their short name, whole: beside the
    point, or further out with a leader line to it, never over another label or point.
    Points without a score, or without active practices, are not plotted; they are counted
    under the chart by reason (must-haves apart from thin evidence) and named in the
    description.
    """
    plotted, left_out = [], {key: [] for key in NOT_PLOTTED}
    for p in points:
        label = str(p.get("label", ""))
        x, y = p.get("x"), p.get("y")
        if y is None:
            left_out["must_haves" if p.get("excluded") == "must_haves" else "unranked"].append(
                label)  # fmt: skip
        elif x is None or float(x) < 1:
            left_out["no_practices"].append(label)
        else:
            plotted.append((label, float(x), float(y), p.get("href"), p.get("name") or label))

    ml, mr, mt = 46.0, 10.0, 10.0
    ph = 280.0
    x0, x1, y0, y1 = ml, WIDTH - mr, mt, mt + ph
    xmax_data = max((p[1] for p in plotted), default=10.0)
    # Room to the right of the largest: its point (and label) never sits on the frame.
    xmax = next((c for c in _X_CANDIDATES if c >= xmax_data * 1.4), xmax_data * 1.4)
    sx = (x1 - x0) / math.log10(max(xmax, 2))

    def xv(v):
        return x0 + math.log10(max(1.0, min(v, xmax))) * sx

    def yv(v):
        return y1 - max(0.0, min(100.0, v)) * ph / 100.0

    out = [_rect(x0, y0, x1 - x0, ph, "#fff", f' stroke="{GRID}"')]
    for v in (0, 25, 50, 75, 100):
        y = yv(v)
        out.append(_line(x0, y, x1, y, GRID))
        out.append(_text(x0 - 6, y + FS * 0.35, str(v), anchor="end", fill=MUTED))
    # x ticks: candidates up to xmax whose labels do not collide; xmax itself always shown
    ticks = []  # (value, x, left edge, right edge)
    for c in _X_CANDIDATES:
        if c > xmax:
            break
        x, w = xv(c), _text_width(_count(c))
        left, right = max(x - w / 2, x0 - 4), min(x + w / 2, x1)
        if right == x1:
            left = x1 - w
        if c == xmax:
            while ticks and ticks[-1][3] + 8 > left:
                ticks.pop()
        elif ticks and ticks[-1][3] + 8 > left:
            continue
        ticks.append((c, x, left, right))
    for c, x, left, _ in ticks:
        out.append(_line(x, y0, x, y1, GRID))
        out.append(_text(left, y1 + 17, _count(c), fill=MUTED))
    out.append(_text((x0 + x1) / 2, y1 + 37, "Active practices (log scale)",
                     anchor="middle", fill=INK))  # fmt: skip
    cyt = (y0 + y1) / 2
    out.append(_text(14, cyt, "Total score", anchor="middle", fill=INK,
                     extra=f' transform="rotate(-90 14 {cyt:.1f})"'))  # fmt: skip

    words, notes = [], []
    if plotted:
        mx = _median([p[1] for p in plotted])
        my = _median([p[2] for p in plotted])
        xm, ym = xv(mx), yv(my)
        dash = ' stroke-dasharray="5 4"'
        out.append(_line(xm, y0, xm, y1, AXIS, 1.2, dash))
        out.append(_line(x0, ym, x1, ym, AXIS, 1.2, dash))
        notes.append(f"Dashed lines: the medians, {_plain(mx, 1).removesuffix('.0')} "
                     f"practices and score {_plain(my)}")  # fmt: skip
        # corner captions, relative to the median lines
        pad = 6
        for text, x, y, anchor in (
            ("Higher score, smaller", x0 + pad, y0 + FS + 3, "start"),
            ("Higher score, larger", x1 - pad, y0 + FS + 3, "end"),
            ("Lower score, smaller", x0 + pad, y1 - 6, "start"),
            ("Lower score, larger", x1 - pad, y1 - 6, "end"),
        ):
            out.append(_text(x, y, text, anchor=anchor, fill=MUTED, italic=True))
        words.append(
            f"Medians: {_plain(mx, 1).removesuffix('.0')} practices, score {_plain(my, 1)}."
        )
        # points, smallest score first so the best end on top
        order = sorted(plotted, key=lambda p: p[2])
        dots = [
            f'<g fill="{BLUE}" fill-opacity="0.7" stroke="#fff" stroke-width="1">'
        ]  # shared paint: 300 points stay small
        for _label, x, y, href, name in order:
            tip = escape(f"{name}: score {_plain(y)}, {_count(x)} practices")
            dot = f'<circle cx="{xv(x):.1f}" cy="{yv(y):.1f}" r="5"><title>{tip}</title></circle>'
            h = _href(href)
            dots.append(f'<a href="{h}" class="chart-link">{dot}</a>' if h else dot)
        dots.append("</g>")
        out.extend(dots)
        # direct labels for the top-scoring points (at most 12, and only on a grid of up to 30
        # points: beyond that they hide the points; tooltips and desc remain)
        if len(order) <= 30:
            dot_boxes = [(xv(p[1]) - 6, yv(p[2]) - 6, xv(p[1]) + 6, yv(p[2]) + 6) for p in order]
            out.extend(_grid_labels(reversed(order), xv, yv, (x0, y0, x1, y1), dot_boxes))
        words.extend(
            f"{name}: score {_plain(y)}, {_count(x)} practices"
            for _label, x, y, _href, name in sorted(plotted, key=lambda p: (-p[2], p[0]))
        )
    else:
        out.append(_text((x0 + x1) / 2, (y0 + y1) / 2, "No ranked MSOs", anchor="middle",
                         fill=MUTED, italic=True))  # fmt: skip
    counted = [f"{len(names)} {NOT_PLOTTED[key]}" for key, names in left_out.items() if names]
    if counted:
        notes.append("Not plotted: " + ", ".join(counted))
    height = y1 + 46
    for note in notes:
        for line in _wrap(note, x1 - x0 + 40):
            out.append(_text(x0 - 40, height + 14, line, fill=MUTED))
            height += 19
        height += 3
    desc = (
        f"Scatter of total score (0 to 100) against active practices (log scale from 1), "
        f"{len(plotted)} plotted. " + " ".join(words[:1]) + " " + "; ".join(words[1:])
    ).rstrip()
    if plotted:
        desc += "."
    for key, what in (("unranked", "Unranked"), ("must_haves", "Failing the must-haves"),
                      ("no_practices", "Without active practices")):  # fmt: skip
        if left_out[key]:
            desc += f" {what}, not plotted: " + ", ".join(left_out[key]) + "."
    return _svg("grid", height, title, desc, "".join(out))


def _grid_labels(points, xv, yv, frame, taken):
    """Labels for up to 12 points, each whole: beside its point where there is room, else
    further out with a leader line from the point, never over another label or a point.
    ``taken`` holds the points' boxes; the labels' boxes are added to it."""
    x0, y0, x1, y1 = frame
    out, labelled, leaders, label_boxes = [], 0, [], []
    for label, x, y, *_ in points:
        if labelled >= 12:
            break
        cx, cy = xv(x), yv(y)
        w = _text_width(label)
        if w > LABEL_MAX:
            continue
        # Leaders that cross another only where no spot is free of crossings.
        for strict, (dx, dy) in itertools.product((True, False), _LABEL_SPOTS):
            lx = cx + dx if dx >= 0 else cx + dx - w
            ly = cy + dy
            box = (lx - 1, ly - FS * 0.72, lx + w + 1, ly + FS * 0.28)
            if box[0] < x0 + 2 or box[2] > x1 - 2 or box[1] < y0 + 2 or box[3] > y1 - 2:
                continue
            if any(_overlap(box, b) for b in taken):
                continue
            leader = None
            if abs(dx) > 10 or abs(dy) > FS:
                # a leader line from the dot to the label's nearest side, crossing no other
                # label, point or leader
                leader = (cx, cy, box[0] if dx >= 0 else box[2], min(max(cy, box[1]), box[3]))
                if any(_crosses(leader, b) for b in label_boxes) or (strict and any(
                        _segments_cross(leader, other) for other in leaders)):  # fmt: skip
                    continue
                leaders.append(leader)
                out.append(_line(*leader, MUTED, 0.8))
            taken.append(box)
            label_boxes.append(box)
            labelled += 1
            out.append(_text(lx, ly, label, fill=INK, extra=' class="grid-label"'))
            break
    return out


# Where a label may stand, nearest first: (dx, dy) of its baseline from its point; a negative
# dx puts the label's right end there.
_LABEL_SPOTS = [(8, 5), (-8, 5), (8, 5 - FS), (-8, 5 - FS), (8, 5 + FS), (-8, 5 + FS)] + [
    (round(r * math.cos(a), 1), round(r * math.sin(a) * 0.8 + 5, 1))
    for r in (22, 32, 44, 58, 74, 92) for a in (math.pi * k / 8 for k in range(16))
    if abs(math.cos(a)) > 0.05  # straight up or down: a label's end would sit on the point
] + [  # then a column of rows to either side, for points crowded together
    (dx, round(5 + row * FS * 1.1, 1)) for dx in (-16, 16, -44, 44, -76, 76, -110, 110)
    for row in (-1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6, 6, -7, 7, -8, 8, -9, 9)
]


def _crosses(segment, box):
    """Whether a segment passes through a box (sampled finely enough for chart labels)."""
    ax, ay, bx, by = segment
    steps = max(2, int(math.hypot(bx - ax, by - ay) / 2))
    return any(box[0] < ax + (bx - ax) * t / steps < box[2]
               and box[1] < ay + (by - ay) * t / steps < box[3]
               for t in range(1, steps))  # fmt: skip


def _segments_cross(s, t):
    """Whether two segments cross (touching at an end does not count)."""
    def side(ax, ay, bx, by, px, py):
        return (bx - ax) * (py - ay) - (by - ay) * (px - ax)

    d1 = side(*t, s[0], s[1])
    d2 = side(*t, s[2], s[3])
    d3 = side(*s, t[0], t[1])
    d4 = side(*s, t[2], t[3])
    return d1 * d2 < 0 and d3 * d4 < 0


def _wrap(text, width):
    """``text`` as lines no wider than ``width`` (chart units), broken between words."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and _text_width(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


def _median(values):
    s = sorted(values)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# --------------------------------------------------------------------------- promise ledger


LEDGER_KINDS = ("kept", "partly", "broken")


def ledger_total(area):
    """The promises of one service area of the ledger: kept, partly kept and broken."""
    return sum(int(area.get(k) or 0) for k in LEDGER_KINDS)


def ledger_bars(areas, *, title="Promise ledger by service area", scale_total=None,
                words_always=True):
    """The promise ledger: per service area a stacked bar of kept / partly kept / broken.

    ``areas``: dicts ``{"label", "kept", "partly", "broken"}``. Bars share one scale (the
    largest total, or ``scale_total`` where one ledger is drawn as several charts), so an area
    with little evidence has a short bar; each row also states its counts in words (with
    ``words_always`` False, only where a bar is too narrow to show each count on it: print
    has no tooltip, and WeasyPrint lays out SVG text letter by letter). An area with no
    promises says so.
    """
    areas = list(areas)
    x0, x1 = 4.0, WIDTH - 4.0
    kinds = (("kept", "kept", BLUE, "#fff"), ("partly", "partly", LIGHT_BLUE, INK),
             ("broken", "broken", VERMILLION, "#fff"))  # fmt: skip
    legend, lines = _legend(
        [(BLUE, "Kept"), (LIGHT_BLUE, "Partly kept"), (VERMILLION, "Broken")], 14, x0, x1
    )
    out = [legend]
    top = 14 + 20 * (lines - 1) + 10
    rh = 46.0
    totals = [ledger_total(a) for a in areas]
    scale = (x1 - x0) / max(scale_total or 0, max(totals, default=0), 1)
    words = []
    for i, a in enumerate(areas):
        ry = top + i * rh
        label = str(a.get("label", ""))
        counts = [int(a.get(k) or 0) for k, *_ in kinds]
        total = totals[i]
        pairs = list(zip(counts, kinds, strict=True))
        full = " · ".join(f"{c} {name}" for c, (_, name, *_) in pairs)
        ly, by, bh = ry + 16, ry + 22, 18
        bar_end = x0 + total * scale
        lw = _text_width(label, FS, True)
        # counts in words: right of the label, else right of the bar, else shortened
        summary, at_bar = full, False
        shown_on_bar = all(_text_width(str(c), FS, True) + 6 <= c * scale for c in counts if c)
        if total and not words_always and shown_on_bar:
            summary = ""
        elif total and lw + _text_width(full) + 10 > x1 - x0:
            if bar_end + 8 + _text_width(full) <= x1:
                at_bar = True
            else:
                summary = " · ".join(f"{c} {name}" for c, (_, name, *_) in pairs if c)
                if lw + _text_width(summary) + 10 > x1 - x0:
                    at_bar = bar_end + 8 + _text_width(summary) <= x1
        if not total:
            out.append(_text(x0, ly, _fit(label, x1 - x0, FS, True), weight="600", fill=INK))
            out.append(
                _rect(x0, by, x1 - x0, bh, "#fff", f' stroke="{GRID}" stroke-dasharray="4 3"')
            )
            out.append(_text((x0 + x1) / 2, by + bh / 2 + FS * 0.35, "no promises recorded",
                             anchor="middle", fill=MUTED, italic=True))  # fmt: skip
        elif at_bar:
            out.append(_text(x0, ly, _fit(label, x1 - x0, FS, True), weight="600", fill=INK))
            out.append(_text(bar_end + 8, by + bh / 2 + FS * 0.35, summary, fill=MUTED))
        elif not summary:
            out.append(_text(x0, ly, _fit(label, x1 - x0, FS, True), weight="600", fill=INK))
        else:
            sw = _text_width(summary)
            out.append(_text(x0, ly, _fit(label, x1 - x0 - sw - 10, FS, True), weight="600",
                             fill=INK))  # fmt: skip
            out.append(_text(x1, ly, summary, anchor="end", fill=MUTED))
        x = x0
        for c, (_, name, fill, ink) in zip(counts, kinds, strict=True):
            if not c:
                continue
            w = c * scale
            out.append(f"<g>{_rect(x, by, w, bh, fill)}<title>{c} {name}</title></g>")
            if _text_width(str(c), FS, True) + 6 <= w:
                out.append(_text(x + w / 2, by + bh / 2 + FS * 0.35, str(c), anchor="middle",
                                 weight="600", fill=ink))  # fmt: skip
            x += w
        words.append(f"{label}: {full if total else 'no promises recorded'}")
    if not areas:
        out.append(_text(WIDTH / 2, top + 24, "No promises recorded", anchor="middle",
                         fill=MUTED, italic=True))  # fmt: skip
    height = top + rh * max(len(areas), 1) + 2
    desc = "Promise ledger, promises kept, partly kept and broken per service area. "
    desc += ("; ".join(words) + ".") if words else "No promises recorded."
    return _svg("ledger", height, title, desc, "".join(out))
