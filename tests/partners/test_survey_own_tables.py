"""PostgreSQL: a large survey import is loaded into a table of its own, attached as a partition
of the responses (partners.migrations 0014, partners.surveys.importing). What holds in the
shared table holds across the tables: every foreign key, a response id once per source, the
rollups, and an undo that leaves nothing behind."""

import datetime
import io

import pytest
from django.db import IntegrityError, connection, transaction

from partners import services
from partners.models import SurveyComment, SurveyImport
from partners.models import SurveyResponse as Response
from partners.rollups import rollups_differences
from partners.surveys import importing
from partners.surveys.importing import SurveyImportRefused, survey_import_undo, surveys_import
from tests.partners.factories import affiliate, make_mso, make_practice

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps every response in one table"
)

HEADER = "practice,responded_on,score,response_id,comment"
FILE = f"{HEADER}\nP-1,2024-03-05,10,R-1,Great care\nP-2,2024-03-06,7,R-2,\nP-1,2024-03-07,2,R-3,\n"


@pytest.fixture
def practices(db, settings):
    settings.SURVEY_OWN_TABLE_ROWS = 3  # the file above is "large"
    p1, p2 = make_practice("P-1"), make_practice("P-2")
    affiliate(p1, make_mso())
    return p1, p2


def load(content=FILE, name="surveys.csv", source="acme"):
    report = surveys_import(stream=io.BytesIO(content.encode()), file_name=name, source=source)
    assert rollups_differences() == []
    return report


def partitions():
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'partners_surveyresponse'::regclass ORDER BY c.relname
        """)  # fmt: skip
        return cursor.fetchall()


def check_deferred_constraints():
    """Run the foreign-key checks now: the test's transaction never commits."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_large_import_is_a_partition_of_its_own(practices):
    report = load()

    batch = report.survey_import_id
    assert partitions() == [
        ("partners_surveyresponse_0", "FOR VALUES IN (0)"),
        (f"partners_surveyresponse_{batch}", f"FOR VALUES IN ({batch})"),
    ]
    assert set(Response.objects.values_list("batch", flat=True)) == {batch}
    assert list(SurveyComment.objects.values_list("text", "batch", "response__line")) == [
        ("Great care", batch, 2)
    ]
    with connection.cursor() as cursor:
        # Every index of the partitioned table is built on the new table and valid.
        cursor.execute("""
            SELECT count(*), bool_and(x.indisvalid) FROM pg_index x
            WHERE x.indrelid = %s::regclass
        """, [importing.own_table(batch)])  # fmt: skip
        assert cursor.fetchone() == (4, True)
    check_deferred_constraints()


def test_small_import_joins_the_shared_table(practices, settings):
    settings.SURVEY_OWN_TABLE_ROWS = 4

    load()

    assert partitions() == [("partners_surveyresponse_0", "FOR VALUES IN (0)")]
    assert set(Response.objects.values_list("batch", flat=True)) == {0}
    assert set(SurveyComment.objects.values_list("batch", flat=True)) == {0}


def test_the_same_response_ids_again_are_skipped(practices):
    load()

    report = load(FILE + "P-2,2024-03-08,9,R-4,\n", name="again.csv")

    assert (report.skipped, report.imported) == (3, 1)
    assert Response.objects.count() == 4


def test_a_response_id_stays_once_per_source_across_the_tables(practices):
    p1, _ = practices
    load()
    same = dict(practice=p1, responded_on=datetime.date(2024, 4, 1), score=9, source="acme")

    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(**same, response_id="R-2")  # into the shared table
    shared = Response.objects.create(**same, response_id="R-9")
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.filter(pk=shared.pk).update(response_id="R-3")
    Response.objects.create(**{**same, "source": "other"}, response_id="R-2")
    Response.objects.create(**same, response_id=None)
    # An import checks the file's ids itself: the trigger is left out only for it. (The rows
    # above were written around the rollups: this test is about the ids.)
    later = f"{HEADER}\nP-1,2024-04-02,9,R-9,\nP-1,2024-04-02,9,R-10,\n"
    report = surveys_import(stream=io.BytesIO(later.encode()), file_name="later.csv",
                            source="acme")  # fmt: skip
    assert (report.skipped, report.imported) == (1, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(**same, response_id="R-1")


def test_undo_drops_the_table(practices):
    earlier = load(FILE.replace("R-", "E-"), name="earlier.csv")
    report = load()

    undone = survey_import_undo(survey_import_id=report.survey_import_id)

    assert (undone.responses, undone.comments) == (3, 1)
    assert [name for name, _ in partitions()] == [
        "partners_surveyresponse_0", importing.own_table(earlier.survey_import_id)
    ]
    assert Response.objects.count() == 3
    assert list(SurveyComment.objects.values_list("batch", flat=True)) == [
        earlier.survey_import_id
    ]
    assert rollups_differences() == []
    check_deferred_constraints()


def test_import_refused_at_the_attach_leaves_no_table(practices, monkeypatch):
    """A practice deleted while the file was checked: the foreign key refuses as the table is
    attached, and the table goes with the rolled-back transaction."""
    real = importing._Rows.__init__

    def with_a_vanished_practice(self, *args):
        real(self, *args)
        self.practices.ids = {**self.practices.ids, "P-2": 10**9}

    monkeypatch.setattr(importing._Rows, "__init__", with_a_vanished_practice)

    with pytest.raises(SurveyImportRefused):
        load()

    assert partitions() == [("partners_surveyresponse_0", "FOR VALUES IN (0)")]
    assert (Response.objects.count(), SurveyImport.objects.count()) == (0, 0)


def test_one_response_of_a_large_import_is_edited_and_deleted(practices):
    _, p2 = practices
    load()
    first = Response.objects.get(response_id="R-1")

    first.practice, first.score = p2, 3
    services.survey_response_save(response=first)
    assert Response.objects.get(pk=first.pk).practice == p2
    services.survey_responses_delete(queryset=Response.objects.filter(pk=first.pk))

    assert sorted(Response.objects.values_list("response_id", flat=True)) == ["R-2", "R-3"]
    assert SurveyComment.objects.count() == 0
    assert rollups_differences() == []


def test_a_comment_added_by_hand_names_its_responses_table(practices):
    load()
    response = Response.objects.get(response_id="R-2")

    SurveyComment.objects.create(response=response, text="Added later")

    assert SurveyComment.objects.get(response=response).batch == response.batch != 0
    check_deferred_constraints()  # (response_id, batch) is a response
