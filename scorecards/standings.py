"""The surgeon's view of a snapshot: every MSO's total and rank under the surgeon's own
priorities (or the methodology's), for the directory, compare, the profile and the shortlist
alike, so that one MSO shows one total wherever the surgeon meets it.

Each function reads the snapshot's rows once (``selectors.directory_rows``) and rescores them
with ``priorities.rescore``, the published scoring itself. A snapshot never changes, so what
they compute is kept (``cache.snapshot_cached``) for the snapshot and the priorities (and the
filters or MSOs asked for): surgeons with the same priorities share it. Who the user is and
what they shortlisted are read on every request, never kept.
"""

from dataclasses import dataclass, field

from partners.models import ServiceArea
from partners.roles import SURGEON, user_has_role

from . import priorities, selectors
from .cache import snapshot_cached
from .comparison import best_in_row
from .directory import filter_and_sort
from .models import ShortlistEntry, SurgeonPriorities


def surgeon_priorities(*, user, snapshot):
    """(weights, must-haves, saved?) of the user: their own, or the methodology's."""
    mine = SurgeonPriorities.objects.filter(user=user).first()
    methodology = snapshot.methodology.weights()
    if mine is None or not mine.weights:
        return methodology, (mine.must_haves if mine else {}), False
    weights = {k: mine.weights.get(k, 0) for k in methodology}
    return weights, mine.must_haves, True


def surgeon_priorities_save(*, user, weights, must_haves):
    SurgeonPriorities.objects.update_or_create(
        user=user, defaults={"weights": weights, "must_haves": must_haves})


def surgeon_priorities_forget(*, user):
    """Back to the methodology's weights."""
    SurgeonPriorities.objects.filter(user=user).delete()


def _personal(snapshot, weights, must_haves):
    """Whether these priorities are the surgeon's own rather than the methodology's."""
    return weights != snapshot.methodology.weights() or bool(must_haves)


def standings(*, snapshot, weights, must_haves, stability_of=()):
    """Every MSO's row of the snapshot, with its total and rank under these priorities in
    ``row["mine"]`` (rank stability only for the slugs in ``stability_of``)."""
    return priorities.rescore(selectors.directory_rows(snapshot=snapshot), weights, must_haves,
                              dict(ServiceArea.choices),
                              published=snapshot.methodology.weights(),
                              stability_of=stability_of)  # fmt: skip


def standings_for(*, user, snapshot):
    """({slug: row}, own?): the user's standings; ``own`` is False with the methodology's."""
    weights, must_haves, _saved = surgeon_priorities(user=user, snapshot=snapshot)
    rows = standings(snapshot=snapshot, weights=weights, must_haves=must_haves)
    own = _personal(snapshot, weights, must_haves)
    return {row["slug"]: row for row in rows}, own


def priorities_key(weights, must_haves):
    """What a cached computation under these priorities is keyed by (JSON-like)."""
    return {"weights": weights, "must_haves": must_haves}


def own_standing(*, user, snapshot, slug):
    """One MSO's total and rank under the user's own priorities, or None without any."""
    weights, must_haves, _saved = surgeon_priorities(user=user, snapshot=snapshot)
    if not _personal(snapshot, weights, must_haves):
        return None
    mine = snapshot_cached(snapshot, "mine", lambda: {
        row["slug"]: row["mine"]
        for row in standings(snapshot=snapshot, weights=weights, must_haves=must_haves)
    }, inputs=priorities_key(weights, must_haves))  # fmt: skip
    return mine.get(slug)


def shortlisted(*, user):
    """{slug: shortlist entry id} of a surgeon's shortlist (empty for anybody else)."""
    if not user_has_role(user, SURGEON):
        return {}
    return dict(ShortlistEntry.objects.filter(user=user).values_list("mso__slug", "pk"))


@dataclass
class DirectoryResults:
    rows: list = field(default_factory=list)  # filtered and sorted, with the user's totals
    left_out: dict = field(default_factory=dict)  # filter -> rows without the figure it needs
    weights: dict = field(default_factory=dict)
    must_haves: dict = field(default_factory=dict)
    saved: bool = False  # the user has priorities of their own
    personal: bool = False  # they differ from the methodology's
    ranked_count: int = 0


def directory_results(*, user, snapshot, filters):
    """The directory: every MSO of the snapshot with its total and rank under the user's
    priorities (no rank stability: the directory shows none), filtered and sorted."""
    weights, must_haves, saved = surgeon_priorities(user=user, snapshot=snapshot)
    results = DirectoryResults(weights=weights, must_haves=must_haves, saved=saved,
                               personal=_personal(snapshot, weights, must_haves))
    results.rows, results.left_out, results.ranked_count = snapshot_cached(
        snapshot, "directory", lambda: _directory_rows(snapshot, weights, must_haves, filters),
        inputs={**priorities_key(weights, must_haves), "filters": filters})
    return results


def _directory_rows(snapshot, weights, must_haves, filters):
    """(rows filtered and sorted, {filter: rows left out}, ranked count) of the directory."""
    rows = standings(snapshot=snapshot, weights=weights, must_haves=must_haves)
    ranked_count = 0
    for row in rows:
        mine = row["mine"]
        row.update(total=mine["total"] if mine["ranked"] else None, rank=mine["rank"],
                   ranked=mine["ranked"], coverage=mine["coverage"],
                   failed=mine["failed"])  # fmt: skip
        ranked_count += mine["ranked"]
    return (*filter_and_sort(rows, filters), ranked_count)


def compare_results(*, snapshot, slugs, columns, weights, must_haves):
    """(MSOs, criteria rows, ranked count) of 2 to 5 MSOs side by side under these
    priorities: each row's best marked only where its interval lies above the next one's
    (``comparison.best_in_row``), the leaders "tied" where they overlap."""
    everyone = standings(snapshot=snapshot, weights=weights, must_haves=must_haves,
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
    return msos, rows, sum(1 for r in everyone if r["mine"]["ranked"])
