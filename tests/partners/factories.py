"""Small builders for evidence rows; tests override only what they are about."""

import datetime

from partners.models import (
    MSO,
    Affiliation,
    InterviewProvenance,
    OwnershipModel,
    Practice,
    ReferenceInterview,
    SpecialtyFocus,
    WouldChooseAgain,
)


def make_mso(name="Larkspur Surgical Partners", **fields):
    fields.setdefault("slug", name.lower().replace(" ", "-"))
    fields.setdefault("ownership_model", OwnershipModel.PARTNERSHIP_EQUITY)
    fields.setdefault("specialty_focus", SpecialtyFocus.SINGLE)
    fields.setdefault("published", True)
    return MSO.objects.create(name=name, **fields)


def make_practice(code="P-1", **fields):
    fields.setdefault("name", f"Practice {code}")
    fields.setdefault("city", "Springfield")
    fields.setdefault("state", "IL")
    return Practice.objects.create(code=code, **fields)


def affiliate(practice, mso, started_on=datetime.date(2020, 1, 1), ended_on=None):
    return Affiliation.objects.create(
        practice=practice, mso=mso, started_on=started_on, ended_on=ended_on
    )


def make_interview(mso, **fields):
    fields.setdefault("interviewee", "Dr. Alex Example")
    fields.setdefault("years_affiliated", 3)
    fields.setdefault("provenance", InterviewProvenance.INDEPENDENT)
    fields.setdefault("interviewer", "Sam Consultant")
    fields.setdefault("interviewed_on", datetime.date(2025, 5, 1))
    fields.setdefault("trust", 4)
    fields.setdefault("would_choose_again", WouldChooseAgain.YES)
    fields.setdefault("autonomy", 4)
    return ReferenceInterview.objects.create(mso=mso, **fields)
