"""Read queries for the surgeon's pages: a fixed number of queries whatever the number of MSOs."""

from partners.models import MSO, Affiliation, MSOService

from .models import MsoScorecard


def directory_rows(*, snapshot):
    """Every scorecard document of the snapshot, each with the MSO's facts under ``facts``
    (ownership model, focus, specialties, services offered, states of its practices at
    data-as-of): 4 queries."""
    cards = list(
        MsoScorecard.objects.filter(snapshot=snapshot).values_list("mso_id", "summary")
    )
    facts = {
        m["id"]: m
        for m in MSO.objects.filter(pk__in=[mso_id for mso_id, _ in cards]).values(
            "id", "ownership_model", "specialty_focus", "specialties", "founded_year"
        )
    }
    states = {}
    for mso_id, state in (
        Affiliation.objects.active_on(snapshot.data_as_of)
        .filter(mso_id__in=facts).values_list("mso_id", "practice__state").distinct()
    ):  # fmt: skip
        states.setdefault(mso_id, set()).add(state)
    services = {}
    for mso_id, area in MSOService.objects.filter(mso_id__in=facts).values_list("mso_id", "area"):
        services.setdefault(mso_id, []).append(area)
    rows = []
    for mso_id, document in cards:
        fact = facts[mso_id]
        rows.append({**document, "mso_id": mso_id, "facts": {
            **fact, "states": sorted(states.get(mso_id, ())),
            "services": sorted(services.get(mso_id, ())),
            "active_practices": document["active_practices"] or 0,
        }})  # fmt: skip
    return rows


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
