from django import template
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils.html import format_html

from partners.formatting import number_text
from scorecards import scoring

register = template.Library()


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def percent(share):
    """0.863 -> '86%'; empty for None."""
    if share is None:
        return ""
    return f"{number_text(100 * share)}%"


@register.filter
def not_ranked(mine):
    """Why a scored row (``mine``: coverage, failed) has no total, in words."""
    return scoring.not_ranked_reason(coverage=mine.get("coverage") or 0,
                                     failed=mine.get("failed") or ())  # fmt: skip


@register.simple_tag
def mso_names(msos):
    """{slug: name} of the MSOs of a document, to name the MSOs another is tied with."""
    return {m["slug"]: m["name"] for m in msos or ()}


@register.filter
def names_for(slugs, names):
    """Slugs -> the MSOs' names (a slug not in the document is shown as it is)."""
    return [names.get(slug, slug) for slug in slugs or ()]


@register.simple_tag
def stability_method():
    """What ``scoring.rank_stability`` does, as the figures a sentence on the page needs."""
    low, high = scoring.STABILITY_FACTORS
    return {"draws": f"{scoring.STABILITY_DRAWS:,}", "low": f"{low:g}", "high": f"{high:g}"}


# Criteria whose interval a snapshot computed before intervals moved onto the score's scale
# holds on the value's own scale, and how to map it (snapshots are immutable: old ones stay).
_VALUE_TO_SCORE = {
    "patient_experience": lambda nps: (nps + 100) / 2,
    "surgeon_trust": lambda rating: 100 * (rating - 1) / 4,
    "clinical_autonomy": lambda rating: 100 * (rating - 1) / 4,
}


@register.filter
def criterion_view(result, key):
    """A criterion of a document as a cell shows it: the score and its interval on the 0-100
    scale, n with its unit, the minimum evidence, and the raw value on its own scale."""
    if not result:
        return None
    evidence = result.get("evidence") or {}
    low, high = result.get("ci_low"), result.get("ci_high")
    value_ci = evidence.get("value_ci")
    if low is not None and value_ci is None and key in _VALUE_TO_SCORE:
        value_ci = [low, high]  # an older snapshot: its interval is on the value's scale
        low, high = _VALUE_TO_SCORE[key](low), _VALUE_TO_SCORE[key](high)
    ok = result.get("status") == scoring.OK
    return {
        "ok": ok,
        "score": result.get("score"),
        "low": low if ok else None,
        "high": high if ok else None,
        "n": result.get("n"),
        "unit": _unit(result.get("n"), evidence.get("n_unit") or scoring.N_UNITS.get(key, "")),
        "minimum": evidence.get("minimum") or scoring.MINIMUM_EVIDENCE.get(key, ""),
        "detail": _detail(key, result, evidence, value_ci) if ok else "",
        "no_interval": evidence.get("note") if key == "support_breadth" else "",
    }


def _unit(n, unit):
    """'interviews' -> 'interview' for n = 1 (every unit is a plain plural in -s)."""
    return unit[:-1] if n == 1 and unit.endswith("s") else unit


def _detail(key, result, evidence, value_ci):
    """The raw value on its own scale, in words, where it says more than the score."""
    value = result.get("value")
    if key == "patient_experience" and value is not None:
        text = f"from NPS {value:.0f} on −100 to 100"
        if value_ci:
            text += f" (95% interval {value_ci[0]:.0f} to {value_ci[1]:.0f})"
        return text
    if key in ("surgeon_trust", "clinical_autonomy") and value is not None:
        text = f"mean rating {value:.1f} of 5"
        if value_ci:
            text += f" ({value_ci[0]:.1f}–{value_ci[1]:.1f})"
        return text
    if key == "would_choose_again":
        return "{} yes, {} unsure, {} no".format(*(evidence.get(k, 0) for k in
                                                   ("yes", "unsure", "no")))
    if key == "promise_keeping":
        return "{} kept, {} partly, {} broken".format(*(evidence.get(k, 0) for k in
                                                        ("kept", "partly", "broken")))
    if key == "practice_consistency" and "above_average" in evidence:
        average = evidence.get("healthcare_average")
        return (f"{evidence['above_average']} of {evidence.get('practices_counted', 0)} above "
                f"the healthcare average NPS of {average:g}")
    if key == "clinical_excellence" and "accredited_practices" in evidence:
        return (f"{evidence['accredited_practices']} of {evidence.get('active_practices', 0)} "
                "accredited")
    if key == "support_breadth" and "offered" in evidence:
        return (f"{evidence['offered']} of {evidence.get('service_areas', scoring.SERVICE_AREAS)}"
                " service areas")
    return ""


@register.simple_tag(takes_context=True)
def shortlist_button(context, slug, name, button_class="", add_class=""):
    """The form that adds an MSO to the surgeon's shortlist, or says it is on it with Remove;
    either goes back to this page. Written here rather than in a template: the directory has
    one per row, filled in on every request (templatetags.snapshots), and a template took a
    fifth of the page's time for them. The addresses and the CSRF field are made once per
    request."""
    request = context["request"]
    shared = getattr(request, "_shortlist_button", None)
    if shared is None:
        shared = request._shortlist_button = (
            reverse("shortlist_add"), reverse("shortlist"), csrf_input(request),
            request.get_full_path(),
        )  # fmt: skip
    add_url, shortlist_url, csrf, here = shared
    entry = get(context.get("shortlisted"), slug)
    if entry:
        return format_html(
            '<form method="post" action="{}" class="inline on-shortlist">\n'
            '  {}<input type="hidden" name="next" value="{}">\n'
            '  <span class="tag">On your <a href="{}#entry-{}">shortlist</a></span>\n'
            '  <button type="submit" class="{}" aria-label="Remove {} from your shortlist">'
            "Remove</button>\n</form>",
            reverse("shortlist_remove", args=[entry]), csrf, here, shortlist_url, entry,
            button_class, name,
        )  # fmt: skip
    return format_html(
        '<form method="post" action="{}" class="inline">\n'
        '  {}<input type="hidden" name="mso" value="{}"><input type="hidden" name="next" '
        'value="{}">\n  <button type="submit"{}>Add to shortlist</button>\n</form>',
        add_url, csrf, slug, here, format_html(' class="{}"', add_class) if add_class else "",
    )  # fmt: skip
