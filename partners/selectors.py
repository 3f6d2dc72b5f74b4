"""Read queries over the evidence."""

from django.db.models import Count, Q

from .models import MSO


def active_affiliation_q(day, prefix="affiliations__"):
    return Q(**{f"{prefix}started_on__lte": day}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gte": day})
    )


def published_msos_with_practice_counts(*, day):
    """Published MSOs with the number of practices affiliated on ``day``: one query."""
    return (
        MSO.objects.filter(published=True)
        .annotate(active_practices=Count("affiliations", filter=active_affiliation_q(day)))
        .order_by("name")
    )
