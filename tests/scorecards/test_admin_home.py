"""The admin's first page: survey files, jobs, the scorecards' state and evidence gaps, each an
empty state when there is nothing; and its Recompute now button."""

import datetime
import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partners.models import SURVEY_IMPORT, SURVEY_PREVIEW, Job, JobStatus
from partners.roles import CONSULTANT
from scorecards.admin_home import COMPUTING, CURRENT, FAILED, NONE, STALE, snapshot_state
from scorecards.models import ScorecardSnapshot
from scorecards.services import COMPUTE_KIND, scorecard_compute
from tests.partners.factories import affiliate, make_mso, make_practice

AS_OF = datetime.date(2026, 6, 1)
HOME = "/admin/"
RECOMPUTE = "/admin/scorecards/recompute/"


@pytest.fixture
def demo(db):
    call_command("seed_demo", scale="tiny", seed=3, as_of=AS_OF.isoformat(), stdout=io.StringIO())


def _quiet_msos(count, start=0):
    """Published MSOs with one practice each and no evidence at all: unranked, and their
    practices have no survey responses."""
    for i in range(start, start + count):
        mso = make_mso(f"Quietwater Partners {i:02d}")
        affiliate(make_practice(f"QW-{i:02d}", name=f"Quietwater Practice {i:02d}"), mso)


def _jobs(count, start=0):
    for i in range(start, start + count):
        Job.objects.create(kind=SURVEY_PREVIEW, status=JobStatus.FAILED,
                           error=f"Line {i}: the file has no score column.")  # fmt: skip
        Job.objects.create(kind=SURVEY_IMPORT, status=JobStatus.SUCCEEDED,
                           payload={"file_name": f"export-{i:02d}.csv"},
                           result={"summary": f"Imported {i} responses."})  # fmt: skip


def _page(client, user):
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_empty_site_says_what_to_do_next_and_keeps_the_tables(client, data_admin):
    ScorecardSnapshot.objects.all().delete()
    page = _page(client, data_admin)
    assert f'href="{reverse("survey_upload")}"' in page and "Upload a survey file" in page
    assert "No survey file has been imported yet" in page
    assert "Nothing is waiting and nothing failed" in page
    assert "No scorecards have been computed yet: press Recompute now." in page
    assert "Once the scorecards are computed, MSOs without enough evidence" in page
    assert "Every practice with an MSO has survey responses this year." in page
    # The usual list of tables is still there, below.
    assert reverse("admin:partners_mso_changelist") in page and "All tables" in page
    assert reverse("user_roles") in page


@pytest.mark.django_db
def test_sections_show_imports_jobs_snapshot_and_evidence_gaps(client, data_admin, demo):
    _quiet_msos(2)
    snapshot = scorecard_compute(as_of=AS_OF)[0]
    _jobs(1)
    waiting = Job.objects.create(kind=COMPUTE_KIND, status=JobStatus.QUEUED)
    page = _page(client, data_admin)
    assert "export-00.csv" in page and "Imported 0 responses." in page
    assert reverse("survey_upload_job", args=[Job.objects.get(kind=SURVEY_IMPORT).pk]) in page
    assert "Jobs to look at (2)" in page  # the failed check and the waiting computation
    assert "Line 0: the file has no score column." in page
    assert f"Scorecard computation #{waiting.pk}" in page and "Waiting to start" in page
    assert f"job #{waiting.pk}, queued" in page  # the snapshot is being replaced
    assert snapshot.methodology.name in page
    unranked = snapshot.scorecards.filter(rank__isnull=True)
    assert f"MSOs not ranked for lack of evidence ({unranked.count()})" in page
    for card in unranked.filter(mso__name__startswith="Quietwater"):
        assert reverse("admin:partners_mso_change", args=[card.mso_id]) in page
    assert (
        "Evidence for 10% of the weight. Missing: patient experience, would choose again, "
        "surgeon trust" in page
    )  # heaviest first
    assert "Quietwater Practice 00" in page and "Quietwater Practice 01" in page
    assert "Ask these practices for this year" in page


@pytest.mark.django_db
def test_the_page_reads_the_same_number_of_queries_however_much_there_is(client, data_admin, demo):
    client.force_login(data_admin)
    _quiet_msos(1)
    _jobs(1)
    scorecard_compute(as_of=AS_OF)
    with CaptureQueriesContext(connection) as few:
        assert client.get(HOME).status_code == 200
    _quiet_msos(25, start=1)
    _jobs(25, start=1)
    scorecard_compute(as_of=AS_OF)  # a new snapshot with 25 more unranked MSOs
    with CaptureQueriesContext(connection) as many:
        page = client.get(HOME).content.decode()
    assert "more on the scorecards page" in page and "16 more in the list of practices" in page
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_snapshot_state_follows_the_latest_computation():
    today = datetime.date(2026, 6, 2)
    computed = timezone.make_aware(datetime.datetime(2026, 6, 2, 8))
    snap = ScorecardSnapshot(data_as_of=today, computed_at=computed)
    old = ScorecardSnapshot(data_as_of=datetime.date(2026, 6, 1), computed_at=computed)

    def job(status, hours=1, error=""):
        return Job(pk=7, kind=COMPUTE_KIND, status=status, error=error,
                   created_at=computed + datetime.timedelta(hours=hours))  # fmt: skip

    assert snapshot_state(snapshot=snap, job=None, today=today)[0] == CURRENT
    assert snapshot_state(snapshot=old, job=None, today=today)[0] == STALE
    assert snapshot_state(snapshot=None, job=None, today=today)[0] == NONE
    assert snapshot_state(snapshot=snap, job=job(JobStatus.QUEUED), today=today)[0] == COMPUTING
    assert snapshot_state(snapshot=None, job=job(JobStatus.RUNNING), today=today)[0] == COMPUTING
    state, text = snapshot_state(snapshot=snap, job=job(JobStatus.FAILED, error="Boom."),
                                 today=today)  # fmt: skip
    assert state == FAILED and "Boom." in text
    # A failure before the snapshot was computed is history.
    assert snapshot_state(snapshot=snap, job=job(JobStatus.FAILED, hours=-1),
                          today=today)[0] == CURRENT  # fmt: skip


@pytest.mark.django_db
def test_recompute_now_creates_the_job_and_enqueues_it(
    client, data_admin, django_capture_on_commit_callbacks, compute_sent
):
    client.force_login(data_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RECOMPUTE, follow=True)
    job = Job.objects.get(kind=COMPUTE_KIND)
    assert compute_sent == [((job.pk,), 0)]
    assert job.created_by == data_admin
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert f"Recomputation queued (job #{job.pk})" in response.content.decode()


@pytest.mark.django_db
def test_recompute_now_refuses_get_and_other_people(client, data_admin, surgeon):
    assert reverse("admin:scorecards_recompute") == RECOMPUTE
    client.force_login(data_admin)
    assert client.get(RECOMPUTE).status_code == 405
    staff_consultant = User.objects.create_user("staffer", is_staff=True)
    staff_consultant.groups.add(Group.objects.get(name=CONSULTANT))
    client.force_login(staff_consultant)
    assert client.post(RECOMPUTE).status_code == 403
    client.force_login(surgeon)
    assert client.post(RECOMPUTE).status_code == 302  # to the admin's login
    assert not Job.objects.exists()
    # Without the data admin role the page has no button.
    client.force_login(staff_consultant)
    assert "Recompute now</button>" not in client.get(HOME).content.decode()


@pytest.mark.django_db
def test_more_silent_practices_link_to_all_of_them_in_the_practice_list(client, data_admin):
    _quiet_msos(12)
    client.force_login(data_admin)
    page = client.get(HOME)
    silent = page.context["silent_practices"]
    link = reverse("admin:partners_practice_changelist") + "?responses_this_year=none"
    assert f'<a href="{link}">2 more in the list of practices</a>' in page.content.decode()
    listed = client.get(link).context["cl"]
    assert listed.result_count == silent.count == 12
    assert {p.code for p in listed.result_list} >= {p.code for p in silent.rows}
