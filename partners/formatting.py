"""How figures and dates are written, one way everywhere: pages, PDF reports and charts.

| what | written | example |
|---|---|---|
| a count | with thousands separators | 3,684 |
| a day | the month abbreviated as AP style does, the day, the year | Dec. 3, 2026 |
| a moment | the day, then the time on a 24-hour clock | Dec. 3, 2026 14:05 |
| an NPS | a whole number, with a true minus sign | −12 |

Templates use the filters of ``partners/templatetags/figures.py``, which call these. Plain
Python (no Django import), so that the pure modules (a report's summary) write figures so too;
the months are abbreviated as Django's ``N`` date format does.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

MONTHS = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
          "Nov.", "Dec.")  # fmt: skip


def count_text(n):
    """3684 -> "3,684"; None -> ""."""
    return "" if n is None else f"{int(n):,}"


def day_text(day):
    """A date (a datetime, or an ISO date as a document stores it) as "Dec. 3, 2026"; None
    or "" -> ""."""
    if not day:
        return ""
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day[:10])
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def moment_text(moment):
    """A datetime as "Dec. 3, 2026 14:05"; None -> ""."""
    return "" if moment is None else f"{day_text(moment)} {moment:%H:%M}"


def rounded(value, digits=0):
    """``value`` rounded half up to ``digits`` decimals, as Django's floatformat rounds what a
    template shows (Python's round() rounds half to even): 70.5 is 71, 86.65 is 86.7."""
    exponent = Decimal(1).scaleb(-digits)
    return float(Decimal(str(float(value))).quantize(exponent, rounding=ROUND_HALF_UP))


def number_text(value, digits=0):
    """A figure rounded as the templates round it, with a true minus sign and separators:
    -12.4 -> "−12", 1234.56 with 1 digit -> "1,234.6", never "−0"."""
    v = rounded(value, digits) or 0.0
    text = f"{abs(v):,.{digits}f}"
    return f"\u2212{text}" if v < 0 else text


def nps_text(value):
    """An NPS as a whole number with a true minus sign: -12.4 -> "−12"; None -> ""."""
    return "" if value is None else number_text(value)
