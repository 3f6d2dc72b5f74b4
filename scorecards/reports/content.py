"""What goes into a consultant's report, read from the report's snapshot and its own inputs.

Every figure comes from the stored documents of the report's snapshot (``MsoScorecard`` rows);
the profile facts and the NPS bands come from ``Report.facts``, frozen when the report was
created. Totals and ranks under the client's weights and must-haves are computed by
``priorities.rescore``, the same code as the compare page, over the MSOs of the report: the
ranking is among the MSOs the client is choosing between. Nothing here reads a patient comment.
"""

import base64

from django.utils import timezone
from django.utils.safestring import mark_safe

from partners.models import MSO, MSOService, ServiceArea

from .. import charts, priorities, scoring, statistics
from ..models import CRITERION_CHOICES, CRITERION_DEFINITIONS, MsoScorecard
from ..profile import MIN_INTERVIEWS_FOR_ANONYMOUS, MIN_PRACTICES_FOR_AVERAGE
from .summary import summary_sentences

SECTIONS = (
    ("summary", "Executive summary"),
    ("criteria", "Criteria side by side"),
    ("charts", "Charts"),
    ("msos", "The MSOs one by one"),
    ("methodology", "Methodology appendix"),
)
SECTION_KEYS = tuple(key for key, _ in SECTIONS)
MIN_MSOS, MAX_MSOS = 2, 12
HIGHLIGHTS_PER_MSO = 4  # advice quotes shown per MSO

FACT_FIELDS = ("name", "ownership_model", "specialty_focus", "specialties", "founded_year",
               "reported_practices", "reported_surgeons", "reported_states",
               "clinical_autonomy_terms", "values")  # fmt: skip


def report_facts(*, slugs, snapshot):
    """The profile facts of these MSOs and the NPS bands of the snapshot, to freeze on a
    report: {"msos": {slug: facts}, "bands": [[name, lower bound]]}. Two queries."""
    msos = {m["slug"]: m for m in MSO.objects.filter(slug__in=slugs).values("id", "slug",
                                                                             *FACT_FIELDS)}
    services = {}
    for mso_id, area, detail in MSOService.objects.filter(
        mso_id__in=[m["id"] for m in msos.values()]
    ).order_by("area").values_list("mso_id", "area", "detail"):  # fmt: skip
        services.setdefault(mso_id, []).append([area, detail])
    bands = [list(band) for band in snapshot.bands]
    facts = {}
    for slug, m in msos.items():
        offered = services.get(m.pop("id"), [])
        facts[slug] = {**m, "services": [a for a, _ in offered], "service_details": offered}
    return {"msos": facts, "bands": bands}


def _tied_names(row, names):
    return [names[s] for s in row["nps_tied_with"] if s in names]


def _excluded(row):
    """Why an MSO is not in the client's ranking, in words (empty when it is ranked)."""
    mine = row["mine"]
    if mine["ranked"]:
        return ""
    return scoring.not_ranked_reason(coverage=mine["coverage"], failed=mine["failed"])


def report_content(report):
    """The template context of a report: two queries (its snapshot's methodology is loaded
    with it, its scorecards in one more)."""
    snapshot = report.snapshot
    methodology = snapshot.methodology
    facts = report.facts or {}
    documents = dict(
        MsoScorecard.objects.filter(snapshot=snapshot, mso__slug__in=report.msos)
        .values_list("mso__slug", "document")
    )  # fmt: skip
    service_labels = dict(ServiceArea.choices)
    rows = []
    for slug in report.msos:
        document = documents.get(slug)
        if document is None:
            continue
        fact = facts.get("msos", {}).get(slug, {})
        rows.append({**document, "facts": {
            "specialty_focus": fact.get("specialty_focus", ""),
            "specialties": fact.get("specialties", ""),
            "services": fact.get("services", []),
            "active_practices": document.get("active_practices") or 0,
        }, "profile": fact})  # fmt: skip
    priorities.rescore(rows, report.weights, report.must_haves, service_labels)
    ranking = sorted(rows, key=lambda r: (not r["mine"]["ranked"], r["mine"]["rank"] or 0,
                                          r["name"]))  # fmt: skip
    names = {r["slug"]: r["name"] for r in rows}
    labels = dict(CRITERION_CHOICES)
    published = {c.key: c.weight for c in methodology.criteria.all()}
    keys = [k for k in report.weights if k in labels]
    total_weight = sum(report.weights[k] for k in keys) or 1
    criteria = [{
        "key": k, "label": labels[k], "weight": report.weights[k],
        "share": 100 * report.weights[k] / total_weight, "published_weight": published.get(k),
        "definition": CRITERION_DEFINITIONS[k], "minimum": scoring.MINIMUM_EVIDENCE[k],
        "interval": scoring.INTERVAL_METHODS[k] or "none (a count the MSO reports)",
    } for k in keys]  # fmt: skip
    bands = [tuple(b) for b in facts.get("bands", [])]
    for row in ranking:
        row["tied_here"] = _tied_names(row, names)
        row["excluded"] = _excluded(row)
        row["highlights"] = _distinct_quotes(row.get("advice", []))[:HIGHLIGHTS_PER_MSO]
        row["accreditation_bodies"] = accreditation_summary(row.get("accreditations", []))
        row["current_accreditations"] = sorted(
            (a for a in row.get("accreditations", []) if a["current"]),
            key=lambda a: (a["practice"], a["body"]))  # fmt: skip
    sections = [s for s in SECTIONS if s[0] in report.sections]
    custom = any(report.weights.get(k) != published.get(k) for k in published)
    weights_used = weights_caption(custom=custom, name=methodology.name,
                                   version=methodology.version)  # fmt: skip
    context = {
        "report": report, "snapshot": snapshot, "methodology": methodology,
        "msos": ranking, "criteria": criteria, "sections": sections,
        "include": set(report.sections), "bands": bands,
        "custom_weights": custom,
        "weights_used": weights_used,
        "summary": summary_sentences(ranking, labels=labels, weights=report.weights,
                                     weights_used=weights_used),
        "must_haves": _must_have_lines(report.must_haves, service_labels),
        "ranked": [r for r in ranking if r["mine"]["ranked"]],
        "excluded": [r for r in ranking if not r["mine"]["ranked"]],
        "ties": _tie_pairs(ranking),
        "paper": report.paper,
        "minimums": {"responses": statistics.MIN_RESPONSES,
                     "practices_for_average": MIN_PRACTICES_FOR_AVERAGE,
                     "interviews_for_anonymous": MIN_INTERVIEWS_FOR_ANONYMOUS,
                     "coverage": round(100 * scoring.MIN_COVERAGE),
                     "stability_draws": f"{scoring.STABILITY_DRAWS:,}"},
        "prepared_by": report.prepared_by, "firm": report.firm,
        "dated": report.created_at or timezone.now(),
    }  # fmt: skip
    if "charts" in report.sections or "msos" in report.sections:
        _add_charts(context, ranking, bands, service_labels)
    return context


def accreditation_summary(accreditations):
    """Per accrediting body: how many accreditations of the active practices are current and
    how many expired, the next expiry of a current one and the last expiry of an expired one.
    (The expired ones are counted, not listed: at the product's scale an MSO has dozens.)"""
    bodies = {}
    for a in accreditations:
        b = bodies.setdefault(a["body"], {"body": a["body"], "current": 0, "expired": 0,
                                          "next_expiry": None, "last_expired": None})
        if a["current"]:
            b["current"] += 1
            b["next_expiry"] = min(filter(None, [b["next_expiry"], a["expires_on"]]))
        else:
            b["expired"] += 1
            b["last_expired"] = max(filter(None, [b["last_expired"], a["expires_on"]]))
    return sorted(bodies.values(), key=lambda b: (-b["current"], b["body"]))


def chart_image(svg):
    """An SVG chart as an ``<img>`` with a data URL: WeasyPrint lays out an image as one box,
    where an inline ``<svg>`` costs a layout pass over its elements (bench/reports.py)."""
    if not svg:
        return ""
    title = ""
    if "<title" in svg:  # already escaped by charts.py
        title = svg.split("<title", 1)[1].split(">", 1)[1].split("</title>", 1)[0]
    data = base64.b64encode(str(svg).encode()).decode()
    return mark_safe(f'<img alt="{title}" src="data:image/svg+xml;base64,{data}">')


def _distinct_quotes(quotes):
    """The quotes in their order, each text once: two surgeons who gave the same advice are
    quoted once (the first, named ones before anonymous ones as ``quotable_advice`` orders)."""
    seen, out = set(), []
    for quote in quotes:
        key = " ".join(quote["text"].casefold().split())
        if key not in seen:
            seen.add(key)
            out.append(quote)
    return out


def _tie_pairs(rows):
    """Each pair of the report's MSOs whose NPS are statistically tied, once."""
    pairs, names = [], {r["slug"]: r["name"] for r in rows}
    for row in rows:
        for other in row["nps_tied_with"]:
            if other in names and row["slug"] < other:
                pairs.append((row["name"], names[other]))
    return pairs


def _must_have_lines(must_haves, service_labels):
    lines = []
    for key, wanted in must_haves.items():
        if key not in priorities.MUST_HAVES or wanted in (None, False, "", []):
            continue
        label = priorities.MUST_HAVES[key][0]
        if key == "services":
            lines.append(f"{label}: " + ", ".join(service_labels.get(a, a) for a in wanted))
        elif wanted is True:
            lines.append(label)
        else:
            lines.append(f"{label} {wanted}")
    return lines


def weights_caption(*, custom, name, version):
    """The weights a report used, as every caption and heading names them."""
    return "the client's weights" if custom else f"the weights of {name} v{version}"


def _add_charts(context, rows, bands, service_labels, draw=chart_image):
    """The SVG charts of scorecards/charts.py, drawn once each, as images (``draw``)."""
    # On paper a point has no tooltip: each is labelled with its rank, named in the caption.
    context["grid_chart"] = draw(charts.score_grid(
        [{"label": str(r["mine"]["rank"]), "x": r["facts"]["active_practices"],
          "y": r["mine"]["total"] if r["mine"]["ranked"] else None, "name": r["name"],
          "excluded": "must_haves" if r["mine"]["failed"] else "unranked"} for r in rows],
        title=f"Total score with {context['weights_used']} against footprint",
    ))  # fmt: skip
    context["nps_chart"] = draw(charts.dot_plot(
        [{"label": r["name"], "value": r["nps"]["nps"], "ci_low": r["nps"]["ci_low"],
          "ci_high": r["nps"]["ci_high"], "n": r["nps"]["n"]} for r in rows],
        low=-100, high=100, title="Patient NPS, 12 months, with 95% intervals",
    ))  # fmt: skip
    for r in rows:
        average = r["criteria"].get("practice_consistency", {}).get("evidence", {})
        healthcare = average.get("healthcare_average")
        r["years_chart"] = draw(charts.nps_by_year_chart(
            r["nps_by_year"], bands=bands,
            benchmark=("Healthcare average", healthcare) if healthcare is not None else None,
            title=f"Patient NPS of {r['name']} by year"))  # fmt: skip
        nps = r["nps"]
        r["ppd_chart"] = draw(charts.ppd_bar(
            nps["promoters"], nps["passives"], nps["detractors"],
            title=f"Promoters, passives and detractors: {r['name']}"))
        # The ledger in two charts side by side, on one scale: half the height of one.
        areas = [{**a, "label": service_labels.get(a["area"], a["area"])} for a in r["ledger"]]
        most = max(map(charts.ledger_total, areas), default=0)
        half = (len(areas) + 1) // 2
        parts = [part for part in (areas[:half], areas[half:]) if part]
        r["ledger_charts"] = [draw(charts.ledger_bars(
            part, title=f"Promises kept by {r['name']}, per service area ({k} of {len(parts)})",
            scale_total=most, words_always=False)) for k, part in enumerate(parts, 1)]
