"""What an MSO's profile shows beside its criteria, as pure functions (no Django import).

- Average NPS of affiliated practices: the plain mean of each practice's own NPS, over the
  practices affiliated with the MSO at data-as-of that have at least 30 responses in the 12
  months before it while with that MSO; shown with the number of practices and their range.
  Fewer than 3 such practices: insufficient data. (The pooled NPS weighs every response alike;
  this one weighs every practice alike, so a few large practices cannot hide the others.)
- Advice quotes: a quote names its surgeon only with their consent to be quoted; a quote
  without that consent appears, anonymously, only where the MSO has at least 3 interviews, so
  that a reader cannot tell who said it. Newest first, named ones before anonymous ones.
- Interviews listed one by one follow the same rule: an interview names its surgeon only with
  consent, and one without consent is listed, anonymously, only where the MSO has at least 3
  interviews; the others count in the summaries only.
"""

from .statistics import MIN_RESPONSES, nps_point

MIN_PRACTICES_FOR_AVERAGE = 3
MIN_INTERVIEWS_FOR_ANONYMOUS = 3


def practice_average(practice_counts, active_ids):
    """``practice_counts``: {practice_id: (P, passives, D)} over the window while with the MSO;
    ``active_ids``: the practices affiliated at data-as-of. Returns a dict with ``mean``,
    ``practices`` (how many count), ``lowest``, ``highest`` and ``status``."""
    values = sorted(
        nps_point(*counts) for pid, counts in practice_counts.items()
        if pid in active_ids and sum(counts) >= MIN_RESPONSES
    )  # fmt: skip
    enough = len(values) >= MIN_PRACTICES_FOR_AVERAGE
    return {
        "mean": sum(values) / len(values) if enough else None,
        "practices": len(values),
        "lowest": values[0] if enough else None,
        "highest": values[-1] if enough else None,
        "minimum_practices": MIN_PRACTICES_FOR_AVERAGE,
        "status": "ok" if enough else "insufficient_data",
    }


def quotable_advice(quotes, interviews):
    """``quotes``: [(advice, interviewee, consent, provenance, interviewed_on)] of one MSO;
    ``interviews``: how many interviews it has. Returns the quotes that may be shown, as dicts
    ``{"text", "by" (None when anonymous), "provenance", "interviewed_on"}``, named ones
    first, each group newest first."""
    shown = []
    for advice, interviewee, consent, provenance, interviewed_on in quotes:
        if not advice.strip():
            continue
        if not consent and interviews < MIN_INTERVIEWS_FOR_ANONYMOUS:
            continue
        shown.append({"text": advice.strip(), "by": interviewee if consent else None,
                      "provenance": provenance, "interviewed_on": interviewed_on})  # fmt: skip
    shown.sort(key=lambda q: q["interviewed_on"], reverse=True)
    return sorted(shown, key=lambda q: q["by"] is None)


def listable_interviews(interviews):
    """``interviews``: dicts with ``interviewee`` and ``consent``, every interview of one MSO.
    Returns (listed, withheld): the interviews that may be listed one by one, each with ``by``
    (the interviewee with consent, else None: anonymous), and how many may not."""
    anonymous_allowed = len(interviews) >= MIN_INTERVIEWS_FOR_ANONYMOUS
    listed = [{**{k: v for k, v in i.items() if k != "interviewee"},
               "by": i["interviewee"] if i["consent"] else None}
              for i in interviews if i["consent"] or anonymous_allowed]  # fmt: skip
    return listed, len(interviews) - len(listed)
