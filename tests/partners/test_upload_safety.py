"""Uploads: a size limit enforced while the file arrives, staged files outside the web root
under generated names, and no staged file left behind: after import, refusal, undo, or a
preview nobody confirmed (swept by the worker's beat)."""

import io
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from partners import tasks
from partners.models import Job, SurveyImport
from partners.uploads import upload_stage_file, uploads_sweep

from ..conftest import run_jobs
from .factories import affiliate, make_mso, make_practice
from .test_survey_upload_page import GOOD

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    return tmp_path


def staged(media):
    folder = Path(settings.MEDIA_ROOT) / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def spooled(media):
    return os.listdir(settings.FILE_UPLOAD_TEMP_DIR)


def _file(size, name="big.csv"):
    data = io.BytesIO(b"practice,responded_on,score\n" + b"P-1,2024-01-05,9\n" * (size // 17))
    data.name = name
    return data


@pytest.mark.parametrize("memory", [0, 10 << 20])  # spooled to disk, or kept in memory
def test_a_survey_file_over_the_limit_is_refused_with_the_limit_and_nothing_is_kept(
    client, data_admin, media, settings, queued, memory
):
    settings.UPLOAD_MAX_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = memory
    client.force_login(data_admin)
    response = client.post(reverse("survey_upload"),
                           {"file": _file(3 << 20), "source": "vendor"})  # fmt: skip
    assert response.status_code == 200
    assert "larger than the upload limit of 1 MB (UPLOAD_MAX_MB)" in response.content.decode()
    assert queued == [] and not Job.objects.exists()
    assert staged(media) == [] and spooled(media) == []


def test_a_practice_file_over_the_limit_is_refused(client, data_admin, media, settings):
    settings.UPLOAD_MAX_MB = 1
    client.force_login(data_admin)
    response = client.post(reverse("admin:partners_practice_import"), {"file": _file(2 << 20)})
    assert response.status_code == 200
    assert "larger than the upload limit of 1 MB (UPLOAD_MAX_MB)" in response.content.decode()
    assert staged(media) == [] and spooled(media) == []


def test_a_file_under_the_limit_is_staged_outside_the_web_root_under_a_generated_name(
    client, data_admin, media, queued
):
    client.force_login(data_admin)
    response = client.post(reverse("survey_upload"),
                           {"file": _file(1000, name="../../evil.csv"), "source": "vendor"})
    assert response.status_code == 302
    (token,) = {name.split(".")[0] for name in staged(media)}
    assert len(token) == 32 and "evil" not in token
    path = Path(settings.MEDIA_ROOT) / "uploads" / f"{token}.csv"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    static = [Path(settings.STATIC_ROOT), *map(Path, settings.STATICFILES_DIRS),
              Path(settings.WHITENOISE_ROOT)]  # fmt: skip
    assert not any(path.resolve().is_relative_to(root.resolve()) for root in static)
    assert client.get(f"/media/uploads/{token}.csv").status_code == 404
    assert client.get(f"/uploads/{token}.csv").status_code == 404


def test_no_staged_file_is_left_after_import_refusal_or_undo(client, data_admin, media, queued):
    larkspur = make_mso()
    affiliate(make_practice("P-1"), larkspur)
    affiliate(make_practice("P-2"), larkspur)
    client.force_login(data_admin)
    # Refused by its check: deleted at once.
    bad = io.BytesIO(b"practice,responded_on,score\nP-9,2024-01-05,11\n")
    bad.name = "bad.csv"
    client.post(reverse("survey_upload"), {"file": bad, "source": "vendor"})
    assert run_jobs(queued).status == "failed"
    assert staged(media) == []
    # Checked: kept until the confirmation; imported: deleted.
    good = io.BytesIO(GOOD)
    good.name = "good.csv"
    client.post(reverse("survey_upload"), {"file": good, "source": "vendor"})
    preview = run_jobs(queued)
    assert len(staged(media)) == 2  # the file and its original name
    client.post(reverse("survey_upload_job", args=[preview.pk]))
    assert run_jobs(queued).status == "succeeded"
    assert staged(media) == []
    # Undone: nothing comes back to the disk.
    from partners.surveys.importing import survey_import_undo

    survey_import_undo(survey_import_id=SurveyImport.objects.get().pk)
    assert staged(media) == []


def test_previews_nobody_confirmed_are_swept_after_the_configured_age(media, settings):
    settings.UPLOAD_PREVIEW_HOURS = 2
    old = upload_stage_file(fileobj=io.BytesIO(b"old"), file_name="old.csv")
    new = upload_stage_file(fileobj=io.BytesIO(b"new"), file_name="new.csv")
    three_hours_ago = time.time() - 3 * 3600
    for suffix in (".csv", ".name"):
        os.utime(Path(settings.MEDIA_ROOT) / "uploads" / f"{old}{suffix}",
                 (three_hours_ago, three_hours_ago))  # fmt: skip
    assert tasks.uploads_sweep() == 2
    assert staged(media) == [f"{new}.csv", f"{new}.name"]
    settings.UPLOAD_PREVIEW_HOURS = 0
    assert uploads_sweep() == 2 and staged(media) == []


def test_the_worker_beat_sweeps_the_uploads():
    entry = settings.CELERY_BEAT_SCHEDULE["uploads-sweep"]
    assert entry["task"] == "partners.tasks.uploads_sweep" == tasks.uploads_sweep.name
    assert entry["schedule"] > 0
