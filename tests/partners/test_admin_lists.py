"""The admin lists over the big tables (survey responses, comments, affiliations, the audit
log) are a LIMIT over an index: a fixed number of queries, none reading a whole table."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partners.models import (
    PracticeNpsMonth,
    ServiceArea,
    SurveyComment,
    SurveyImport,
    SurveyResponse,
)

from .factories import affiliate, make_mso, make_practice

pytestmark = pytest.mark.django_db

BIG_TABLES = [
    "partners_surveyresponse", "partners_surveycomment", "partners_affiliation",
    "auditlog_logentry",
]  # fmt: skip


def outer_statement(sql):
    """``sql`` without its parenthesized subqueries (which read small tables, or are
    judged by the statement they filter)."""
    out, depth, i = [], 0, 0
    while i < len(sql):
        if depth == 0 and sql.startswith("(SELECT", i):
            depth = 1
            i += len("(SELECT")
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
        else:
            out.append(sql[i])
        i += 1
    return "".join(out)


def scans(queries):
    """The statements that would read a whole big table: a count, DISTINCT or aggregate
    with no WHERE, a read with neither WHERE nor LIMIT, or a LIKE search on it."""
    found = []
    for query in queries:
        sql = outer_statement(query["sql"])
        if not sql.startswith("SELECT") or not any(f'"{t}"' in sql for t in BIG_TABLES):
            continue
        where = " WHERE " in sql
        if (
            (not where and " LIMIT " not in sql)
            or ("COUNT(" in sql and not where)
            or " LIKE " in sql
        ):
            found.append(query["sql"])
    return found


def test_scans_finds_what_a_default_admin_list_does():
    queries = [
        {"sql": 'SELECT COUNT(*) AS "__count" FROM "partners_surveyresponse"'},
        {"sql": 'SELECT DISTINCT "partners_surveyresponse"."source" FROM '
                '"partners_surveyresponse" ORDER BY 1 ASC'},
        {"sql": 'SELECT "partners_surveyresponse"."id" FROM "partners_surveyresponse" INNER '
                'JOIN "partners_practice" ON (1) WHERE UPPER("partners_practice"."code"::text) '
                "LIKE UPPER('%x%') LIMIT 100"},
    ]  # fmt: skip
    assert scans(queries) == [q["sql"] for q in queries]
    fine = [
        {"sql": 'SELECT "partners_surveyresponse"."id" FROM "partners_surveyresponse" ORDER BY '
                '"partners_surveyresponse"."id" DESC LIMIT 100'},
        {"sql": 'SELECT "partners_affiliation"."id" FROM "partners_affiliation" WHERE '
                '"partners_affiliation"."practice_id" IN (SELECT U0."id" FROM '
                '"partners_practice" U0 WHERE UPPER(U0."name"::text) LIKE UPPER(\'%x%\'))'},
        {"sql": 'EXPLAIN (FORMAT JSON) SELECT * FROM "partners_surveyresponse"'},
    ]  # fmt: skip
    assert scans(fine) == []


@pytest.fixture
def evidence():
    mso = make_mso()
    practices = [make_practice(f"P-{i}") for i in range(3)]
    for practice in practices:
        affiliate(practice, mso)
    survey_import = SurveyImport.objects.create(
        source="vendor-a", file_name="a.csv", checksum="0" * 64, rows=9
    )
    responses = SurveyResponse.objects.bulk_create(
        SurveyResponse(
            practice=practices[i % 3], responded_on=datetime.date(2025, 1, 1 + i), score=i,
            source="vendor-a", response_id=f"R-{i}", survey_import=survey_import, line=i + 2,
        )
        for i in range(9)
    )  # fmt: skip
    SurveyComment.objects.bulk_create(
        SurveyComment(response=response, text="Kind staff.") for response in responses[:4]
    )
    return survey_import, practices


LISTS = {
    "admin:partners_surveyresponse_changelist": [
        {},
        {"score": "3"},
        {"source": "vendor-a"},
        {"q": "P-1"},
        {"q": "R-4"},
        {"q": "#1"},
    ],
    "admin:partners_surveycomment_changelist": [{}, {"q": "P-1"}, {"q": "R-2"}],
    "admin:partners_affiliation_changelist": [{}, {"q": "P-1"}, {"q": "Larkspur"}],
    "admin:auditlog_logentry_changelist": [{}, {"action": "0"}, {"q": "dataadmin"}],
}
CASES = [(url, params) for url, cases in LISTS.items() for params in cases]


@pytest.mark.parametrize(("url", "params"), CASES)
def test_admin_lists_read_no_whole_table(client, data_admin, evidence, url, params):
    client.force_login(data_admin)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse(url), params)
    assert page.status_code == 200
    assert "?e=1" not in page.get("Location", "")
    assert scans(ctx.captured_queries) == []
    assert len(ctx.captured_queries) <= 12


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "P-1"}, {"R-1", "R-4", "R-7"}),
        ({"q": "R-4"}, {"R-4"}),
        ({"q": "#1"}, {f"R-{i}" for i in range(9)}),
        ({"q": "P-"}, set()),  # exact values only
        ({"score": "3"}, {"R-3"}),
        ({"source": "vendor-a"}, {f"R-{i}" for i in range(9)}),
    ],
)
def test_responses_search_and_filters_find_exact_values(
    client, data_admin, evidence, params, expected
):
    survey_import, _ = evidence
    if params.get("q") == "#1":
        params = {"q": f"#{survey_import.pk}"}
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_surveyresponse_changelist"), params)
    assert {r.response_id for r in page.context["cl"].result_list} == expected


def test_responses_count_is_an_estimate_unless_asked(client, data_admin, evidence):
    client.force_login(data_admin)
    url = reverse("admin:partners_surveyresponse_changelist")
    page = client.get(url)
    assert page.context["cl"].paginator.estimated
    assert "Count exactly" in page.content.decode()
    # Beside the search box too, an estimate is never written as an exact number.
    estimate = page.context["cl"].result_count
    assert f"about {estimate:,} results" in page.content.decode()
    assert f">{estimate} results" not in page.content.decode()
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url, {"count": "exact"})
    assert not page.context["cl"].paginator.estimated
    assert page.context["cl"].result_count == 9
    assert any("COUNT(*)" in q["sql"] for q in ctx.captured_queries)
    # A filter that keeps few rows is counted exactly.
    page = client.get(url, {"score": "3"})
    assert page.context["cl"].result_count == 1
    assert not page.context["cl"].paginator.estimated


def test_source_filter_offers_the_imports_sources(client, data_admin, evidence):
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_surveyresponse_changelist"))
    filters = {spec.title: spec for spec in page.context["cl"].filter_specs}
    assert [c["display"] for c in filters["source"].choices(page.context["cl"])][1:] == ["vendor-a"]
    assert len(list(filters["score"].choices(page.context["cl"]))) == 12  # All, 0..10


def test_audit_log_stays_read_only(client, data_admin, evidence):
    client.force_login(data_admin)
    page = client.get(reverse("admin:auditlog_logentry_changelist"))
    assert page.status_code == 200
    assert not page.context["has_add_permission"]
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403


def test_mso_change_page_queries_do_not_grow_with_its_affiliations_or_services(
    client, data_admin
):
    client.force_login(data_admin)
    counts = []
    for n in (2, 20):
        mso = make_mso(f"MSO {n}")
        for i in range(n):
            affiliate(make_practice(f"P-{n}-{i}"), mso)
        for area in list(ServiceArea)[: n // 2]:  # each row's name reads its MSO
            mso.services.create(area=area, detail="In house.")
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(reverse("admin:partners_mso_change", args=[mso.pk]))
        assert f"P-{n}-{n - 1}" in page.content.decode()
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_practice_change_page_queries_do_not_grow_with_its_affiliations(client, data_admin):
    client.force_login(data_admin)
    counts = []
    for n in (2, 20):
        practice = make_practice(f"P-{n}")
        for i in range(n):
            start = datetime.date(2000 + i, 1, 1)
            affiliate(practice, make_mso(f"MSO {n}-{i}"), started_on=start,
                      ended_on=start + datetime.timedelta(days=300))  # fmt: skip
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(reverse("admin:partners_practice_change", args=[practice.pk]))
        assert f"MSO {n}-{n - 1}" in page.content.decode()
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_practices_without_responses_this_year_are_read_from_the_rollups(client, data_admin):
    today = timezone.localdate()
    mso = make_mso()
    practices = {code: make_practice(code) for code in ("QUIET", "LAST-YEAR", "HEARD", "ALONE",
                                                         "LEFT")}  # fmt: skip
    for code in ("QUIET", "LAST-YEAR", "HEARD"):
        affiliate(practices[code], mso)
    affiliate(practices["LEFT"], mso, ended_on=datetime.date(today.year - 1, 6, 30))
    # Rollup rows only, with no responses behind them: the filter reads the rollups.
    for code, month in (("LAST-YEAR", datetime.date(today.year - 1, 12, 1)),
                        ("HEARD", today.replace(day=1))):  # fmt: skip
        PracticeNpsMonth.objects.create(practice=practices[code], mso=mso, month=month,
                                        promoters=1, passives=0, detractors=0)  # fmt: skip
    client.force_login(data_admin)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("admin:partners_practice_changelist"),
                          {"responses_this_year": "none"})  # fmt: skip
    assert page.status_code == 200
    assert {p.code for p in page.context["cl"].result_list} == {"QUIET", "LAST-YEAR"}
    assert "None, with an MSO today" in page.content.decode()
    assert not [q["sql"] for q in ctx.captured_queries if "partners_surveyresponse" in q["sql"]]


def test_a_search_lists_its_matches_newest_first(client, data_admin, evidence):
    # A search sorts its matches itself (see ListWithoutScans.get_ordering): still newest
    # first, as the list is.
    survey_import, _ = evidence
    client.force_login(data_admin)
    url = reverse("admin:partners_surveyresponse_changelist")
    for term, expected in (("P-1", ["R-7", "R-4", "R-1"]),
                           (f"#{survey_import.pk}", [f"R-{i}" for i in range(8, -1, -1)])):
        page = client.get(url, {"q": term})
        assert [r.response_id for r in page.context["cl"].result_list] == expected
