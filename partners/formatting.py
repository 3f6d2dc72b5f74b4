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


def nps_text(value):
    """An NPS as a whole number with a true minus sign: -12.4 -> "−12"; None -> ""."""
    if value is None:
        return ""
    whole = round(value)
    return f"−{-whole}" if whole < 0 else str(whole)
