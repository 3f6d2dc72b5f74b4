"""Each snapshot keeps the benchmarks it was computed with. Snapshots computed before get the
benchmarks of the table as of their data-as-of, which is what their pages showed until now."""

from django.db import migrations, models

DEFAULT_HEALTHCARE_AVERAGE = 46.0  # as scorecards.selectors had it when this was written


def fill(apps, schema_editor):
    Benchmark = apps.get_model("partners", "Benchmark")
    Snapshot = apps.get_model("scorecards", "ScorecardSnapshot")
    for snapshot in Snapshot.objects.all():
        latest = {}
        for row in Benchmark.objects.filter(year__lte=snapshot.data_as_of.year).order_by(
            "key", "-year"
        ):
            latest.setdefault(row.key, row)
        average = latest.get("healthcare_average")
        snapshot.benchmarks = {
            "healthcare_average": float(average.value) if average else DEFAULT_HEALTHCARE_AVERAGE,
            "bands": [[b.name, float(b.value)] for b in latest.values() if b.kind == "band"],
        }
        snapshot.save(update_fields=["benchmarks"])


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_affiliation_no_overlap_and_benchmarks"),
        ("scorecards", "0006_report_firm"),
    ]

    operations = [
        migrations.AddField(
            model_name="scorecardsnapshot",
            name="benchmarks",
            field=models.JSONField(default=dict),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
