"""The surgeon's shortlist of MSOs and the due-diligence checklist asked of each one.

The checklist is the reference article's advice put as the questions a surgeon asks before
signing. It is data: the models take their choices from it, so adding, removing or renaming an
item needs a migration (the database refuses item keys it does not know).

This module imports nothing from ``models``, which imports the table from here: the services
work through the user's and the entry's related managers, and an ``entry`` argument is a
``ShortlistEntry``, typed as the ``models.Model`` it is to keep the imports acyclic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from django.core.exceptions import ValidationError
from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from partners.models import MSO


class ChecklistItem(NamedTuple):
    key: str
    question: str
    hint: str


CHECKLIST = (
    ChecklistItem(
        "ownership_autonomy",
        "What is the ownership model, and how much clinical autonomy does the contract leave me?",
        "Partnership with equity, full acquisition, minority investment or joint venture? Read "
        "the autonomy clause as written: who decides on cases, equipment, staff and schedule?",
    ),
    ChecklistItem(
        "specialty_focus",
        "Does it work only with oral and maxillofacial surgeons, or with several specialties?",
        "A single-specialty MSO should know my specialty inside and out; ask a multi-specialty "
        "one who supports practices like mine.",
    ),
    ChecklistItem(
        "services",
        "Which services does it really provide, and how well?",
        "Marketing, HR, revenue cycle management, payor contracting, IT, compliance, "
        "purchasing, equipment funding, recruiting, training: who does the work, and what has "
        "it invested in them?",
    ),
    ChecklistItem(
        "patient_nps",
        "What is the patient NPS of its affiliated practices, pooled and as the average of the "
        "practices?",
        "Above 0 is good, above 50 excellent, above 80 world-class; healthcare averaged 46 in "
        "2024. Ask how many responses and practices each figure rests on, and whether the MSO "
        "reports it itself.",
    ),
    ChecklistItem(
        "promised_delivered",
        "What did it promise its surgeon partners, and what did it deliver?",
        "Talk with a few affiliated surgeon partners, not only the ones the MSO suggests.",
    ),
    ChecklistItem(
        "partner_trust",
        "Do its surgeon partners trust it?",
        "Ask them directly, and ask what the trust rests on.",
    ),
    ChecklistItem(
        "same_decision",
        "Would its partners make the same decision again?",
        "Ask whether they would choose this MSO again if they had to do it all over.",
    ),
    ChecklistItem(
        "first_time_advice",
        "What advice do its partners have for a surgeon partnering with an MSO for the first time?",
        "Write down what they would do differently.",
    ),
    ChecklistItem(
        "quality_programs",
        "What does it do to improve clinical excellence in its partner practices?",
        "Quality improvement programs such as a Center of Excellence: what they require and "
        "which practices have earned them. Do its values match mine?",
    ),
    ChecklistItem(
        "accreditation",
        "How many of its practices hold a current accreditation?",
        "AAAHC, The Joint Commission, AAOMS OAAP: ask for the body and the expiry date of each "
        "(AAAHC terms run 3 years, 1 year or 6 months).",
    ),
)
CHECKLIST_KEYS = tuple(item.key for item in CHECKLIST)
CHECKLIST_CHOICES = [(item.key, item.question) for item in CHECKLIST]


class ChecklistStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"


UNKNOWN_ITEM = "Unknown checklist item."
BAD_STATUS = "Choose “Open” or “Answered”."


def shortlist_add(*, user: User, mso: MSO) -> tuple[models.Model, bool]:
    """Put the MSO on the user's shortlist; adding it twice keeps the one entry and its notes."""
    return user.shortlist_entries.get_or_create(mso=mso)


def shortlist_remove(*, user: User, mso: MSO) -> None:
    """Take the MSO off the user's shortlist, with its note and checklist answers."""
    user.shortlist_entries.filter(mso=mso).delete()


def shortlist_note_save(*, entry: models.Model, note: str) -> models.Model:
    entry.note = note.strip()
    entry.save(update_fields=["note"])
    return entry


def checklist_answer_save(
    *, entry: models.Model, item: str, status: str, note: str
) -> models.Model:
    if item not in CHECKLIST_KEYS:
        raise ValidationError(UNKNOWN_ITEM)
    if status not in ChecklistStatus.values:
        raise ValidationError(BAD_STATUS)
    answer, _ = entry.answers.update_or_create(
        item=item, defaults={"status": status, "note": note.strip()}
    )
    return answer


def shortlist_for_user(*, user: User) -> models.QuerySet:
    """The user's entries, newest first, with their MSOs and answers: two queries in all."""
    return user.shortlist_entries.select_related("mso").prefetch_related("answers")


def _known(criterion, text):
    if not criterion or criterion.get("status") != "ok":
        n = (criterion or {}).get("n") or 0
        return f"Not enough evidence yet (n={n:,})."
    return text(criterion["value"], criterion["n"])


def checklist_known(row):
    """What the latest snapshot already knows for some checklist items, from an MSO's
    summary ``row``: {item key: (the figure in words, the profile section it comes from)}.
    The surgeon's own answer and note stay theirs."""
    if row is None:
        return {}
    criteria, nps = row.get("criteria", {}), row.get("nps") or {}
    if nps.get("status") == "ok":
        pooled = (f"Pooled patient NPS {round(nps['nps'])} (95% interval "
                  f"{round(nps['ci_low'])} to {round(nps['ci_high'])}, n={nps['n']:,}).")
    else:
        pooled = f"Too few patient responses for an NPS (n={nps.get('n') or 0:,})."
    return {
        "patient_nps": (pooled, "nps"),
        "promised_delivered": (_known(criteria.get("promise_keeping"), lambda v, n: (
            f"Promises kept: {round(v)}% over {n:,} promise-ledger items.")), "partners"),
        "partner_trust": (_known(criteria.get("surgeon_trust"), lambda v, n: (
            f"Surgeon partners' trust: {v:.1f} of 5 from {n:,} interviews.")), "partners"),
        "same_decision": (_known(criteria.get("would_choose_again"), lambda v, n: (
            f"Would choose it again: {round(v)}% from {n:,} interviews.")), "partners"),
        "accreditation": (_known(criteria.get("clinical_excellence"), lambda v, n: (
            f"{round(v)}% of its {n:,} active practices hold a current accreditation.")),
            "excellence"),
    }  # fmt: skip

