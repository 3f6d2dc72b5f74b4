from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partners.jobs import job_followed, job_for_user
from partners.models import MSO, AccreditationBody, Job, ServiceArea
from partners.roles import CONSULTANT, DATA_ADMIN, SURGEON, user_has_role
from partners.selectors import months_before

from . import charts, documents, selectors, services, standings
from . import profile as profile_rules
from .cache import snapshot_cached
from .forms import DirectoryForm, PrioritiesForm
from .models import CRITERION_CHOICES, CRITERION_DEFINITIONS, CRITERION_MEANINGS, ShortlistEntry
from .reports.services import can_make_reports
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
         "definition": CRITERION_DEFINITIONS[key], "meaning": CRITERION_MEANINGS[key]}
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
    job = services.scorecards_recompute_asked(user=request.user)
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


def _score_grid(rows):
    """The directory's chart of its rows: total score against active practices, each point
    linking to the MSO's profile."""
    profile_url = _profile_urls()
    return charts.score_grid([
        {"name": r["name"], "label": charts.short_name(r["name"]),
         "x": r["facts"]["active_practices"], "y": r["total"], "href": profile_url(r["slug"]),
         "excluded": "must_haves" if r["failed"] else "unranked" if r["total"] is None else ""}
        for r in rows], title="Total score against footprint")  # fmt: skip


def _profile_urls():
    """slug -> the MSO's profile URL, reversed once (reversing 300 costs a page ~10 ms)."""
    prefix = reverse("mso_profile", args=["slug"]).removesuffix("slug/")
    return lambda slug: f"{prefix}{slug}/"


def _directory_context(request, query, priorities_form=None, priorities_open=False):
    """The directory of the latest snapshot under the filters in ``query`` (a QueryDict), with
    the surgeon's saved priorities or the methodology's; ``priorities_form`` is the form just
    posted, shown with its errors."""
    snapshot = selectors.latest_snapshot()
    # The forms the page shows are built only if their part is rendered (not kept already).
    form = DirectoryForm(query) if query else SimpleLazyObject(DirectoryForm)
    filters = form.filters() if query else {}
    results = standings.DirectoryResults()
    posted = priorities_form is not None
    if snapshot:
        results = standings.directory_results(user=request.user, snapshot=snapshot,
                                              filters=filters)  # fmt: skip
        if not posted:
            priorities_form = SimpleLazyObject(lambda: PrioritiesForm(
                criteria=_form_criteria(_criteria_columns(snapshot)),
                initial=PrioritiesForm.initial_from(weights=results.weights,
                                                    must_haves=results.must_haves)))
    rows, unknown = results.rows, results.left_out
    page = Paginator(rows, DIRECTORY_PAGE_SIZE).get_page(query.get("page"))
    labels = DirectoryForm.base_fields
    priorities = standings.priorities_key(results.weights, results.must_haves)
    grid = snapshot_cached(snapshot, "directory_grid", lambda: _score_grid(rows), inputs={
        **priorities, "filters": filters,
    }) if rows and page.number == 1 else ""  # fmt: skip
    can_shortlist = user_has_role(request.user, SURGEON)
    # What each part of the page rendered once per snapshot depends on (templatetags.snapshots):
    # a form posted with errors is rendered afresh.
    fragments = {
        "filters": {"query": {k: query.getlist(k) for k in labels if k in query}},
        "priorities": None if posted or not snapshot else {
            **priorities, "saved": results.saved, "ranked": results.ranked_count,
            "open": priorities_open},
        "rows": {**priorities, "filters": filters, "page": page.number,
                 "can_shortlist": can_shortlist},
    }  # fmt: skip
    return {
        "snapshot": snapshot, "form": form, "page": page, "filtered": bool(
            {k for k in filters if k != "sort"}),
        "left_out": [(labels[k].label, n) for k, n in unknown.items()],
        "criteria_labels": dict(CRITERION_CHOICES),
        "can_shortlist": can_shortlist, "grid": grid, "fragments": fragments,
        "personal": results.personal, "priorities_form": priorities_form,
        "saved": results.saved, "ranked_count": results.ranked_count,
        "priorities_open": priorities_open,
        "bands": snapshot.bands if snapshot else [],
        "shortlisted": standings.shortlisted(user=request.user),
    }  # fmt: skip


@require_GET
def directory(request):
    """Every MSO of the latest snapshot, filtered and sorted as the URL says; htmx swaps the
    results only, the URL keeps the filters."""
    _require_reader(request.user)
    context = _directory_context(request, request.GET)
    template = "msos/directory.html#results" if request.htmx else "msos/directory.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def directory_priorities_save(request):
    """Save the surgeon's weights and must-haves from the directory; htmx gets the ranking
    under them back at once, with the filters it sent along. This address is shown after
    priorities posted with errors without htmx: opened again (GET), it is the directory."""
    _require_reader(request.user)
    if request.method == "GET":
        return redirect("directory")
    snapshot = selectors.latest_snapshot()
    if snapshot is None:
        raise Http404("No scorecard has been computed yet.")
    form = _priorities_post(request, snapshot)
    if request.htmx:
        context = _directory_context(request, request.POST, form, priorities_open=True)
        # A TemplateResponse, so that a form given back with errors is logged.
        return TemplateResponse(request, "msos/directory.html#body", context)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("directory")
    if form is not None and form.errors:
        # Without htmx, the whole page with the form and its errors (never a silent redirect),
        # still going back where it came from once they are corrected.
        return TemplateResponse(request, "msos/directory.html", {**_directory_context(
            request, request.POST, form, priorities_open=True), "next_url": next_url})
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
               "shortlisted": standings.shortlisted(user=request.user)}  # fmt: skip
    if document:
        context["mine"] = standings.own_standing(user=request.user, snapshot=snapshot,
                                                 slug=mso.slug)  # fmt: skip
        names = selectors.names_of(slugs=document["nps_tied_with"])
        context["tied_with"] = [(slug, names.get(slug, slug)) for slug in document["nps_tied_with"]]
        context.update(snapshot_cached(snapshot, "profile_charts",
                                       lambda: _profile_charts(mso, snapshot, document),
                                       inputs=mso.slug))  # fmt: skip
    # The body below the surgeon's own total and shortlist button is rendered once per
    # snapshot and the MSO's facts as written (which may change before the next snapshot).
    context["profile_inputs"] = {
        "facts": {f.attname: getattr(mso, f.attname) for f in mso._meta.concrete_fields},
        "services": [(s.area, s.detail) for s in mso.services.all()],
        "tied_with": context["tied_with"], "card": bool(document),
    } if snapshot else None  # fmt: skip
    return render(request, "msos/profile.html", context)


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
    bands = snapshot.bands
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
    bands = snapshot.bands
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


def _compare_slugs(values):
    slugs = list(dict.fromkeys(v for v in values if v))
    return slugs[:COMPARE_MAX], len(slugs) > COMPARE_MAX


def _form_criteria(columns):
    """The (key, label, methodology weight) triples PrioritiesForm takes."""
    return [(c["key"], c["label"], c["weight"]) for c in columns]


def _compare_context(request, snapshot, slugs, form=None):
    columns = _criteria_columns(snapshot)
    weights, must_haves, saved = standings.surgeon_priorities(user=request.user,
                                                              snapshot=snapshot)  # fmt: skip
    if form is not None and form.is_valid():
        weights, must_haves = form.weights(), form.must_haves()
    if form is None:
        form = PrioritiesForm(criteria=_form_criteria(columns),
                              initial=PrioritiesForm.initial_from(weights=weights,
                                                                  must_haves=must_haves))
    inputs = {**standings.priorities_key(weights, must_haves), "slugs": slugs}
    compared = snapshot_cached(snapshot, "compare", lambda: _compared(
        snapshot, slugs, columns, weights, must_haves), inputs=inputs)  # fmt: skip
    # The table is rendered once per snapshot, priorities and MSOs (templatetags.snapshots).
    return {"snapshot": snapshot, "form": form, "saved": saved, "compare_inputs": inputs,
            "can_report": can_make_reports(request.user), "slugs": slugs, **compared}


def _compared(snapshot, slugs, columns, weights, must_haves):
    """The MSOs, criteria rows, ranked count and totals chart of a comparison under these
    priorities (a snapshot and priorities give one, whoever asks)."""
    msos, rows, ranked_count = standings.compare_results(
        snapshot=snapshot, slugs=slugs, columns=columns, weights=weights, must_haves=must_haves)
    best_rank = min((m["mine"]["rank"] for m in msos if m["mine"]["rank"] is not None),
                    default=None)  # fmt: skip
    totals_chart = charts.dot_plot([
        {"label": m["name"], "value": m["mine"]["total"], "ci_low": None, "ci_high": None,
         "n": None, "href": reverse("mso_profile", args=[m["slug"]]),
         "best": best_rank is not None and m["mine"]["rank"] == best_rank}
        for m in msos
    ], title="Total score with your priorities") if msos else ""  # fmt: skip
    return {"msos": msos, "rows": rows, "ranked_count": ranked_count,
            "totals_chart": totals_chart}


@require_GET
def compare(request):
    """2 to 5 MSOs side by side: criteria as rows, MSOs as columns, with the surgeon's own
    weights and must-haves (or the methodology's)."""
    _require_reader(request.user)
    snapshot = selectors.latest_snapshot()
    slugs, too_many = _compare_slugs(request.GET.getlist("m"))
    if snapshot and len(slugs) >= COMPARE_MIN:
        context = _compare_page(request, snapshot, slugs, too_many=too_many)
    else:
        context = {"snapshot": snapshot, "slugs": slugs, "too_many": too_many,
                   "compare_max": COMPARE_MAX}  # fmt: skip
    return render(request, "msos/compare.html", context)


def _compare_page(request, snapshot, slugs, *, form=None, too_many=False, priorities_open=None):
    """The compare page's context with its comparison (``_compare_context``). The priorities
    are open as asked, else folded once saved: the results come first; open for a surgeon
    who has none yet."""
    context = {"too_many": too_many, "compare_max": COMPARE_MAX,
               **_compare_context(request, snapshot, slugs, form)}  # fmt: skip
    context["priorities_open"] = not context["saved"] if priorities_open is None else (
        priorities_open)
    return context


def _priorities_post(request, snapshot):
    """Save the priorities the surgeon posted, or forget them on "reset"; returns the bound
    form (None after a reset: the methodology's weights apply again)."""
    if "reset" in request.POST:
        standings.surgeon_priorities_forget(user=request.user)
        return None
    form = PrioritiesForm(request.POST, criteria=_form_criteria(_criteria_columns(snapshot)))
    if form.is_valid():
        standings.surgeon_priorities_save(user=request.user, weights=form.weights(),
                                          must_haves=form.must_haves())  # fmt: skip
    return form


@require_http_methods(["GET", "POST"])
def priorities_save(request):
    """Save the surgeon's weights and must-haves; htmx gets the compare table back at once.
    Opened again (GET) after priorities posted with errors without htmx, it is compare."""
    _require_reader(request.user)
    if request.method == "GET":
        return redirect(reverse("compare") + "?" + request.GET.urlencode())
    snapshot = selectors.latest_snapshot()
    if snapshot is None:
        raise Http404("No scorecard has been computed yet.")
    slugs, _ = _compare_slugs(request.POST.getlist("m"))
    form = _priorities_post(request, snapshot)
    # The surgeon is changing them: keep them open.
    if request.htmx:
        return TemplateResponse(request, "msos/compare.html#workspace", _compare_page(
            request, snapshot, slugs, form=form, priorities_open=True))  # fmt: skip
    if form is not None and form.errors and len(slugs) >= COMPARE_MIN:
        # Without htmx, the whole page with the form and its errors (never a silent redirect).
        return TemplateResponse(request, "msos/compare.html", _compare_page(
            request, snapshot, slugs, form=form, priorities_open=True))  # fmt: skip
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
        rows, own = standings.standings_for(user=request.user, snapshot=snapshot)
        for entry in entries:
            entry.standing = rows.get(entry.mso.slug)
            entry.known = checklist_known(entry.standing)
        extra.setdefault("own_priorities", own)
    slugs = [entry.mso.slug for entry in entries]
    extra.setdefault("compare_query", "&".join(f"m={s}" for s in slugs[:COMPARE_MAX]))
    extra.setdefault("can_report", can_make_reports(request.user))
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
        if snapshot is not None:  # the item keeps what the scorecard knows: figures, no ranks
            entry.known = checklist_known(next((
                row for row in selectors.directory_rows(snapshot=snapshot)
                if row["slug"] == entry.mso.slug), None))  # fmt: skip
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
