"""The NPS rollups stay equal to the raw responses: after imports, undos, affiliation changes
and rebuilds, and ``manage.py verify_rollups`` reports and repairs a difference."""

import datetime
import io
import os
import random
import subprocess
import sys
from collections import Counter

import pytest
from django.core.management import call_command

from partners import selectors
from partners.models import Affiliation, MsoNpsMonth, PracticeNpsMonth, SurveyResponse
from partners.practice_import import practices_import
from partners.rollups import (
    MSO_TABLE,
    PRACTICE_TABLE,
    rollups_differences,
    rollups_rebuild_all,
    rollups_rebuild_practices,
)
from partners.surveys.importing import survey_import_undo, surveys_import
from tests.conftest import ROOT, database_url_for_tests
from tests.partners.factories import affiliate, make_mso, make_practice

D = datetime.date


def import_surveys(rows, name="survey.csv"):
    """Import (practice code, day, score) rows; return the import's id."""
    text = "practice,responded_on,score\n" + "".join(
        f"{code},{day.isoformat()},{score}\n" for code, day, score in rows
    )
    report = surveys_import(stream=io.BytesIO(text.encode()), file_name=name, source="vendor")
    return report.survey_import_id


def kind(score):
    return "promoters" if score >= 9 else "passives" if score >= 7 else "detractors"


def by_hand():
    """Rollups computed in Python from the raw responses and affiliations:
    ({(practice, MSO or None, month): counts}, {(MSO, month): counts})."""
    affiliations = list(Affiliation.objects.values_list("practice_id", "mso_id", "started_on",
                                                        "ended_on"))  # fmt: skip
    practices, msos = {}, {}
    for practice_id, day, score in SurveyResponse.objects.values_list(
        "practice_id", "responded_on", "score"
    ):
        mso_ids = [
            m for p, m, start, end in affiliations
            if p == practice_id and start <= day and (end is None or day <= end)
        ]  # fmt: skip
        assert len(mso_ids) <= 1
        mso_id = mso_ids[0] if mso_ids else None
        month = day.replace(day=1)
        practices.setdefault((practice_id, mso_id, month), Counter())[kind(score)] += 1
        if mso_id is not None:
            msos.setdefault((mso_id, month), Counter())[kind(score)] += 1

    def counts(counter):
        return (counter["promoters"], counter["passives"], counter["detractors"])

    return (
        {key: counts(c) for key, c in practices.items()},
        {key: counts(c) for key, c in msos.items()},
    )


def stored():
    practices = {(r.practice_id, r.mso_id, r.month): (r.promoters, r.passives, r.detractors)
                 for r in PracticeNpsMonth.objects.all()}  # fmt: skip
    msos = {(r.mso_id, r.month): (r.promoters, r.passives, r.detractors)
            for r in MsoNpsMonth.objects.all()}  # fmt: skip
    return practices, msos


def assert_rollups_match():
    assert rollups_differences() == []
    assert stored() == by_hand()


@pytest.fixture
def world(db):
    """Three practices: P1 moves from Alpha to Beta on 2024-03-16, P2 stays with Alpha,
    P3 has no MSO until 2024-02-10; and responses from 2023-11 to 2024-06."""
    alpha, beta = make_mso("Alpha MSO", slug="alpha"), make_mso("Beta MSO", slug="beta")
    p1, p2, p3 = make_practice("P1"), make_practice("P2"), make_practice("P3")
    affiliate(p1, alpha, D(2020, 1, 1), D(2024, 3, 15))
    affiliate(p1, beta, D(2024, 3, 16))
    affiliate(p2, alpha, D(2023, 1, 1))
    affiliate(p3, beta, D(2024, 2, 10))
    return {"alpha": alpha, "beta": beta, "P1": p1, "P2": p2, "P3": p3}


def random_rows(seed, count=300):
    first, last = D(2023, 11, 1), D(2024, 6, 30)
    rng = random.Random(seed)
    days = (last - first).days
    return [
        (rng.choice(["P1", "P2", "P3"]), first + datetime.timedelta(rng.randint(0, days)),
         rng.randint(0, 10))
        for _ in range(count)
    ]  # fmt: skip


# --- The rollups follow every change -----------------------------------------------------


def test_import_adds_exactly_the_responses(world):
    import_surveys([
        ("P1", D(2024, 3, 15), 10), ("P1", D(2024, 3, 16), 9), ("P1", D(2024, 3, 31), 3),
        ("P3", D(2024, 2, 9), 8), ("P3", D(2024, 2, 10), 0),
    ])  # fmt: skip
    alpha, beta = world["alpha"].pk, world["beta"].pk
    p1, p3 = world["P1"].pk, world["P3"].pk
    march, february = D(2024, 3, 1), D(2024, 2, 1)

    assert stored() == (
        {(p1, alpha, march): (1, 0, 0), (p1, beta, march): (1, 0, 1),
         (p3, None, february): (0, 1, 0), (p3, beta, february): (0, 0, 1)},
        {(alpha, march): (1, 0, 0), (beta, march): (1, 0, 1), (beta, february): (0, 0, 1)},
    )  # fmt: skip
    assert_rollups_match()

def test_a_month_in_which_an_affiliation_ends_is_split_on_that_day(world):
    # The import counts a practice's month at once unless an affiliation starts or ends
    # within it; here one ends and no other starts.
    p4 = make_practice("P4")
    affiliate(p4, world["alpha"], D(2023, 1, 1), D(2024, 4, 10))
    import_surveys([("P4", D(2024, 4, 5), 10), ("P4", D(2024, 4, 10), 7),
                    ("P4", D(2024, 4, 20), 2)])  # fmt: skip
    alpha, april = world["alpha"].pk, D(2024, 4, 1)

    assert stored() == (
        {(p4.pk, alpha, april): (1, 1, 0), (p4.pk, None, april): (0, 0, 1)},
        {(alpha, april): (1, 1, 0)},
    )
    assert_rollups_match()


def test_rollups_match_after_imports_and_undos(world):
    first = import_surveys(random_rows(1), "first.csv")
    second = import_surveys(random_rows(2), "second.csv")
    assert len(stored()[0]) > 20
    assert_rollups_match()

    assert survey_import_undo(survey_import_id=first).responses == 300
    assert SurveyResponse.objects.count() == 300
    assert_rollups_match()

    survey_import_undo(survey_import_id=second)
    assert_rollups_match()
    assert stored() == ({}, {})


def test_rebuilding_practices_follows_a_changed_affiliation(world):
    import_surveys(random_rows(3))
    # An affiliation changed behind the rollups' back: P2 left Alpha at the end of 2023.
    Affiliation.objects.filter(practice=world["P2"]).update(ended_on=D(2023, 12, 31))
    assert rollups_differences() != []

    rollups_rebuild_practices(practice_ids=[world["P2"].pk])
    assert_rollups_match()
    p2_2024 = PracticeNpsMonth.objects.filter(practice=world["P2"], month__gte=D(2024, 1, 1))
    assert p2_2024.exists()
    assert not p2_2024.filter(mso__isnull=False).exists()


def test_rebuilding_practices_leaves_the_others_alone(world):
    import_surveys(random_rows(4))
    before = stored()

    rollups_rebuild_practices(practice_ids=[world["P1"].pk, world["P3"].pk, None])
    rollups_rebuild_practices(practice_ids=[])
    assert stored() == before
    assert_rollups_match()


def test_rebuilding_everything_repairs_any_damage(world):
    import_surveys(random_rows(5))
    PracticeNpsMonth.objects.filter(practice=world["P1"]).delete()
    MsoNpsMonth.objects.filter(mso=world["beta"]).update(promoters=999)
    other = make_practice("P4")
    PracticeNpsMonth.objects.create(practice=other, month=D(2024, 1, 1), promoters=7)
    assert rollups_differences() != []

    rollups_rebuild_all()
    assert_rollups_match()


# --- Practice imports move responses between MSOs -------------------------------------------

PRACTICES = "mso,practice_code,practice_name,city,state,affiliated_since,affiliated_until\n"


def nps_counts(mso, first=None, last=None):
    """(promoters, passives, detractors) of an MSO, by default over January to June 2024."""
    first, last = first or D(2024, 1, 1), last or D(2024, 6, 1)
    estimate = selectors.mso_nps(mso_id=mso.pk, first_month=first, last_month=last)
    return (estimate.promoters, estimate.passives, estimate.detractors)


def test_practice_import_moves_responses_to_the_new_mso(db):
    practices_import(data=(PRACTICES + "Alpha MSO,P1,One,Austin,TX,2020-01-01,\n").encode())
    rows = [
        ("P1", D(2024, month, day), score)
        for month in range(1, 7)
        for day, score in ((1, 10), (15, 8), (16, 2), (28, 9))
    ]
    import_surveys(rows)
    alpha = Affiliation.objects.get().mso
    assert nps_counts(alpha) == (12, 6, 6)
    assert_rollups_match()

    # Alpha's affiliation ends on 2024-03-15 (inclusive); Beta's starts the next day.
    result = practices_import(data=(
        PRACTICES + "Alpha MSO,P1,One,Austin,TX,2020-01-01,2024-03-15\n"
        "Beta MSO,P1,One,Austin,TX,2024-03-16,\n"
    ).encode())  # fmt: skip
    assert (result.affiliations_updated, result.affiliations_created) == (1, 1)
    beta = Affiliation.objects.get(started_on=D(2024, 3, 16)).mso
    # Alpha keeps January, February and March 1 and 15; Beta gets March 16 and 28 onwards.
    assert nps_counts(alpha) == (5, 3, 2)
    assert nps_counts(beta) == (7, 3, 4)
    march = D(2024, 3, 1)
    assert nps_counts(alpha, march, march) == (1, 1, 0)
    assert nps_counts(beta, march, march) == (1, 0, 1)
    assert_rollups_match()

    # Beta's affiliation ends with April: May and June have no MSO.
    practices_import(
        data=(PRACTICES + "Beta MSO,P1,One,Austin,TX,2024-03-16,2024-04-30\n").encode()
    )
    assert nps_counts(beta) == (3, 1, 2)
    practice = selectors.practice_nps(
        practice_id=Affiliation.objects.first().practice_id,
        first_month=D(2024, 1, 1),
        last_month=D(2024, 6, 1),
    )
    assert (practice.promoters, practice.passives, practice.detractors) == (12, 6, 6)
    assert_rollups_match()

    # Reopened: Beta has the practice again until now.
    practices_import(data=(PRACTICES + "Beta MSO,P1,One,Austin,TX,2024-03-16,\n").encode())
    assert nps_counts(beta) == (7, 3, 4)
    assert_rollups_match()


def test_practice_import_preview_leaves_the_rollups_alone(db):
    practices_import(data=(PRACTICES + "Alpha MSO,P1,One,Austin,TX,2020-01-01,\n").encode())
    import_surveys([("P1", D(2024, 5, 5), 10)])
    before = stored()

    practices_import(data=(PRACTICES + "Alpha MSO,P1,One,Austin,TX,2020-01-01,2024-01-31\n"
                           ).encode(), dry_run=True)  # fmt: skip
    assert stored() == before
    assert_rollups_match()


# --- verify_rollups --------------------------------------------------------------------------


def verify(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_rollups", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_corrupted_rollup_row_is_reported_and_repaired(world):
    import_surveys([("P2", D(2024, 1, 10), 10), ("P2", D(2024, 1, 11), 5),
                    ("P1", D(2024, 4, 2), 7)])  # fmt: skip
    assert verify() == (0, "Rollups match the raw responses.\n", "")
    alpha, p2 = world["alpha"].pk, world["P2"].pk
    PracticeNpsMonth.objects.filter(practice=world["P2"]).update(promoters=2)

    assert rollups_differences() == [
        (PRACTICE_TABLE, "missing or wrong", (str(p2), str(alpha), "2024-01-01"), (1, 0, 1)),
        (PRACTICE_TABLE, "unexpected", (str(p2), str(alpha), "2024-01-01"), (2, 0, 1)),
    ]
    status, out, err = verify()
    assert status == 1
    assert out.splitlines() == [
        f"{PRACTICE_TABLE} missing or wrong: {p2}, {alpha}, 2024-01-01 -> (1, 0, 1)",
        f"{PRACTICE_TABLE} unexpected: {p2}, {alpha}, 2024-01-01 -> (2, 0, 1)",
    ]
    assert err == "2 differences (at most 50 per kind shown).\n"

    status, out, _ = verify("--rebuild")
    assert status == 0
    assert out.splitlines()[-1] == "Rebuilt the rollups from the raw responses."
    assert verify() == (0, "Rollups match the raw responses.\n", "")
    assert_rollups_match()


def test_missing_mso_rollup_row_is_reported(world):
    import_surveys([("P2", D(2024, 1, 10), 10)])
    alpha = world["alpha"].pk
    MsoNpsMonth.objects.all().delete()

    assert rollups_differences() == [
        (MSO_TABLE, "missing or wrong", (str(alpha), "2024-01-01"), (1, 0, 0)),
    ]
    assert verify()[0] == 1
    verify("--rebuild")
    assert_rollups_match()


@pytest.mark.django_db(transaction=True)
def test_verify_rollups_process_exit_status():
    alpha = make_mso("Alpha MSO", slug="alpha")
    affiliate(make_practice("P1"), alpha, D(2023, 1, 1))
    import_surveys([("P1", D(2024, 1, 10), 10)])
    MsoNpsMonth.objects.update(detractors=4)
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url_for_tests()}

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", "verify_rollups", *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip

    broken = manage()
    assert broken.returncode == 1
    assert f"{MSO_TABLE} missing or wrong: {alpha.pk}, 2024-01-01 -> (1, 0, 0)" in broken.stdout
    assert f"{MSO_TABLE} unexpected: {alpha.pk}, 2024-01-01 -> (1, 0, 4)" in broken.stdout
    assert manage("--rebuild").returncode == 0
    fixed = manage()
    assert (fixed.returncode, fixed.stdout) == (0, "Rollups match the raw responses.\n")
