"""Versioned methodologies: weights sum to 100, published versions are frozen."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from scorecards.models import Methodology
from scorecards.services import methodology_new_version, methodology_publish, scorecard_compute

pytestmark = pytest.mark.django_db
DEFAULT = {"patient_experience": 20, "practice_consistency": 10, "surgeon_trust": 15,
           "would_choose_again": 15, "promise_keeping": 15, "clinical_autonomy": 10,
           "clinical_excellence": 10, "support_breadth": 5}  # fmt: skip


def test_version_one_is_the_default_of_the_brief():
    v1 = Methodology.objects.get(version=1)
    assert v1.published
    assert v1.weights() == DEFAULT


def inline_data(methodology, weights):
    criteria = list(methodology.criteria.order_by("id"))
    data = {
        "name": methodology.name, "notes": "",
        "criteria-TOTAL_FORMS": len(criteria), "criteria-INITIAL_FORMS": len(criteria),
    }  # fmt: skip
    for i, c in enumerate(criteria):
        prefix = f"criteria-{i}-"
        data.update({
            prefix + "id": c.pk, prefix + "methodology": methodology.pk, prefix + "key": c.key,
            prefix + "weight": weights.get(c.key, c.weight),
        })  # fmt: skip
    return data


def change_url(methodology):
    return reverse("admin:scorecards_methodology_change", args=[methodology.pk])


def test_admin_refuses_weights_that_do_not_sum_to_100_and_shows_the_sum(client, data_admin):
    draft = methodology_new_version(methodology=Methodology.objects.get(version=1))
    client.force_login(data_admin)
    response = client.post(change_url(draft), inline_data(draft, {"surgeon_trust": 10}))
    assert "The weights add up to 95; they must add up to 100." in response.content.decode()
    assert draft.weights() == DEFAULT


def test_admin_saves_a_draft_whose_weights_sum_to_100(client, data_admin):
    draft = methodology_new_version(methodology=Methodology.objects.get(version=1))
    client.force_login(data_admin)
    response = client.post(
        change_url(draft), inline_data(draft, {"surgeon_trust": 10, "support_breadth": 10})
    )
    assert response.status_code == 302
    assert draft.weights()["support_breadth"] == 10


def test_published_version_cannot_be_changed_in_the_admin(client, data_admin):
    v1 = Methodology.objects.get(version=1)
    client.force_login(data_admin)
    response = client.post(
        change_url(v1), inline_data(v1, {"surgeon_trust": 10, "support_breadth": 10})
    )
    assert response.status_code == 403
    assert v1.weights() == DEFAULT


def test_publishing_refuses_a_bad_sum():
    draft = methodology_new_version(methodology=Methodology.objects.get(version=1))
    draft.criteria.filter(key="support_breadth").update(weight=1)
    with pytest.raises(ValidationError, match="The weights add up to 96"):
        methodology_publish(methodology=draft)
    draft.refresh_from_db()
    assert not draft.published


def test_a_new_version_is_used_by_new_snapshots_and_old_snapshots_keep_theirs():
    call_command("seed_demo", scale="tiny", seed=3, as_of="2026-06-01", stdout=io.StringIO())
    as_of = datetime.date(2026, 6, 1)
    old, _ = scorecard_compute(as_of=as_of)
    draft = methodology_new_version(methodology=old.methodology)
    assert (draft.version, draft.published) == (2, False)
    draft.criteria.filter(key="surgeon_trust").update(weight=10)
    draft.criteria.filter(key="support_breadth").update(weight=10)
    methodology_publish(methodology=draft)
    new, created = scorecard_compute(as_of=as_of)
    assert created
    assert new.methodology == draft and old.methodology.version == 1
    old.refresh_from_db()
    assert old.methodology.version == 1
    assert old.scorecards.first().document["criteria"]["support_breadth"]["weight"] == 5
    assert new.scorecards.first().document["criteria"]["support_breadth"]["weight"] == 10
