"""A job step's time limit and the worker's memory, on a real worker with the prefork pool (as
deployed; the suite's other workers run tasks in their own process, which enforces no time
limit): a check past its limit ends failed, naming it, on the upload page; hostile files end
refused with the limit named, and the process that read each stays far under the memory a
worker process may hold."""

import io
import re
import zipfile

import pytest
from django.conf import settings
from django.urls import reverse

from partners.models import Job, JobStatus, SurveyImport
from partners.tasks import survey_check

from .conftest import start_worker, stop_worker, wait_for
from .partners.factories import affiliate, make_mso, make_practice
from .partners.test_hostile_files import _workbook

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

QUEUE = "limits"
CHECK_LIMIT = 1  # second; a check of a million rows takes several


@pytest.fixture(scope="module")
def prefork_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A prefork worker of one process, replaced after each task, on a queue of its own."""
    with django_db_blocker.unblock():
        proc = start_worker(tmp_path_factory.mktemp("prefork") / "worker.log", "--pool=prefork",
                            "--concurrency=1", "--max-tasks-per-child=1", "--queues", QUEUE)
    yield proc
    stop_worker(proc)


@pytest.fixture
def practice(transactional_db):
    practice = make_practice("P-1")
    affiliate(practice, make_mso())
    return practice


def _check_on_the_worker(client, queued, worker, data, name, **limits):
    """Upload ``data`` on the page, let the prefork worker run its check job and return (the
    job, its page, the peak memory of the process that ran it in KiB). ``limits`` replace the
    task's own: the message carries the limits of the sender's settings to the worker."""
    file = io.BytesIO(data)
    file.name = name
    response = client.post(reverse("survey_upload"), {"file": file, "source": "Press Ganey"})
    assert response.status_code == 302, response.context["form"].errors
    job = Job.objects.get(pk=queued.pop())
    message = survey_check.apply_async((job.pk,), queue=QUEUE, **limits)
    wait_for(lambda: job.refresh_from_db() or job.is_finished, timeout=30, worker=worker)
    wait_for(lambda: f"task {message.id} peak" in worker.log_path.read_text(), worker=worker)
    peak = re.search(rf"task {message.id} peak memory (\d+) KiB", worker.log_path.read_text())
    return job, client.get(response["Location"]).content.decode(), int(peak[1])


def test_a_check_past_its_time_limit_ends_failed_naming_it(client, data_admin, practice, queued,
                                                           prefork_worker):  # fmt: skip
    # About a million responses: a check of several seconds, whatever the machine.
    rows = b"".join(b"P-1,2024-01-%02d,%d\n" % (1 + i % 28, i % 11) for i in range(1_000_000))
    client.force_login(data_admin)

    job, page, _peak = _check_on_the_worker(client, queued, prefork_worker,
                                            b"practice,responded_on,score\n" + rows, "big.csv",
                                            soft_time_limit=CHECK_LIMIT)  # fmt: skip

    assert job.status == JobStatus.FAILED
    assert job.error == "The job was stopped after 1 second, its time limit."
    assert job.error in page and "nothing was imported" in page
    assert job.finished_at is not None and not SurveyImport.objects.exists()


def test_each_step_takes_its_time_limit_from_the_settings():
    from partners.tasks import survey_import, survey_undo
    from scorecards.tasks import scorecard_compute

    for task, limit in [(survey_check, settings.SURVEY_CHECK_TIME_LIMIT),
                        (survey_import, settings.SURVEY_IMPORT_TIME_LIMIT),
                        (survey_undo, settings.SURVEY_UNDO_TIME_LIMIT),
                        (scorecard_compute, settings.SCORECARDS_COMPUTE_TIME_LIMIT)]:
        assert (task.soft_time_limit, task.time_limit) == (limit, limit + 60), task.name


def _bomb(parts=5, declared=1 << 30):
    """A workbook whose directory says it unzips to ``parts`` x ``declared`` bytes."""
    data = bytearray(_workbook(3))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as book:
        names = [info.filename for info in book.infolist()]
    extra = io.BytesIO()
    with zipfile.ZipFile(extra, "w", zipfile.ZIP_DEFLATED) as book:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as source:
            for name in names:
                book.writestr(name, source.read(name))
        for i in range(parts):
            book.writestr(f"xl/media/filler{i}.xml", b"<x/>")
    data = bytearray(extra.getvalue())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:  # each central directory entry
        name_length = int.from_bytes(data[start + 28:start + 30], "little")
        if data[start + 46:start + 46 + name_length].startswith(b"xl/media/filler"):
            data[start + 24:start + 28] = declared.to_bytes(4, "little")
        start += 46
    return bytes(data)


HOSTILE = {
    "wide.csv": (",".join(["practice", "responded_on", "score",
                           *(f"q{i}" for i in range(3, 60_000))]).encode() + b"\n"
                 + b"P-1,2024-01-05,9" + b"," * 59_997 + b"\n",
                 "the header has 60,000 columns; a survey file may have at most 2,000"),
    "long.csv": (b"practice,responded_on,score\nP-1,2024-01-05,9\n" + b"," * 35_000_000 + b"\n",
                 "this line is longer than 1,000,000 characters"),
    "bomb.xlsx": (_bomb(), "The workbook would expand to 5,120 MB once opened"),
}  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_by_the_worker_in_bounded_memory(
        client, data_admin, practice, queued, prefork_worker, name):  # fmt: skip
    data, limit_named = HOSTILE[name]
    client.force_login(data_admin)

    job, page, peak = _check_on_the_worker(client, queued, prefork_worker, data, name,
                                           soft_time_limit=60)  # fmt: skip

    assert job.status == JobStatus.FAILED
    assert limit_named in job.error and limit_named in page
    print(f"{name}: {len(data) / (1 << 20):.1f} MB, worker process peak {peak / 1024:.0f} MB")
    assert peak < settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD / 2
