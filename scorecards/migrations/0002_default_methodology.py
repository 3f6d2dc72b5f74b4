"""Version 1 of the methodology: the default of the product brief."""

from django.db import migrations
from django.utils import timezone

DEFAULT_WEIGHTS = {
    "patient_experience": 20,
    "practice_consistency": 10,
    "surgeon_trust": 15,
    "would_choose_again": 15,
    "promise_keeping": 15,
    "clinical_autonomy": 10,
    "clinical_excellence": 10,
    "support_breadth": 5,
}


def create(apps, schema_editor):
    Methodology = apps.get_model("scorecards", "Methodology")
    Criterion = apps.get_model("scorecards", "MethodologyCriterion")
    methodology, created = Methodology.objects.get_or_create(
        name="MSO Evaluator default",
        version=1,
        defaults={
            "published": True,
            "published_at": timezone.now(),
            "notes": "The default methodology of the product brief.",
        },
    )
    if created:
        Criterion.objects.bulk_create(
            Criterion(methodology=methodology, key=key, weight=weight)
            for key, weight in DEFAULT_WEIGHTS.items()
        )


def remove(apps, schema_editor):
    apps.get_model("scorecards", "Methodology").objects.filter(
        name="MSO Evaluator default", version=1
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
