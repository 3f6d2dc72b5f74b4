"""NPS rollups: promoters, passives and detractors per practice per month, and per MSO per month.

Every NPS read goes through these tables, so reads cost practices (or MSOs) x months however
many responses there are. They are derived from the raw responses and must stay equal to them:
every change to responses or affiliations calls one of the functions here inside its own
transaction, and ``manage.py verify_rollups`` recomputes everything and compares.

A response counts for the MSO its practice belonged to on the response's day. The counts are
applied as deltas: a grouped query (practice, MSO, month, counts) is added to or subtracted from
both tables, and rows that reach zero are deleted. The SQL runs on PostgreSQL and SQLite alike;
only the month expression differs.
"""

from django.db import connection

PRACTICE_TABLE = "partners_practicenpsmonth"
MSO_TABLE = "partners_msonpsmonth"
DELTA = "rollup_delta"


def month_sql(column):
    """SQL for the first day of the month of a date column (``%`` doubled for params)."""
    if connection.vendor == "postgresql":
        # On a timestamp, not the timestamp with time zone a date is cast to by default:
        # the same month, without converting a million dates to the session's zone.
        return f"date_trunc('month', {column}::timestamp)::date"
    return f"strftime('%%Y-%%m-01', {column})"


SCORE_COUNTS = """
    SUM(CASE WHEN r.score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN r.score IN (7, 8) THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN r.score <= 6 THEN 1 ELSE 0 END) AS detractors
"""


def grouped_responses_sql(responses_sql):
    """Group rows (practice_id, responded_on, score) into per practice, MSO and month counts."""
    month = month_sql("r.responded_on")
    return f"""
        SELECT r.practice_id, a.mso_id, {month} AS month, {SCORE_COUNTS}
        FROM ({responses_sql}) r
        LEFT JOIN partners_affiliation a
          ON a.practice_id = r.practice_id
         AND a.started_on <= r.responded_on
         AND (a.ended_on IS NULL OR a.ended_on >= r.responded_on)
        GROUP BY r.practice_id, a.mso_id, {month}
    """


def _apply_delta(cursor, sign):
    """Add (sign 1) or subtract (sign -1) the counts in the temp table DELTA from both rollups."""
    counts = "promoters, passives, detractors"
    if sign > 0:
        for where, target in (
            ("mso_id IS NOT NULL", "(practice_id, month, mso_id) WHERE mso_id IS NOT NULL"),
            ("mso_id IS NULL", "(practice_id, month) WHERE mso_id IS NULL"),
        ):
            cursor.execute(f"""
                INSERT INTO {PRACTICE_TABLE} (practice_id, mso_id, month, {counts})
                SELECT practice_id, mso_id, month, {counts} FROM {DELTA} WHERE {where}
                ORDER BY practice_id, month, mso_id
                ON CONFLICT {target} DO UPDATE SET
                    promoters = {PRACTICE_TABLE}.promoters + excluded.promoters,
                    passives = {PRACTICE_TABLE}.passives + excluded.passives,
                    detractors = {PRACTICE_TABLE}.detractors + excluded.detractors
            """, [])  # fmt: skip
        cursor.execute(f"""
            INSERT INTO {MSO_TABLE} (mso_id, month, {counts})
            SELECT mso_id, month, SUM(promoters), SUM(passives), SUM(detractors)
            FROM {DELTA} WHERE mso_id IS NOT NULL GROUP BY mso_id, month ORDER BY mso_id, month
            ON CONFLICT (mso_id, month) DO UPDATE SET
                promoters = {MSO_TABLE}.promoters + excluded.promoters,
                passives = {MSO_TABLE}.passives + excluded.passives,
                detractors = {MSO_TABLE}.detractors + excluded.detractors
        """, [])  # fmt: skip
        return
    # Subtracting only ever removes counts that were added, so every row exists. Rows with
    # and without an MSO are matched apart, so that each join can use its unique index. A
    # row whose counts all leave is deleted at once rather than updated to zeros and then
    # deleted: an update writes a new row version and index entries, a delete only marks.
    for match in ("t.mso_id = d.mso_id", "t.mso_id IS NULL AND d.mso_id IS NULL"):
        cursor.execute(f"""
            DELETE FROM {PRACTICE_TABLE} AS t WHERE EXISTS (
                SELECT 1 FROM {DELTA} d
                WHERE t.practice_id = d.practice_id AND t.month = d.month AND {match}
                  AND t.promoters = d.promoters AND t.passives = d.passives
                  AND t.detractors = d.detractors)
        """, [])  # fmt: skip
        cursor.execute(f"""
            UPDATE {PRACTICE_TABLE} AS t SET
                promoters = t.promoters - d.promoters,
                passives = t.passives - d.passives,
                detractors = t.detractors - d.detractors
            FROM {DELTA} d
            WHERE t.practice_id = d.practice_id AND t.month = d.month AND {match}
        """, [])  # fmt: skip
    cursor.execute(f"""
        UPDATE {MSO_TABLE} AS t SET
            promoters = t.promoters - d.promoters,
            passives = t.passives - d.passives,
            detractors = t.detractors - d.detractors
        FROM (SELECT mso_id, month, SUM(promoters) AS promoters, SUM(passives) AS passives,
                     SUM(detractors) AS detractors
              FROM {DELTA} WHERE mso_id IS NOT NULL GROUP BY mso_id, month) d
        WHERE t.mso_id = d.mso_id AND t.month = d.month
    """, [])  # fmt: skip
    cursor.execute(
        f"DELETE FROM {MSO_TABLE} WHERE promoters = 0 AND passives = 0 AND detractors = 0", []
    )


def _with_delta(delta_sql, params, sign):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DELTA}", [])
        cursor.execute(f"CREATE TEMP TABLE {DELTA} AS {delta_sql}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {DELTA}", [])  # temp tables have no statistics otherwise
        _apply_delta(cursor, sign)
        cursor.execute(f"DROP TABLE {DELTA}", [])


def rollups_add_months(*, months_table, responses_sql):
    """Add responses already counted per practice and month (call right after inserting
    them): ``months_table`` has rows (practice_id, month, first_day, last_day, promoters,
    passives, detractors) counting the responses of ``responses_sql`` (practice_id,
    responded_on, score).

    A month's counts go to the MSO (or none) the practice belonged to on its first day, which
    is the one of every day up to its last unless an affiliation of the practice starts after
    the first day or ends before the last. Such a month is counted again from its responses,
    day by day: rare, and a few rows when it happens."""
    split = """EXISTS (
        SELECT 1 FROM partners_affiliation b WHERE b.practice_id = m.practice_id
          AND ((b.started_on > m.first_day AND b.started_on <= m.last_day)
               OR (b.ended_on >= m.first_day AND b.ended_on < m.last_day)))"""
    split_responses = f"""
        SELECT r.practice_id, r.responded_on, r.score FROM ({responses_sql}) r
        JOIN {months_table} m ON m.practice_id = r.practice_id
         AND r.responded_on BETWEEN m.first_day AND m.last_day
        WHERE {split}
    """
    _with_delta(f"""
        SELECT m.practice_id, a.mso_id, m.month, m.promoters, m.passives, m.detractors
        FROM {months_table} m
        LEFT JOIN partners_affiliation a
          ON a.practice_id = m.practice_id
         AND a.started_on <= m.first_day
         AND (a.ended_on IS NULL OR a.ended_on >= m.first_day)
        WHERE NOT {split}
        UNION ALL
        {grouped_responses_sql(split_responses)}
    """, [], 1)  # fmt: skip


def rollups_remove_import(*, survey_import_id):
    """Subtract the responses of one import (call right before deleting them)."""
    _with_delta(_import_delta_sql(), [survey_import_id], -1)


def _import_delta_sql():
    return grouped_responses_sql(
        "SELECT practice_id, responded_on, score FROM partners_surveyresponse"
        " WHERE survey_import_id = %s"
    )


def rollups_rebuild_practices(*, practice_ids):
    """Recompute the rollups of some practices from their raw responses.

    For changes that move responses between months or MSOs: an edited or deleted
    response, or a changed affiliation.
    """
    ids = sorted({int(pk) for pk in practice_ids if pk is not None})
    if not ids:
        return
    marks = ", ".join(["%s"] * len(ids))
    _with_delta(
        f"SELECT practice_id, mso_id, month, promoters, passives, detractors"
        f" FROM {PRACTICE_TABLE} WHERE practice_id IN ({marks})",
        ids,
        -1,
    )
    _with_delta(
        grouped_responses_sql(
            "SELECT practice_id, responded_on, score FROM partners_surveyresponse"
            f" WHERE practice_id IN ({marks})"
        ),
        ids,
        1,
    )


def rollups_rebuild_all():
    """Recompute every rollup from the raw responses (after bulk loads that bypass imports)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PRACTICE_TABLE}", [])
        cursor.execute(f"DELETE FROM {MSO_TABLE}", [])
    _with_delta(
        grouped_responses_sql(
            "SELECT practice_id, responded_on, score FROM partners_surveyresponse"
        ),
        [],
        1,
    )


def rollups_differences(limit=50):
    """Rows where the rollups differ from a recomputation from the raw responses.

    Returns a list of (table, key, expected counts, stored counts); empty when all agree.
    """
    expected = grouped_responses_sql(
        "SELECT practice_id, responded_on, score FROM partners_surveyresponse"
    )
    counts = "promoters, passives, detractors"
    stored = f"SELECT practice_id, mso_id, month, {counts} FROM {PRACTICE_TABLE}"
    mso_expected = (
        f"SELECT mso_id, month, SUM(promoters), SUM(passives), SUM(detractors)"
        f" FROM ({expected}) e WHERE mso_id IS NOT NULL GROUP BY mso_id, month"
    )
    mso_stored = f"SELECT mso_id, month, {counts} FROM {MSO_TABLE}"
    differences = []
    with connection.cursor() as cursor:
        for table, want, have, key_width in (
            (PRACTICE_TABLE, expected, stored, 3),
            (MSO_TABLE, mso_expected, mso_stored, 2),
        ):
            for label, first, second in (("missing or wrong", want, have),
                                         ("unexpected", have, want)):  # fmt: skip
                cursor.execute(
                    f"SELECT * FROM ({first} EXCEPT {second}) x LIMIT {int(limit)}", []
                )
                for row in cursor.fetchall():
                    differences.append((table, label, tuple(str(v) for v in row[:key_width]),
                                        tuple(int(v) for v in row[key_width:])))  # fmt: skip
    return differences
