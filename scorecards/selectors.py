"""Read queries for the surgeon's pages: a fixed number of queries whatever the number of MSOs."""

import datetime

from partners.models import MSO, Affiliation, MSOService, PromiseItem, ReferenceInterview
from partners.selectors import msos_practices_nps, practice_names

from .models import MsoScorecard

# The rows of a snapshot, decoded once per process: a snapshot is never changed once written
# (its fingerprint is unique, so an id that a rolled-back test reuses never finds another
# snapshot's rows), and changed evidence, the MSO's facts included, makes a new snapshot.
# Decoding 300 summaries costs a page ~40 ms.
_SNAPSHOT_ROWS = {}
_SNAPSHOT_ROWS_KEPT = 4


def snapshot_rows_forget():
    """Forget the decoded snapshots (tests that count queries start from a cold process)."""
    _SNAPSHOT_ROWS.clear()


def _snapshot_rows(snapshot):
    """[(mso_id, summary)] of the snapshot's scorecards: one query the first time, none after."""
    key = (snapshot.pk, snapshot.fingerprint)
    cards = _SNAPSHOT_ROWS.get(key)
    if cards is None:
        cards = list(
            MsoScorecard.objects.filter(snapshot=snapshot).values_list("mso_id", "summary")
        )
        if any("facts" not in summary for _, summary in cards):
            _facts_of_older_documents(snapshot, cards)
        while len(_SNAPSHOT_ROWS) >= _SNAPSHOT_ROWS_KEPT:
            _SNAPSHOT_ROWS.pop(next(iter(_SNAPSHOT_ROWS)))
        _SNAPSHOT_ROWS[key] = cards
    return cards


def _facts_of_older_documents(snapshot, cards):
    """Snapshots computed before documents held the MSO's facts get today's: 3 queries."""
    ids = [mso_id for mso_id, _ in cards]
    facts = {m.pop("id"): m for m in MSO.objects.filter(pk__in=ids).values(
        "id", "ownership_model", "specialty_focus", "specialties", "founded_year")}  # fmt: skip
    states, services = {}, {}
    for mso_id, state in (
        Affiliation.objects.active_on(snapshot.data_as_of)
        .filter(mso_id__in=ids).values_list("mso_id", "practice__state").distinct()
    ):  # fmt: skip
        states.setdefault(mso_id, set()).add(state)
    for mso_id, area in MSOService.objects.filter(mso_id__in=ids).values_list("mso_id", "area"):
        services.setdefault(mso_id, []).append(area)
    for mso_id, summary in cards:
        summary["facts"] = {**facts[mso_id], "states": sorted(states.get(mso_id, ())),
                            "services": sorted(services.get(mso_id, ())),
                            "active_practices": summary["active_practices"] or 0}  # fmt: skip


def directory_rows(*, snapshot):
    """Every scorecard summary of the snapshot, each a new dict with its ``mso_id`` and the
    MSO's facts at data-as-of under ``facts`` (ownership model, focus, specialties, founding
    year, services offered, states of its practices, active practices): one query the first
    time a process reads the snapshot, none after. Callers may change a row's own keys, not
    what they hold."""
    return [{**summary, "mso_id": mso_id} for mso_id, summary in _snapshot_rows(snapshot)]


def mso_for_profile(*, slug):
    """A published MSO with its services: 2 queries."""
    return MSO.objects.filter(published=True, slug=slug).prefetch_related("services").first()


def scorecard_of(*, snapshot, mso):
    return MsoScorecard.objects.filter(snapshot=snapshot, mso=mso).first()


def names_of(*, slugs):
    """{slug: name} of the MSOs with these slugs: one query (none for no slugs)."""
    if not slugs:
        return {}
    return dict(MSO.objects.filter(slug__in=slugs).values_list("slug", "name"))


def interviews_of(*, mso, as_of):
    """The MSO's reference interviews up to ``as_of``, newest first, each a dict with its
    promise ledger under ``promises``: 2 queries."""
    interviews = list(
        ReferenceInterview.objects.filter(mso=mso, interviewed_on__lte=as_of)
        .order_by("-interviewed_on", "-id")
        .values("id", "interviewee", "consent_to_quote", "provenance", "interviewed_on",
                "years_affiliated", "trust", "autonomy", "would_choose_again", "promised",
                "delivered", "advice")
    )  # fmt: skip
    promises = {}
    for interview_id, *item in (
        PromiseItem.objects.filter(interview_id__in=[i["id"] for i in interviews])
        .order_by("service_area").values_list("interview_id", "service_area", "outcome", "note")
    ):  # fmt: skip
        promises.setdefault(interview_id, []).append(dict(zip(("area", "outcome", "note"), item,
                                                              strict=True)))  # fmt: skip
    for interview in interviews:
        interview["consent"] = interview.pop("consent_to_quote")
        interview["promises"] = promises.get(interview["id"], [])
    return interviews


def practices_in_year(*, mso, year, through):
    """[(practice_id, code, name, NpsCounts)] of the responses each practice gave in ``year``
    while with the MSO, no month after ``through``'s month counting; most responses first:
    2 queries."""
    first = datetime.date(year, 1, 1)
    last = min(datetime.date(year, 12, 1), through.replace(day=1))
    counts = msos_practices_nps(first_month=first, last_month=last, mso_ids=[mso.pk]).get(
        mso.pk, {})
    names = practice_names(practice_ids=list(counts))
    return sorted(((pid, *names[pid], c) for pid, c in counts.items()),
                  key=lambda row: (-row[3].n, row[1]))  # fmt: skip
