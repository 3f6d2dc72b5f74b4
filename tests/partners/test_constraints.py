"""The database refuses what a form would refuse, even when the ORM's validation is bypassed."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from partners.models import (
    Accreditation,
    Affiliation,
    AggregateNPSSubmission,
    PromiseItem,
    SurveyResponse,
)

from .factories import affiliate, make_interview, make_mso, make_practice

pytestmark = pytest.mark.django_db


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.fixture
def practice():
    return make_practice()


@pytest.fixture
def mso():
    return make_mso()


@pytest.mark.parametrize("score", [-1, 11, 200])
def test_score_out_of_range_is_refused(practice, score):
    refused(lambda: SurveyResponse.objects.create(
        practice=practice, responded_on=datetime.date(2025, 1, 1), score=score
    ))
    assert SurveyResponse.objects.count() == 0


@pytest.mark.parametrize("score", [0, 10])
def test_scores_at_the_ends_of_the_scale_are_stored(practice, score):
    SurveyResponse.objects.create(
        practice=practice, responded_on=datetime.date(2025, 1, 1), score=score
    )
    assert SurveyResponse.objects.get().score == score


def test_score_out_of_range_fails_validation_with_domain_message(practice):
    response = SurveyResponse(practice=practice, responded_on=datetime.date(2025, 1, 1), score=11)
    with pytest.raises(ValidationError) as exc:
        response.full_clean()
    assert "A score is a whole number from 0 to 10." in str(exc.value)


def test_response_id_is_unique_per_source(practice):
    day = datetime.date(2025, 1, 1)
    SurveyResponse.objects.create(practice=practice, responded_on=day, score=9,
                                  source="vendor-a", response_id="r1")
    refused(lambda: SurveyResponse.objects.create(
        practice=practice, responded_on=day, score=9, source="vendor-a", response_id="r1"
    ))
    # The same id from another source, and responses without an id, are fine.
    SurveyResponse.objects.create(practice=practice, responded_on=day, score=9,
                                  source="vendor-b", response_id="r1")
    SurveyResponse.objects.create(practice=practice, responded_on=day, score=9, source="vendor-a")
    SurveyResponse.objects.create(practice=practice, responded_on=day, score=9, source="vendor-a")
    assert SurveyResponse.objects.count() == 4


@pytest.mark.parametrize("field", ["trust", "autonomy"])
@pytest.mark.parametrize("value", [0, 6])
def test_interview_ratings_out_of_range_are_refused(mso, field, value):
    refused(lambda: make_interview(mso, **{field: value}))


def test_interview_rating_message_in_the_domain_words(mso):
    interview = make_interview(mso)
    interview.trust = 6
    with pytest.raises(ValidationError) as exc:
        interview.full_clean()
    assert "Trust is rated from 1 to 5." in str(exc.value)


def test_interview_in_the_future_fails_validation(mso):
    interview = make_interview(mso)
    interview.interviewed_on = datetime.date.today() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        interview.full_clean()
    assert "cannot be in the future" in str(exc.value)


def test_unknown_would_choose_again_is_refused(mso):
    refused(lambda: make_interview(mso, would_choose_again="maybe"))


def test_promise_ledger_has_one_item_per_service_area(mso):
    interview = make_interview(mso)
    PromiseItem.objects.create(interview=interview, service_area="marketing", outcome="kept")
    refused(lambda: PromiseItem.objects.create(
        interview=interview, service_area="marketing", outcome="broken"
    ))
    refused(lambda: PromiseItem.objects.create(
        interview=interview, service_area="hr", outcome="lost"
    ))


@pytest.mark.parametrize(
    "first, second",
    [
        # (start, end) pairs; None is an open end. End dates are inclusive.
        ((datetime.date(2020, 1, 1), None), (datetime.date(2022, 1, 1), None)),
        ((datetime.date(2020, 1, 1), datetime.date(2021, 6, 30)),
         (datetime.date(2021, 6, 30), None)),
        ((datetime.date(2022, 1, 1), None), (datetime.date(2019, 1, 1), datetime.date(2022, 1, 1))),
        ((datetime.date(2020, 1, 1), datetime.date(2020, 12, 31)),
         (datetime.date(2020, 3, 1), datetime.date(2020, 4, 1))),
    ],
)
def test_overlapping_affiliations_are_refused_by_the_database(practice, first, second):
    other = make_mso("Quillon Oral Surgery Partners")
    affiliate(practice, make_mso(), *first)
    refused(lambda: affiliate(practice, other, *second))
    assert Affiliation.objects.count() == 1


def test_overlap_refused_on_update_too(practice):
    first = affiliate(practice, make_mso(), datetime.date(2020, 1, 1), datetime.date(2020, 12, 31))
    affiliate(practice, make_mso("Quillon Oral Surgery Partners"), datetime.date(2021, 1, 1))
    first.ended_on = None
    refused(lambda: first.save())


def test_back_to_back_affiliations_and_other_practices_are_fine(practice, mso):
    other = make_mso("Quillon Oral Surgery Partners")
    affiliate(practice, mso, datetime.date(2020, 1, 1), datetime.date(2021, 6, 30))
    affiliate(practice, other, datetime.date(2021, 7, 1))
    affiliate(make_practice("P-2"), mso, datetime.date(2020, 1, 1))
    assert Affiliation.objects.count() == 3


def test_overlapping_affiliation_fails_validation_naming_the_other_mso(practice, mso):
    affiliate(practice, mso, datetime.date(2020, 1, 1))
    clash = Affiliation(practice=practice, mso=make_mso("Quillon Oral Surgery Partners"),
                        started_on=datetime.date(2023, 1, 1))
    with pytest.raises(ValidationError) as exc:
        clash.full_clean()
    assert "already affiliated with Larkspur Surgical Partners from 2020-01-01 to now" in str(
        exc.value
    )


def test_affiliation_cannot_end_before_it_starts(practice, mso):
    refused(lambda: affiliate(practice, mso, datetime.date(2021, 1, 1), datetime.date(2020, 1, 1)))


def test_accreditation_must_expire_after_award(practice):
    refused(lambda: Accreditation.objects.create(
        practice=practice, body="AAAHC", awarded_on=datetime.date(2024, 1, 1),
        expires_on=datetime.date(2023, 1, 1),
    ))


def test_aggregate_submission_is_for_a_practice_or_an_mso(practice, mso):
    counts = dict(period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 12, 31),
                  promoters=80, passives=10, detractors=10)
    refused(lambda: AggregateNPSSubmission.objects.create(practice=practice, mso=mso, **counts))
    refused(lambda: AggregateNPSSubmission.objects.create(**counts))
    refused(lambda: AggregateNPSSubmission.objects.create(mso=mso, **{**counts, "promoters": -1}))
    AggregateNPSSubmission.objects.create(mso=mso, **counts)
    assert AggregateNPSSubmission.objects.get().provenance == "self_reported"


def test_raw_sql_cannot_store_an_out_of_range_score(practice):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO partners_surveyresponse (practice_id, responded_on, score, source)"
            " VALUES (%s, %s, %s, %s)",
            [practice.pk, datetime.date(2025, 1, 1), 12, ""],
        )
