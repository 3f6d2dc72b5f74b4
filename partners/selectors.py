"""Read queries over the evidence. NPS reads go through the rollups, one query each.

NPS reads return counts (``NpsCounts``: promoters, passives, detractors); turning counts into
estimates with intervals is the scorecards' work (``scorecards.statistics``).
"""

import datetime
from typing import NamedTuple

from django.db.models import BigIntegerField, Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractYear

from .models import (
    MSO,
    Affiliation,
    AggregateNPSSubmission,
    MsoNpsMonth,
    Practice,
    PracticeNpsMonth,
)

RESPONSES = "responses"
SELF_REPORTED = "self_reported"
PROVENANCES = (RESPONSES, SELF_REPORTED)
_COUNTS = {"promoters": Sum("promoters"), "passives": Sum("passives"),
           "detractors": Sum("detractors")}  # fmt: skip


class NpsCounts(NamedTuple):
    promoters: int
    passives: int
    detractors: int

    @property
    def n(self):
        return self.promoters + self.passives + self.detractors


def active_affiliation_q(day, prefix="affiliations__"):
    return Q(**{f"{prefix}started_on__lte": day}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gte": day})
    )


def silent_practice_q(day):
    """The practices with an MSO on ``day`` and no survey response in ``day``'s year (an
    evidence gap: their MSO's patient experience misses them), read from the monthly rollups
    (one row per practice and month, indexed by practice and month), never the responses."""
    this_year = PracticeNpsMonth.objects.filter(
        practice=OuterRef("pk"), month__gte=day.replace(month=1, day=1)
    )
    affiliated = Affiliation.objects.filter(active_affiliation_q(day, prefix=""),
                                            practice=OuterRef("pk"))  # fmt: skip
    return Exists(affiliated) & ~Exists(this_year)


def published_msos_with_practice_counts(*, day):
    """Published MSOs with the number of practices affiliated on ``day``: one query."""
    return (
        MSO.objects.filter(published=True)
        .annotate(active_practices=Count("affiliations", filter=active_affiliation_q(day)))
        .order_by("name")
    )


def month_start(day):
    return day.replace(day=1)


def months_before(as_of, months=12):
    """(first month, last month) of the ``months`` full months before ``as_of``'s month."""
    if months < 1:
        raise ValueError(f"months must be 1 or more, not {months}")
    last = month_start(as_of) - datetime.timedelta(days=1)
    year, month = divmod(last.year * 12 + last.month - 1 - (months - 1), 12)
    return datetime.date(year, month + 1, 1), month_start(last)


def _counts(row):
    return NpsCounts(row["promoters"] or 0, row["passives"] or 0, row["detractors"] or 0)


def _months(first_month, last_month):
    """Rollup filter for the months, both inclusive; any day stands for its month."""
    return Q(month__gte=month_start(first_month), month__lte=month_start(last_month))


def _self_reported(first_month, last_month):
    """Aggregate submissions whose period lies within the months (inclusive)."""
    next_month = (month_start(last_month) + datetime.timedelta(days=32)).replace(day=1)
    return AggregateNPSSubmission.objects.filter(
        period_start__gte=month_start(first_month), period_end__lt=next_month
    )


def mso_nps(*, mso_id, first_month, last_month, provenance=RESPONSES):
    """NPS counts of one MSO over whole months: one query."""
    if provenance == RESPONSES:
        rows = MsoNpsMonth.objects.filter(_months(first_month, last_month), mso_id=mso_id)
        return _counts(rows.aggregate(**_COUNTS))
    if provenance == SELF_REPORTED:
        return msos_self_reported_nps(
            first_month=first_month, last_month=last_month, mso_ids=[mso_id]
        ).get(mso_id, NpsCounts(0, 0, 0))
    raise ValueError(f"unknown provenance {provenance!r}")


def practice_nps(*, practice_id, first_month, last_month, provenance=RESPONSES):
    """NPS counts of one practice over whole months, whatever its MSO: one query."""
    if provenance == RESPONSES:
        rows = PracticeNpsMonth.objects.filter(
            _months(first_month, last_month), practice_id=practice_id
        )
    elif provenance == SELF_REPORTED:
        rows = _self_reported(first_month, last_month).filter(practice_id=practice_id)
    else:
        raise ValueError(f"unknown provenance {provenance!r}")
    return _counts(rows.aggregate(**_COUNTS))


def msos_nps(*, first_month, last_month, mso_ids=None):
    """{mso_id: NpsCounts} over whole months for every MSO with responses: one query."""
    rows = MsoNpsMonth.objects.filter(_months(first_month, last_month))
    if mso_ids is not None:
        rows = rows.filter(mso_id__in=mso_ids)
    return {
        row["mso_id"]: _counts(row)
        for row in rows.values("mso_id").annotate(**_COUNTS).order_by()
    }


def msos_nps_by_year(*, first_year, last_year, through=None, mso_ids=None):
    """{mso_id: {year: NpsCounts}} for calendar years: one query for all MSOs. With
    ``through`` (a day), no month after its month counts: the last year may be partial."""
    last = datetime.date(last_year, 12, 1)
    if through is not None:
        last = min(last, month_start(through))
    rows = MsoNpsMonth.objects.filter(month__gte=datetime.date(first_year, 1, 1), month__lte=last)
    if mso_ids is not None:
        rows = rows.filter(mso_id__in=mso_ids)
    result = {}
    grouped = rows.annotate(year=ExtractYear("month")).values("mso_id", "year")
    for row in grouped.annotate(**_COUNTS).order_by():
        result.setdefault(row["mso_id"], {})[row["year"]] = _counts(row)
    return result


def msos_practices_nps(*, first_month, last_month, mso_ids=None):
    """{mso_id: {practice_id: NpsCounts}} of the responses each practice gave while with the
    MSO, over whole months: one query for all MSOs."""
    rows = PracticeNpsMonth.objects.filter(_months(first_month, last_month), mso_id__isnull=False)
    if mso_ids is not None:
        rows = rows.filter(mso_id__in=mso_ids)
    result = {}
    grouped = rows.values("mso_id", "practice_id").annotate(**_COUNTS)
    for row in grouped.order_by("mso_id", "practice_id"):
        result.setdefault(row["mso_id"], {})[row["practice_id"]] = _counts(row)
    return result


def practice_names(*, practice_ids):
    """{practice_id: (code, name)}: one query."""
    return {pk: (code, name) for pk, code, name in Practice.objects.filter(
        pk__in=practice_ids).values_list("pk", "code", "name")}  # fmt: skip


def msos_self_reported_nps(*, first_month, last_month, mso_ids=None):
    """{mso_id: NpsCounts} of the self-reported submissions whose period lies within the months:
    an MSO's own, and those of practices that were with it for the whole period: one query.

    A practice's submission for a period during which it changed MSO (or had none for a while)
    counts for the practice only: it cannot be told apart between the MSOs.
    """
    whole_period = Affiliation.objects.filter(
        practice=OuterRef("practice"), started_on__lte=OuterRef("period_start")
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=OuterRef("period_end")))
    rows = (
        _self_reported(first_month, last_month)
        .annotate(_practice_mso=Subquery(whole_period.values("mso_id")[:1],
                                         output_field=BigIntegerField()))
        .annotate(_mso=Coalesce("mso_id", "_practice_mso", output_field=BigIntegerField()))
        .filter(_mso__isnull=False)
    )
    if mso_ids is not None:
        rows = rows.filter(_mso__in=mso_ids)
    return {row["_mso"]: _counts(row) for row in rows.values("_mso").annotate(**_COUNTS).order_by()}


def msos_active_practices(*, day, mso_ids=None):
    """{mso_id: [(practice_id, code, name, state)]} of the practices affiliated on ``day``: one
    query."""
    rows = Affiliation.objects.active_on(day)
    if mso_ids is not None:
        rows = rows.filter(mso_id__in=mso_ids)
    result = {}
    for mso_id, *practice in rows.order_by("mso_id", "practice__code").values_list(
        "mso_id", "practice_id", "practice__code", "practice__name", "practice__state"
    ):
        result.setdefault(mso_id, []).append(tuple(practice))
    return result


def practices_with_current_mso(*, ids, day):
    """{practice id: {code, name, city, state, mso}} for ``ids``, ``mso`` the name of the MSO
    the practice is affiliated with on ``day`` ("" if none): one query."""
    current = Affiliation.objects.filter(active_affiliation_q(day, prefix=""),
                                         practice=OuterRef("pk"))  # fmt: skip
    rows = (Practice.objects.filter(pk__in=ids)
            .annotate(mso_name=Subquery(current.values("mso__name")[:1]))
            .values_list("pk", "code", "name", "city", "state", "mso_name"))  # fmt: skip
    return {pk: {"code": code, "name": name, "city": city, "state": state, "mso": mso or ""}
            for pk, code, name, city, state, mso in rows}  # fmt: skip
