"""Overlapping affiliations refused by the database itself, and the seeded benchmarks.

Django has no portable way to say "no two date ranges of one practice may
overlap": PostgreSQL gets an exclusion constraint, SQLite gets triggers.
"""

from decimal import Decimal

from django.db import migrations

OVERLAP_MESSAGE = "affiliation_no_overlap: a practice belongs to at most one MSO at a time"

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE partners_affiliation ADD CONSTRAINT affiliation_no_overlap
       EXCLUDE USING gist (practice_id WITH =, daterange(started_on, ended_on, '[]') WITH &&)""",
]
POSTGRES_BACKWARD = ["ALTER TABLE partners_affiliation DROP CONSTRAINT affiliation_no_overlap"]

_SQLITE_CLASH = """
    EXISTS (SELECT 1 FROM partners_affiliation a
            WHERE a.practice_id = NEW.practice_id {exclude_self}
              AND a.started_on <= COALESCE(NEW.ended_on, '9999-12-31')
              AND NEW.started_on <= COALESCE(a.ended_on, '9999-12-31'))
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER affiliation_no_overlap_insert BEFORE INSERT ON partners_affiliation
        WHEN {_SQLITE_CLASH.format(exclude_self="")}
        BEGIN SELECT RAISE(ABORT, '{OVERLAP_MESSAGE}'); END""",
    f"""CREATE TRIGGER affiliation_no_overlap_update BEFORE UPDATE ON partners_affiliation
        WHEN {_SQLITE_CLASH.format(exclude_self="AND a.id != NEW.id")}
        BEGIN SELECT RAISE(ABORT, '{OVERLAP_MESSAGE}'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER affiliation_no_overlap_insert",
    "DROP TRIGGER affiliation_no_overlap_update",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"no overlap constraint for {schema_editor.connection.vendor}"
            )
        for sql in statements:
            schema_editor.execute(sql)

    return run


ARTICLE = "Bain & Company, as quoted in the MSO selection article"
BENCHMARKS = [
    ("nps_good", "Good", "band", Decimal(0), ARTICLE, 2024),
    ("nps_excellent", "Excellent", "band", Decimal(50), ARTICLE, 2024),
    ("nps_world_class", "World-class", "band", Decimal(80), ARTICLE, 2024),
    ("healthcare_average", "Healthcare industry average", "average", Decimal(46),
     "MSO selection article (industry NPS average)", 2024),
]  # fmt: skip


def seed_benchmarks(apps, schema_editor):
    Benchmark = apps.get_model("partners", "Benchmark")
    for key, name, kind, value, source, year in BENCHMARKS:
        Benchmark.objects.get_or_create(
            key=key, year=year, defaults={"name": name, "kind": kind, "value": value,
                                          "source": source},
        )


def unseed_benchmarks(apps, schema_editor):
    Benchmark = apps.get_model("partners", "Benchmark")
    for key, *_rest, year in BENCHMARKS:
        Benchmark.objects.filter(key=key, year=year).delete()


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
        migrations.RunPython(seed_benchmarks, unseed_benchmarks),
    ]
