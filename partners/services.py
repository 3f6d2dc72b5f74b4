"""Changes to the evidence that keep the NPS rollups equal to the raw responses.

A response counts for the MSO its practice belonged to on the response's day (see
``rollups.py``), so a change to a response, an affiliation, a practice or an MSO moves counts
between rollup rows. Every such change goes through one of these functions, which writes the
rows and the rollups in one transaction: the admin calls them, and so do the imports
(``practice_import``, ``survey_import``); ``manage.py verify_rollups`` checks the result.
"""

from django.db import transaction

from .models import MSO, Affiliation, Practice, SurveyResponse
from .rollups import rollups_rebuild_practices


def _stored_practice_ids(model, objects):
    """The practices the stored rows of ``objects`` belong to, before they change."""
    pks = [obj.pk for obj in objects if obj.pk is not None]
    return set(model.objects.filter(pk__in=pks).values_list("practice_id", flat=True))


@transaction.atomic
def affiliations_save(*, saved=(), deleted=()):
    """Save the affiliations ``saved`` (new or changed) and delete ``deleted``; the responses
    of every practice concerned, before and after, are counted again."""
    practice_ids = _stored_practice_ids(Affiliation, [*saved, *deleted])
    for affiliation in deleted:
        affiliation.delete()
    for affiliation in saved:
        affiliation.save()
        practice_ids.add(affiliation.practice_id)
    rollups_rebuild_practices(practice_ids=practice_ids)


@transaction.atomic
def affiliations_delete(*, queryset):
    practice_ids = set(queryset.values_list("practice_id", flat=True).distinct())
    queryset.delete()
    rollups_rebuild_practices(practice_ids=practice_ids)


@transaction.atomic
def survey_response_save(*, response):
    """Save a new or edited response (its practice, day or score may have changed)."""
    practice_ids = _stored_practice_ids(SurveyResponse, [response])
    response.save()
    rollups_rebuild_practices(practice_ids={*practice_ids, response.practice_id})


@transaction.atomic
def survey_responses_delete(*, queryset):
    """Delete responses (and their comments). To undo a whole import, use
    ``survey_import.survey_import_undo``, which is much faster for many rows."""
    practice_ids = set(queryset.values_list("practice_id", flat=True).distinct())
    queryset.delete()
    rollups_rebuild_practices(practice_ids=practice_ids)


@transaction.atomic
def msos_delete(*, queryset):
    """Delete MSOs with their affiliations: their practices' responses of those days are then
    counted as unaffiliated."""
    practice_ids = set(
        Affiliation.objects.filter(mso__in=queryset).values_list("practice_id", flat=True)
    )
    MSO.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))).delete()
    rollups_rebuild_practices(practice_ids=practice_ids)


@transaction.atomic
def practices_delete(*, queryset):
    """Delete practices. A practice with survey responses cannot be deleted (the database
    refuses with ProtectedError): undo its imports first."""
    Practice.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))).delete()
