import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from partners.jobs import job_followed, job_for_user
from partners.models import MSO, AccreditationBody, Job, ServiceArea
from partners.roles import CONSULTANT, DATA_ADMIN, SURGEON, user_has_role
from partners.selectors import months_before

from . import charts, documents, priorities, selectors, services
from . import directory as directory_rules
from . import profile as profile_rules
from .comparison import best_in_row
from .forms import DirectoryForm, PrioritiesForm
from .models import CRITERION_CHOICES, CRITERION_DEFINITIONS, ShortlistEntry, SurgeonPriorities
from .shortlist import (
    CHECKLIST,
    CHECKLIST_KEYS,
    checklist_answer_save,
    checklist_known,
    shortlist_add,
    shortlist_for_user,
    shortlist_note_save,
    shortlist_remove,
)


def _criteria_columns(snapshot):
    weights = snapshot.methodology.weights()
    labels = dict(CRITERION_CHOICES)
    return [
        {"key": key, "label": labels[key], "weight": weight,
         "definition": CRITERION_DEFINITIONS[key]}
        for key, weight in weights.items()
    ]  # fmt: skip


def scorecard(request):
    snapshot = selectors.latest_snapshot()
    context = {
        "snapshot": snapshot,
        "can_recompute": user_has_role(request.user, DATA_ADMIN),
        "job": services.latest_compute_job(),
    }
    if snapshot:
        document = selectors.snapshot_document(snapshot)
        context.update(msos=document["msos"], criteria=_criteria_columns(snapshot))
    return render(request, "scorecards/scorecard.html", context)


@require_POST
def recompute(request):
    if not user_has_role(request.user, DATA_ADMIN):
        raise PermissionDenied
    job = services.scorecards_recompute_now(user=request.user)
    job.refresh_from_db()  # a broker that refused the message has failed it
    if request.htmx:
        return render(request, "scorecards/scorecard.html#job", {"job": job})
    return redirect("scorecard")


@require_GET
def compute_job(request, pk):
    job = job_for_user(get_object_or_404(Job, pk=pk, kind=services.COMPUTE_KIND), request.user)
    job_followed(job)
    return render(request, "scorecards/scorecard.html#job", {"job": job})


@login_not_required
@require_GET
def api_latest(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to read the scorecards."}, status=401)
    snapshot = selectors.latest_snapshot()
    if snapshot is None:
        return JsonResponse({"error": "No snapshot has been computed yet."}, status=404)
    return JsonResponse(selectors.snapshot_document(snapshot))


# --- The MSO directory and profiles ---


def _require_reader(user):
    """Surgeons, consultants and data admins read the scorecards; other accounts may not."""
    if not any(user_has_role(user, role) for role in (SURGEON, CONSULTANT, DATA_ADMIN)):
        raise PermissionDenied


DIRECTORY_PAGE_SIZE = 25


@functools.lru_cache(maxsize=32)
def _score_grid(points):
    """The directory's chart of (name, active practices, total, link) points; the same points
    (one snapshot, one set of priorities and filters) give the same SVG, drawn once."""
    return charts.score_grid([dict(zip(("name", "x", "y", "href", "excluded"), p, strict=True),
                                   label=charts.short_name(p[0])) for p in points],
                             title="Total score against footprint")  # fmt: skip


def _profile_urls():
    """slug -> the MSO's profile URL, reversed once (reversing 300 costs a page ~10 ms)."""
    prefix = reverse("mso_profile", args=["slug"]).removesuffix("slug/")
    return lambda slug: f"{prefix}{slug}/"


def _directory_context(request, query, priorities_form=None):
    """The directory of the latest snapshot under the filters in ``query`` (a QueryDict), with
    the surgeon's saved priorities or the methodology's; ``priorities_form`` is the form just
    posted, shown with its errors."""
    snapshot = selectors.latest_snapshot()
    form = DirectoryForm(query or None)
    filters = form.filters() if query else {}
    rows, unknown, personal, saved, ranked_count = [], {}, False, False, 0
    if snapshot:
        rows = selectors.directory_rows(snapshot=snapshot)
        weights, must_haves, saved = _priorities(request.user, snapshot)
        columns = _criteria_columns(snapshot)
        if priorities_form is None:
            priorities_form = PrioritiesForm(
                criteria=_form_criteria(columns),
                initial=PrioritiesForm.initial_from(weights=weights, must_haves=must_haves))
        methodology = snapshot.methodology.weights()
        personal = weights != methodology or bool(must_haves)
        # Totals and ranks with the surgeon's own priorities, as on the compare page.
        # The directory shows no rank stability: none is computed.
        for row in priorities.rescore(rows, weights, must_haves, dict(ServiceArea.choices),
                                      published=methodology, stability_of=()):  # fmt: skip
            mine = row["mine"]
            row.update(total=mine["total"] if mine["ranked"] else None, rank=mine["rank"],
                       ranked=mine["ranked"], coverage=mine["coverage"],
                       failed=mine["failed"])  # fmt: skip
            ranked_count += mine["ranked"]
        rows, unknown = directory_rules.filter_and_sort(rows, filters)
    page = Paginator(rows, DIRECTORY_PAGE_SIZE).get_page(query.get("page"))
    labels = dict(form.fields)
    profile_url = _profile_urls()
    grid = _score_grid(tuple(
        (r["name"], r["facts"]["active_practices"], r["total"], profile_url(r["slug"]),
         "must_haves" if r["failed"] else "unranked" if r["total"] is None else "")
        for r in rows)) if rows and page.number == 1 else ""  # fmt: skip
    return {
        "snapshot": snapshot, "form": form, "page": page, "filtered": bool(
            {k for k in filters if k != "sort"}),
        "left_out": [(labels[k].label, n) for k, n in unknown.items()],
        "criteria_labels": dict(CRITERION_CHOICES),
        "can_shortlist": user_has_role(request.user, SURGEON), "grid": grid,
        "personal": personal, "priorities_form": priorities_form, "saved": saved,
        "ranked_count": ranked_count, "priorities_open": False,
        "bands": sorted(selectors.benchmarks(snapshot.data_as_of)[1], key=lambda b: b[1])
        if snapshot else [],
        "shortlisted": _shortlisted(request.user),
    }  # fmt: skip


@require_GET
def directory(request):
    """Every MSO of the latest snapshot, filtered and sorted as the URL says; htmx swaps the
    results only, the URL keeps the filters."""
    _require_reader(request.user)
    context = _directory_context(request, request.GET)
    template = "msos/directory.html#results" if request.htmx else "msos/directory.html"
    return render(request, template, context)


@require_POST
def directory_priorities_save(request):
    """Save the surgeon's weights and must-haves from the directory; htmx gets the ranking
    under them back at once, with the filters it sent along."""
    _require_reader(request.user)
    snapshot = selectors.latest_snapshot()
    if snapshot is None:
        raise Http404("No scorecard has been computed yet.")
    form = _priorities_post(request, snapshot)
    if request.htmx:
        context = _directory_context(request, request.POST, form)
        return render(request, "msos/directory.html#body", {**context, "priorities_open": True})
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("directory")
    return redirect(next_url)


@require_GET
def mso_profile(request, slug):
    """One MSO: its facts as written, and every figure of the latest snapshot with its n and
    the evidence behind it."""
    _require_reader(request.user)
    mso = selectors.mso_for_profile(slug=slug)
    if mso is None:
        raise Http404("No published MSO has this address.")
    snapshot = selectors.latest_snapshot()
    card = selectors.scorecard_of(snapshot=snapshot, mso=mso) if snapshot else None
    document = card.document if card else None
    context = {"mso": mso, "snapshot": snapshot, "card": document,
               "criteria": _criteria_columns(snapshot) if snapshot else [],
               "service_labels": dict(ServiceArea.choices),
               "body_labels": dict(AccreditationBody.choices),
               "tied_with": [], "can_shortlist": user_has_role(request.user, SURGEON),
               "shortlisted": _shortlisted(request.user)}  # fmt: skip
    if document:
        context["mine"] = _surgeons_own(request.user, snapshot, mso.slug)
        names = selectors.names_of(slugs=document["nps_tied_with"])
        context["tied_with"] = [(slug, names.get(slug, slug)) for slug in document["nps_tied_with"]]
        context.update(_profile_charts(mso, snapshot, document))
    return render(request, "msos/profile.html", context)


def _standings(user, snapshot):
    """({slug: row}, own?): every MSO's row with its total and rank under the user's priorities
    in ``row["mine"]``, as the directory and compare show them (the same rescoring of the same
    rows); ``own`` is False when they are the methodology's."""
    weights, must_haves, _saved = _priorities(user, snapshot)
    methodology = snapshot.methodology.weights()
    rows = priorities.rescore(selectors.directory_rows(snapshot=snapshot), weights, must_haves,
                              dict(ServiceArea.choices), published=methodology,
                              stability_of=())  # fmt: skip
    return {row["slug"]: row for row in rows}, weights != methodology or bool(must_haves)


def _surgeons_own(user, snapshot, slug):
    """The MSO's total and rank under the user's saved priorities, or None without priorities
    of their own."""
    rows, own = _standings(user, snapshot)
    return rows[slug]["mine"] if own and slug in rows else None


def _shortlisted(user):
    """{slug: shortlist entry id} of a surgeon's shortlist (empty for anybody else)."""
    if not user_has_role(user, SURGEON):
        return {}
    return dict(ShortlistEntry.objects.filter(user=user).values_list("mso__slug", "pk"))


def _published_card(request, slug):
    """(mso, snapshot, document) of a published MSO in the latest snapshot, or 404."""
    _require_reader(request.user)
    mso = selectors.mso_for_profile(slug=slug)
    snapshot = selectors.latest_snapshot()
    card = selectors.scorecard_of(snapshot=snapshot, mso=mso) if snapshot and mso else None
    if card is None:
        raise Http404("No published MSO with a scorecard has this address.")
    return mso, snapshot, card.document


@require_GET
def mso_year(request, slug, year):
    """One year of an MSO's NPS series and the practices behind it, each with its own NPS and
    n, from the same responses as the snapshot (none after its data-as-of)."""
    mso, snapshot, document = _published_card(request, slug)
    years = [y["year"] for y in document["nps_by_year"]]
    if year not in years:
        raise Http404("The NPS series of this MSO has no such year.")
    _, last_month = months_before(snapshot.data_as_of)
    _, bands = selectors.benchmarks(snapshot.data_as_of)
    practices = [{"code": code, "name": name, **documents.nps_document(counts, bands)}
                 for _, code, name, counts in selectors.practices_in_year(
                     mso=mso, year=year, through=last_month)]  # fmt: skip
    position = years.index(year)
    return render(request, "msos/year.html", {
        "mso": mso, "snapshot": snapshot, "year": year, "practices": practices,
        "figure": document["nps_by_year"][position], "through": last_month,
        "partial": year == last_month.year and last_month.month < 12,
        "previous": years[position - 1] if position else None,
        "next": years[position + 1] if position + 1 < len(years) else None,
    })  # fmt: skip


@require_GET
def mso_interviews(request, slug):
    """The reference interviews behind an MSO's trust, autonomy, would-choose-again and
    promise figures, one by one under the quoting rules (see ``profile``)."""
    mso, snapshot, document = _published_card(request, slug)
    listed, withheld = profile_rules.listable_interviews(
        selectors.interviews_of(mso=mso, as_of=snapshot.data_as_of))
    return render(request, "msos/interviews.html", {
        "mso": mso, "snapshot": snapshot, "card": document, "interviews": listed,
        "withheld": withheld, "minimum_anonymous": profile_rules.MIN_INTERVIEWS_FOR_ANONYMOUS,
    })  # fmt: skip


def _profile_charts(mso, snapshot, document):
    average = document["criteria"].get("practice_consistency", {}).get("evidence", {})
    healthcare = average.get("healthcare_average")
    _, bands = selectors.benchmarks(snapshot.data_as_of)
    nps = document["nps"]
    labels = dict(ServiceArea.choices)
    return {
        "years_chart": charts.nps_by_year_chart(
            document["nps_by_year"], bands=bands,
            benchmark=("Healthcare average", healthcare) if healthcare is not None else None,
            href_for_year=lambda year: reverse("mso_year", args=[mso.slug, year]),
            title=f"Patient NPS of {mso.name} by year"),
        "ppd_chart": charts.ppd_bar(nps["promoters"], nps["passives"], nps["detractors"],
                                    title="Promoters, passives and detractors, 12 months"),
        "ledger_chart": charts.ledger_bars(
            [{**a, "label": labels.get(a["area"], a["area"])} for a in document["ledger"]],
            title=f"Promises kept by {mso.name}, per service area") if document["ledger"] else "",
    }  # fmt: skip


# --- Compare, with the surgeon's own priorities ---

COMPARE_MIN, COMPARE_MAX = 2, 5


def _priorities(user, snapshot):
    """(weights, must-haves, saved?) of the user: their own, or the methodology's."""
    mine = SurgeonPriorities.objects.filter(user=user).first()
    methodology = snapshot.methodology.weights()
    if mine is None or not mine.weights:
        return methodology, (mine.must_haves if mine else {}), False
    weights = {k: mine.weights.get(k, 0) for k in methodology}
    return weights, mine.must_haves, True


def _compare_slugs(values):
    slugs = list(dict.fromkeys(v for v in values if v))
    return slugs[:COMPARE_MAX], len(slugs) > COMPARE_MAX


def _form_criteria(columns):
    """The (key, label, methodology weight) triples PrioritiesForm takes."""
    return [(c["key"], c["label"], c["weight"]) for c in columns]


def _compare_context(request, snapshot, slugs, form=None):
    columns = _criteria_columns(snapshot)
    weights, must_haves, saved = _priorities(request.user, snapshot)
    if form is not None and form.is_valid():
        weights, must_haves = form.weights(), form.must_haves()
    if form is None:
        form = PrioritiesForm(criteria=_form_criteria(columns),
                              initial=PrioritiesForm.initial_from(weights=weights,
                                                                  must_haves=must_haves))
    service_labels = dict(ServiceArea.choices)
    everyone = priorities.rescore(selectors.directory_rows(snapshot=snapshot), weights,
                                  must_haves, service_labels,
                                  published=snapshot.methodology.weights(),
                                  stability_of=set(slugs))  # fmt: skip
    by_slug = {row["slug"]: row for row in everyone}
    msos = [by_slug[slug] for slug in slugs if slug in by_slug]
    names = {row["slug"]: row["name"] for row in msos}
    rows = []
    for column in columns:
        cells = [row["criteria"][column["key"]] for row in msos]
        best, tied = best_in_row([(c["score"], c["ci_low"], c["ci_high"])
                                  if c["status"] == "ok" else None for c in cells])
        pairs = enumerate(zip(cells, msos, strict=True))
        rows.append({**column, "weight": weights.get(column["key"], 0),
                     "cells": [{**c, "mso": m["name"], "best": i == best, "tied": i in tied}
                               for i, (c, m) in pairs]})  # fmt: skip
    best, tied = best_in_row([(m["nps"]["nps"], m["nps"]["ci_low"], m["nps"]["ci_high"])
                              if m["nps"]["status"] == "ok" else None for m in msos])
    for i, m in enumerate(msos):
        m["tied_here"] = [names[s] for s in m["nps_tied_with"] if s in names]
        m["nps_best"], m["nps_tied_best"] = i == best, i in tied
    best_rank = min((m["mine"]["rank"] for m in msos if m["mine"]["rank"] is not None),
                    default=None)  # fmt: skip
    totals_chart = charts.dot_plot([
        {"label": m["name"], "value": m["mine"]["total"], "ci_low": None, "ci_high": None,
         "n": None, "href": reverse("mso_profile", args=[m["slug"]]),
         "best": best_rank is not None and m["mine"]["rank"] == best_rank}
        for m in msos
    ], title="Total score with your priorities") if msos else ""  # fmt: skip
    can_report = user_has_role(request.user, CONSULTANT) or user_has_role(request.user, DATA_ADMIN)
    return {"snapshot": snapshot, "msos": msos, "rows": rows, "form": form, "saved": saved,
            "can_report": can_report,
            "slugs": slugs, "ranked_count": sum(1 for r in everyone if r["mine"]["ranked"]),
            "totals_chart": totals_chart}  # fmt: skip


@require_GET
def compare(request):
    """2 to 5 MSOs side by side: criteria as rows, MSOs as columns, with the surgeon's own
    weights and must-haves (or the methodology's)."""
    _require_reader(request.user)
    snapshot = selectors.latest_snapshot()
    slugs, too_many = _compare_slugs(request.GET.getlist("m"))
    context = {"snapshot": snapshot, "slugs": slugs, "too_many": too_many,
               "compare_max": COMPARE_MAX}  # fmt: skip
    if snapshot and len(slugs) >= COMPARE_MIN:
        context.update(_compare_context(request, snapshot, slugs))
        # Folded once saved: the results come first; open for a surgeon who has none yet.
        context["priorities_open"] = not context["saved"]
    return render(request, "msos/compare.html", context)


def _priorities_post(request, snapshot):
    """Save the priorities the surgeon posted, or forget them on "reset"; returns the bound
    form (None after a reset: the methodology's weights apply again)."""
    if "reset" in request.POST:
        SurgeonPriorities.objects.filter(user=request.user).delete()
        return None
    form = PrioritiesForm(request.POST, criteria=_form_criteria(_criteria_columns(snapshot)))
    if form.is_valid():
        SurgeonPriorities.objects.update_or_create(
            user=request.user,
            defaults={"weights": form.weights(), "must_haves": form.must_haves()})
    return form


@require_POST
def priorities_save(request):
    """Save the surgeon's weights and must-haves; htmx gets the compare table back at once."""
    _require_reader(request.user)
    snapshot = selectors.latest_snapshot()
    if snapshot is None:
        raise Http404("No scorecard has been computed yet.")
    slugs, _ = _compare_slugs(request.POST.getlist("m"))
    form = _priorities_post(request, snapshot)
    if request.htmx:
        context = {"compare_max": COMPARE_MAX, **_compare_context(request, snapshot, slugs, form),
                   "priorities_open": True}  # the surgeon is changing them: keep them open
        return render(request, "msos/compare.html#workspace", context)
    return redirect(reverse("compare") + "?" + "&".join(f"m={s}" for s in slugs))


# --- Shortlist and checklist ---
def _require_surgeon(request):
    if not user_has_role(request.user, SURGEON):
        raise PermissionDenied


def _entry_for_user(request, pk):
    """The current surgeon's own entry: anybody else's answers 404, as if it did not exist."""
    _require_surgeon(request)
    return get_object_or_404(ShortlistEntry.objects.select_related("mso"), pk=pk, user=request.user)


def _back_to_entry(entry, anchor=None):
    return redirect(f"{reverse('shortlist')}#{anchor or f'entry-{entry.pk}'}")


def _shortlist_context(request, **extra):
    entries = list(shortlist_for_user(user=request.user))
    snapshot = selectors.latest_snapshot()
    if snapshot is not None:
        rows, own = _standings(request.user, snapshot)
        for entry in entries:
            entry.standing = rows.get(entry.mso.slug)
            entry.known = checklist_known(entry.standing)
        extra.setdefault("own_priorities", own)
    slugs = [entry.mso.slug for entry in entries]
    extra.setdefault("compare_query", "&".join(f"m={s}" for s in slugs[:COMPARE_MAX]))
    extra.setdefault("can_report", user_has_role(request.user, CONSULTANT))
    addable = (
        MSO.objects.filter(published=True)
        .exclude(pk__in=[entry.mso_id for entry in entries])
        .only("name", "slug")
    )
    return {"entries": entries, "addable": addable, "checklist_total": len(CHECKLIST), **extra}


@require_GET
def shortlist_page(request):
    _require_surgeon(request)
    return render(request, "scorecards/shortlist.html", _shortlist_context(request))


@require_POST
def shortlist_entry_add(request):
    _require_surgeon(request)
    mso = get_object_or_404(MSO, slug=request.POST.get("mso", ""), published=True)
    _, created = shortlist_add(user=request.user, mso=mso)
    if created:
        messages.success(request, f"Added {mso.name} to your shortlist.")
    else:
        messages.info(request, f"{mso.name} is already on your shortlist.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("shortlist")


@require_POST
def shortlist_entry_remove(request, pk):
    entry = _entry_for_user(request, pk)
    shortlist_remove(user=request.user, mso=entry.mso)
    if request.htmx:
        context = _shortlist_context(request, removed=entry.mso.name)
        return render(request, "scorecards/shortlist.html#shortlist", context)
    messages.success(request, f"Removed {entry.mso.name} from your shortlist.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("shortlist")


@require_POST
def shortlist_entry_note(request, pk):
    entry = _entry_for_user(request, pk)
    shortlist_note_save(entry=entry, note=request.POST.get("note", ""))
    if request.htmx:
        return render(request, "scorecards/shortlist.html#note", {"entry": entry, "saved": True})
    messages.success(request, f"Note on {entry.mso.name} saved.")
    return _back_to_entry(entry)


@require_POST
def shortlist_entry_checklist(request, pk, item):
    entry = _entry_for_user(request, pk)
    if item not in CHECKLIST_KEYS:
        raise Http404("Unknown checklist item.")
    try:
        answer = checklist_answer_save(
            entry=entry,
            item=item,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        return HttpResponseBadRequest(exc.messages[0])
    if request.htmx:
        snapshot = selectors.latest_snapshot()
        if snapshot is not None:  # the item keeps what the scorecard knows
            entry.known = checklist_known(_standings(request.user, snapshot)[0].get(
                entry.mso.slug))  # fmt: skip
        context = {
            "entry": entry,
            "item": CHECKLIST[CHECKLIST_KEYS.index(item)],
            "answer": answer,
            "saved": True,
            "checklist_total": len(CHECKLIST),
        }
        return render(request, "scorecards/shortlist.html#checklist_saved", context)
    messages.success(request, f"Checklist answer on {entry.mso.name} saved.")
    return _back_to_entry(entry, f"check-{entry.pk}-{item}")
