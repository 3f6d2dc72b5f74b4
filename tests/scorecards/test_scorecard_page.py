"""The scorecard page, its recompute button, the debounce and the API."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from partners.models import Job, JobStatus
from scorecards.models import ScorecardSnapshot
from scorecards.services import COMPUTE_KIND, scorecard_compute, scorecards_request_recompute
from tests.conftest import wait_for

AS_OF = datetime.date(2026, 6, 1)


@pytest.fixture
def snapshot(db):
    call_command("seed_demo", scale="tiny", seed=3, as_of=AS_OF.isoformat(), stdout=io.StringIO())
    return scorecard_compute(as_of=AS_OF)[0]


@pytest.mark.django_db
def test_any_logged_in_user_sees_the_ranked_table(client, surgeon, snapshot):
    client.force_login(surgeon)
    page = client.get(reverse("scorecard")).content.decode()
    assert f"Snapshot #{snapshot.pk}" in page
    assert "June 1, 2026" in page
    assert "MSO Evaluator default v1" in page
    first = snapshot.scorecards.get(rank=1)
    assert first.mso.name in page
    assert f"n={first.document['nps']['n']}" in page
    assert "Recompute now" not in page


@pytest.mark.django_db
def test_insufficient_data_is_shown_as_such(client, surgeon, snapshot):
    client.force_login(surgeon)
    page = client.get(reverse("scorecard")).content.decode()
    insufficient = sum(
        1 for card in snapshot.scorecards.all()
        for c in card.document["criteria"].values() if c["status"] == "insufficient_data"
    ) + sum(1 for card in snapshot.scorecards.all() if card.document["nps"]["status"] != "ok")
    assert insufficient > 0
    assert page.count("Insufficient data") == insufficient


@pytest.mark.django_db
def test_empty_state_before_the_first_snapshot(client, surgeon, data_admin):
    client.force_login(surgeon)
    page = client.get(reverse("scorecard")).content.decode()
    assert "A data admin computes the first snapshot" in page
    client.force_login(data_admin)
    page = client.get(reverse("scorecard")).content.decode()
    assert "Recompute now" in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["surgeon", "consultant", "outsider"])
def test_only_data_admins_may_recompute(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.post(reverse("scorecard_recompute")).status_code == 403
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_recompute_button_queues_a_job_and_shows_its_progress(
    client, data_admin, django_capture_on_commit_callbacks, compute_sent
):
    client.force_login(data_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scorecard_recompute"), HTTP_HX_REQUEST="true")
    job = Job.objects.get(kind=COMPUTE_KIND)
    assert compute_sent == [((job.pk,), 0)]
    assert f"Recomputation queued (job #{job.pk})" in response.content.decode()
    assert f'hx-get="{reverse("scorecard_job", args=[job.pk])}"' in response.content.decode()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=40, message="Scoring")
    polled = client.get(reverse("scorecard_job", args=[job.pk])).content.decode()
    assert 'value="40"' in polled and "Scoring" in polled and "hx-trigger" in polled
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error="No methodology is published"
    )
    done = client.get(reverse("scorecard_job", args=[job.pk])).content.decode()
    assert "failed: No methodology is published" in done
    assert "hx-trigger" not in done  # polling stops


@pytest.mark.django_db
def test_many_requests_within_the_debounce_give_one_queued_job(
    django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("scorecards.tasks.scorecard_compute.apply_async",
                        lambda args, countdown=None, **options: queued.append(
                            countdown or 0))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        jobs = {scorecards_request_recompute().pk for _ in range(5)}
    assert len(jobs) == 1
    assert queued == [30]
    # Once it runs, the next change queues a new computation.
    Job.objects.filter(pk=jobs.pop()).update(status=JobStatus.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        scorecards_request_recompute()
    assert Job.objects.filter(kind=COMPUTE_KIND).count() == 2


@pytest.mark.django_db
def test_api_latest_for_logged_in_users(client, surgeon, snapshot):
    assert client.get(reverse("api_scorecards_latest")).status_code == 401
    client.force_login(surgeon)
    body = client.get(reverse("api_scorecards_latest")).json()
    assert body["snapshot"]["id"] == snapshot.pk
    assert len(body["msos"]) == snapshot.scorecards.count()


@pytest.mark.django_db
def test_api_without_snapshot(client, surgeon):
    client.force_login(surgeon)
    response = client.get(reverse("api_scorecards_latest"))
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_real_worker_computes_a_snapshot(celery_worker):
    call_command("seed_demo", scale="tiny", seed=3, stdout=io.StringIO())
    job = scorecards_request_recompute(countdown=0)

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, worker=celery_worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    snapshot = ScorecardSnapshot.objects.get()
    assert job.result == {"snapshot_id": snapshot.pk, "created": True}
    assert snapshot.job_id == job.pk
    assert snapshot.scorecards.count() == 5


@pytest.mark.django_db
def test_recompute_now_starts_at_once_even_while_an_automatic_one_waits(
    client, data_admin, django_capture_on_commit_callbacks, monkeypatch
):
    from partners.jobs import job_run

    sent = []
    monkeypatch.setattr("scorecards.tasks.scorecard_compute.apply_async",
                        lambda args, countdown=None, task_id=None, **options: sent.append(
                            (args[0], countdown or 0, task_id)))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        waiting = scorecards_request_recompute()  # evidence changed: waits 30 s
    client.force_login(data_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scorecard_recompute"), HTTP_HX_REQUEST="true")
    assert [(pk, countdown) for pk, countdown, _ in sent] == [(waiting.pk, 30), (waiting.pk, 0)]
    waiting.refresh_from_db()
    assert waiting.task_id == sent[1][2]
    # The delayed message, when it arrives, is dropped: the job runs once, from the new one.
    ran = []
    job_run(job_id=waiting.pk, work=ran.append, message_id=sent[0][2])
    assert ran == []
    job_run(job_id=waiting.pk, work=lambda job: ran.append(job) or {}, message_id=sent[1][2])
    assert len(ran) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["surgeon", "data_admin"])
def test_before_the_first_snapshot_the_page_says_it_is_being_computed(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert "No scorecard has been computed yet." in (
        client.get(reverse("scorecard")).content.decode()
    )
    Job.objects.create(kind=COMPUTE_KIND, task="scorecards.tasks.scorecard_compute")
    page = client.get(reverse("scorecard")).content.decode()
    assert "The first scorecard is being computed." in page
    assert "No scorecard has been computed yet." not in page


# --- what each figure says: scale, n, minimum, interval, ties by name, rank stability -----


def _cells(page):
    """The text of each criterion cell of the page, in order."""
    import re

    from django.utils.html import strip_tags

    cells = re.findall(r'<li title="[^"]*">(.*?)</li>', page, flags=re.S)
    return [" ".join(strip_tags(c).split()) for c in cells]


@pytest.mark.django_db
def test_tied_msos_are_named(client, surgeon, snapshot):
    client.force_login(surgeon)
    page = client.get(reverse("scorecard")).content.decode()
    cards = [c.document for c in snapshot.scorecards.all()]
    names = {d["slug"]: d["name"] for d in cards}
    tied = [d for d in cards if d["nps_tied_with"]]
    assert tied, "the demo data has statistically tied MSOs"
    for d in tied:
        others = ", ".join(names[s] for s in d["nps_tied_with"])
        assert f"Statistically tied with {others}".replace("&", "&amp;") in page
    assert "tied with 1<" not in page and "tied with 2<" not in page


@pytest.mark.django_db
def test_rank_stability_is_explained_in_visible_text(client, surgeon, snapshot):
    client.force_login(surgeon)
    page = client.get(reverse("scorecard")).content.decode()
    assert "re-weighted the criteria 1,000 times" in page
    assert "multiplying every weight by a random factor between 0.5 and 1.5" in page
    assert "kept the same rank" in page
    first = snapshot.scorecards.get(rank=1)
    share = round(100 * first.rank_stability)
    assert f"rank holds in {share}% of 1,000 re-weightings" in page
    assert 'title="Share of 1,000 random weightings' not in page  # no longer only a tooltip


@pytest.mark.django_db
def test_every_criterion_cell_states_scale_n_minimum_and_interval(client, surgeon, snapshot):
    from django.template.defaultfilters import floatformat

    from scorecards.scoring import MINIMUM_EVIDENCE

    def f(x):  # as the page rounds: half away from zero
        return floatformat(x, 0)

    client.force_login(surgeon)
    page = client.get(reverse("scorecard")).content.decode()
    cells = _cells(page)
    documents = snapshot_document_msos(snapshot)
    keys = list(snapshot.methodology.weights())
    assert len(cells) == len(documents) * len(keys)
    for i, cell in enumerate(cells):
        document, key = documents[i // len(keys)], keys[i % len(keys)]
        c = document["criteria"][key]
        assert f"n={c['n']} " in cell and f"minimum {MINIMUM_EVIDENCE[key]}" in cell, cell
        if c["status"] == "ok":
            assert f"{f(c['score'])} of 100" in cell, cell
            if key == "support_breadth":
                assert "self-reported, no interval" in cell
            else:
                interval = f"95% interval {f(c['ci_low'])}–{f(c['ci_high'])}"
                assert interval in cell, cell
                assert c["ci_low"] <= c["score"] <= c["ci_high"]
        else:
            assert "Insufficient data" in cell and "of 100" not in cell
    nps = _cells_for("patient_experience", cells, keys)
    assert any("NPS " in cell and "on −100 to 100" in cell for cell in nps)


def snapshot_document_msos(snapshot):
    from scorecards.selectors import snapshot_document

    return snapshot_document(snapshot)["msos"]


def _cells_for(key, cells, keys):
    return cells[keys.index(key)::len(keys)]


@pytest.mark.django_db
def test_an_older_snapshot_is_shown_on_the_score_scale_too(client, surgeon, snapshot):
    """Snapshots are immutable: one computed before the intervals moved onto the score's scale
    still has the NPS interval as patient experience's ci_low/ci_high, and no value_ci."""
    card = snapshot.scorecards.get(rank=1)
    c = card.document["criteria"]["patient_experience"]
    nps_low, nps_high = c["evidence"].pop("value_ci")
    c["ci_low"], c["ci_high"] = nps_low, nps_high
    del c["evidence"]["minimum"]
    card.save(update_fields=["document"])
    client.force_login(surgeon)
    cell = _cells(client.get(reverse("scorecard")).content.decode())[0]
    from django.template.defaultfilters import floatformat

    low, high = (floatformat((x + 100) / 2, 0) for x in (nps_low, nps_high))
    assert f"95% interval {low}–{high}" in cell
    assert "minimum 30 responses" in cell
