"""Who may open what: one table, every URL pattern of the site (the admin's included), every
role. A URL pattern without a row fails ``test_every_url_pattern_has_a_row``.

Each row is ``URL key: (method, answers)``, the answers in the order of ROLES, each one of
  200, 401, 403, 404, 405   that status;
  302                       a redirect to a page other than a login page;
  L                         a redirect to the login page (/login/?next=...);
  A                         a redirect to the admin's login page.
The URL key is the pattern's name (``admin:...`` for the admin's); for an unnamed pattern,
``admin:`` and its route. The arguments of a URL come from ``ARGS`` and the ``world`` fixture.

To add a page: add its row here, and its arguments to ARGS if it takes any.
"""

import datetime
import io

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from partners.models import (
    SURVEY_PREVIEW,
    SURVEY_UNDO,
    Accreditation,
    AggregateNPSSubmission,
    Benchmark,
    Claim,
    Job,
    QualityDesignation,
    SurveyComment,
    SurveyMapping,
    SurveyResponse,
)
from partners.roles import CONSULTANT, DATA_ADMIN, SURGEON
from partners.surveys.importing import surveys_import
from scorecards.models import Methodology, Report, ShortlistEntry
from scorecards.services import COMPUTE_KIND, scorecard_compute

from .partners.factories import affiliate, make_interview, make_mso, make_practice

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "no role", "surgeon", "consultant", "data admin", "superuser")

# The site's own pages.
PAGES = {
    "login":                   ("GET",  "200 200 200 200 200 200"),
    "logout":                  ("POST", "L   L   L   L   L   L"),
    "password_change":         ("GET",  "L   200 200 200 200 200"),
    "password_change_done":    ("GET",  "L   200 200 200 200 200"),
    "password_reset":          ("GET",  "200 200 200 200 200 200"),
    "password_reset_done":     ("GET",  "200 200 200 200 200 200"),
    "password_reset_confirm":  ("GET",  "200 200 200 200 200 200"),
    "password_reset_complete": ("GET",  "200 200 200 200 200 200"),
    "healthz":                 ("GET",  "200 200 200 200 200 200"),
    "home":                    ("GET",  "L   403 200 200 200 200"),
    "directory":               ("GET",  "L   403 200 200 200 200"),
    "mso_profile":             ("GET",  "L   403 200 200 200 200"),
    "compare":                 ("GET",  "L   403 200 200 200 200"),
    "priorities_save":         ("POST", "L   403 302 302 302 302"),
    "directory_priorities":    ("POST", "L   403 200 200 200 200"),
    "mso_year":                ("GET",  "L   403 200 200 200 200"),
    "mso_interviews":          ("GET",  "L   403 200 200 200 200"),
    "scorecard":               ("GET",  "L   403 200 200 200 200"),
    "scorecard_recompute":     ("POST", "L   403 403 403 302 302"),
    # Jobs were started by another data admin: their pages are for data admins only.
    "scorecard_job":           ("GET",  "L   403 404 404 200 200"),
    "api_scorecards_latest":   ("GET",  "401 403 200 200 200 200"),
    # The shortlist entry is another surgeon's: as if it did not exist.
    "shortlist":               ("GET",  "L   403 200 403 403 200"),
    "shortlist_add":           ("POST", "L   403 302 403 403 302"),
    "shortlist_remove":        ("POST", "L   403 404 403 403 404"),
    "shortlist_note":          ("POST", "L   403 404 403 403 404"),
    "shortlist_checklist":     ("POST", "L   403 404 403 403 404"),
    # The interview was recorded by another consultant: consultants edit their own only.
    "interview_list":          ("GET",  "L   403 403 200 200 200"),
    "interview_create":        ("GET",  "L   403 403 200 200 200"),
    "interview_practices":     ("GET",  "L   403 403 200 200 200"),
    "interview_edit":          ("GET",  "L   403 403 403 200 200"),
    "interview_delete":        ("GET",  "L   403 403 403 200 200"),
    "interview_detail":        ("GET",  "L   403 403 200 200 200"),
    "report_history":          ("GET",  "L   403 403 200 200 200"),
    "report_new":              ("GET",  "L   403 403 200 200 200"),
    "consultant_profile":      ("GET",  "L   403 403 200 200 200"),
    # The report was made by another consultant: as if it did not exist, for everyone.
    "report_detail":           ("GET",  "L   403 403 404 404 404"),
    "report_download":         ("GET",  "L   403 403 404 404 404"),
    "report_retry":            ("POST", "L   403 403 404 404 404"),
    "survey_upload":           ("GET",  "L   403 A   A   200 200"),
    # Without a staged export the columns page sends the admin back to the upload.
    "survey_upload_columns":   ("GET",  "L   403 A   A   302 302"),
    "survey_upload_job":       ("GET",  "L   403 A   A   200 200"),
    "survey_undo_job":         ("GET",  "L   403 A   A   200 200"),
    "admin:partners_practice_import": ("GET", "L 403 A A 200 200"),
    # Giving roles: data admins only, whether or not the account is staff.
    "user_roles":              ("GET",  "L   403 403 403 200 200"),
}  # fmt: skip

# The admin: nobody but data admins and superusers (staff) gets in; anonymous users are sent
# to the login, a user without a role is told to ask for access, surgeons and consultants are
# sent to the admin's login (which tells them their account has no access to it).
ADMIN_OTHERS = "L 403 A A"
# The admin site's own views check staff themselves: anonymous users go to its login.
ADMIN_PAGES = {
    # The admin's first page (for data admins) and its Recompute now button.
    "admin:index":                  ("GET",  "A   403 A   A   200 200"),
    "admin:scorecards_recompute":   ("POST", "A   403 A   A   302 302"),
    "admin:login":                  ("GET",  "200 403 200 200 302 302"),
    "admin:logout":                 ("POST", "A   403 302 302 L   L"),
    "admin:password_change":        ("GET",  "A   403 A   A   200 200"),
    "admin:password_change_done":   ("GET",  "A   403 A   A   200 200"),
    "admin:autocomplete":           ("GET",  "A   403 A   A   403 403"),
    "admin:jsi18n":                 ("GET",  "A   403 A   A   200 200"),
    "admin:view_on_site":           ("GET",  "A   403 A   A   404 404"),
    "admin:app_list":               ("GET",  "A   403 A   A   200 200"),
    "admin:admin/(?P<url>.*)$":     ("GET",  "A   403 A   A   404 404"),
    # Setting another user's password: superusers only.
    "admin:auth_user_password_change": ("GET", "L 403 A A 403 200"),
}  # fmt: skip
# Each model's pages, for data admins then superusers:
#   changelist add change delete history (and the unnamed <id>/ redirect to change).
ADMIN_MODELS = {
    "auth_group":                      ("403 403 403 403 403 302", "200 200 200 200 200 302"),
    "auth_user":                       ("403 403 403 403 403 302", "200 200 200 200 200 302"),
    "axes_accessattempt":              ("403 403 403 403 403 302", "200 403 200 200 200 302"),
    "axes_accesslog":                  ("403 403 403 403 403 302", "200 403 200 200 200 302"),
    "axes_accessfailurelog":           ("403 403 403 403 403 302", "200 403 200 200 200 302"),
    # The audit trail: read, never written.
    "auditlog_logentry":               ("200 403 200 403 200 302", "200 403 200 403 200 302"),
    "partners_mso":                    ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_practice":               ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_affiliation":            ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_accreditation":          ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_qualitydesignation":     ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    # Adding an import is uploading a survey file.
    "partners_surveyimport":           ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_surveyresponse":         ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_surveycomment":          ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_aggregatenpssubmission": ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_referenceinterview":     ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_claim":                  ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_benchmark":              ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    "partners_job":                    ("200 403 200 200 200 302", "200 403 200 200 200 302"),
    # Saved survey mappings: made by confirming an import; read and deleted here.
    "partners_surveymapping":          ("200 403 200 200 200 302", "200 403 200 200 200 302"),
    "scorecards_methodology":          ("200 200 200 200 200 302", "200 200 200 200 200 302"),
    # Snapshots are immutable: no add, no change, no delete.
    "scorecards_scorecardsnapshot":    ("200 403 200 403 200 302", "200 403 200 403 200 302"),
}  # fmt: skip
ADMIN_MODEL_VIEWS = ("changelist", "add", "change", "delete", "history")


def _table():
    table = {key: (method, answers.split()) for key, (method, answers) in PAGES.items()}
    table.update((key, (method, answers.split())) for key, (method, answers) in ADMIN_PAGES.items())
    for model, (admin_answers, super_answers) in ADMIN_MODELS.items():
        app, name = model.split("_", 1)
        keys = [f"admin:{model}_{view}" for view in ADMIN_MODEL_VIEWS]
        keys.append(f"admin:admin/{app}/{name}/<path:object_id>/")
        for key, a, s in zip(keys, admin_answers.split(), super_answers.split(), strict=True):
            table[key] = ("GET", ADMIN_OTHERS.split() + [a, s])
    return table


TABLE = _table()


def _url_keys(patterns=None, namespace="", prefix=""):
    """Every URL pattern of the site as its table key, with its route."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_keys(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else f"{namespace}{route}"), route


def test_every_url_pattern_has_a_row():
    keys = dict(_url_keys())
    missing = sorted(set(keys) - set(TABLE))
    assert not missing, f"URL patterns without a row in the permission table: {missing}"
    assert not sorted(set(TABLE) - set(keys)), "rows for URL patterns that no longer exist"


@pytest.fixture
def world(queued):
    """One of each object a URL can name; the owned ones belong to users outside the table."""
    users = {
        "no role": User.objects.create_user("norole", password="pw"),
        "surgeon": _member("surgeon", SURGEON),
        "consultant": _member("consultant", CONSULTANT),
        "data admin": _member("dataadmin", DATA_ADMIN, is_staff=True),
        "superuser": User.objects.create_superuser("root", password="pw"),
    }
    other_surgeon = _member("othersurgeon", SURGEON)
    other_consultant = _member("otherconsultant", CONSULTANT)
    other_admin = _member("otheradmin", DATA_ADMIN, is_staff=True)
    mso = make_mso()
    practice = make_practice()
    affiliation = affiliate(practice, mso)
    interview = make_interview(mso, recorded_by=other_consultant)
    data = b"practice,responded_on,score,comment\nP-1,2025-03-01,9,Fine\n"
    surveys_import(stream=io.BytesIO(data), file_name="s.csv", source="vendor")
    methodology = Methodology.objects.filter(published=True).first()
    snapshot, _ = scorecard_compute(as_of=datetime.date(2025, 6, 1))
    assert snapshot.methodology == methodology
    entry = ShortlistEntry.objects.create(user=other_surgeon, mso=mso)
    report = Report.objects.create(created_by=other_consultant, client_name="Client",
                                   prepared_by="Other consultant", snapshot=snapshot,
                                   msos=[mso.slug, mso.slug], weights=methodology.weights())
    jobs = {kind: Job.objects.create(kind=kind, created_by=other_admin, payload=payload)
            for kind, payload in ((COMPUTE_KIND, {}), (SURVEY_PREVIEW, {"file_name": "s.csv"}),
                                  (SURVEY_UNDO, {"imports": [1]}))}  # fmt: skip
    AccessAttempt.objects.create(username="x", ip_address="10.0.0.1", failures_since_start=1,
                                 user_agent="", get_data="", post_data="", http_accept="",
                                 path_info="/login/")  # fmt: skip
    AccessLog.objects.create(username="x", ip_address="10.0.0.1", user_agent="", http_accept="",
                             path_info="/login/")  # fmt: skip
    AccessFailureLog.objects.create(username="x", ip_address="10.0.0.1", user_agent="",
                                    http_accept="", path_info="/login/", locked_out=False)
    objects = {
        "auth_group": Group.objects.get(name=SURGEON), "auth_user": other_surgeon,
        "axes_accessattempt": AccessAttempt.objects.get(),
        "axes_accesslog": AccessLog.objects.get(),
        "axes_accessfailurelog": AccessFailureLog.objects.get(),
        "partners_mso": mso, "partners_practice": practice, "partners_affiliation": affiliation,
        "partners_accreditation": Accreditation.objects.create(
            practice=practice, body="AAAHC", awarded_on=datetime.date(2020, 1, 1),
            expires_on=datetime.date(2030, 1, 1)),
        "partners_qualitydesignation": QualityDesignation.objects.create(
            practice=practice, name="Center of Excellence", awarded_by="A board",
            awarded_on=datetime.date(2021, 1, 1)),
        "partners_surveyimport": SurveyResponse.objects.get().survey_import,
        "partners_surveyresponse": SurveyResponse.objects.get(),
        "partners_surveycomment": SurveyComment.objects.get(),
        "partners_aggregatenpssubmission": AggregateNPSSubmission.objects.create(
            mso=mso, period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 12, 31),
            promoters=5, passives=3, detractors=2),
        "partners_referenceinterview": interview,
        "partners_claim": Claim.objects.create(mso=mso, statement="We answer in a day."),
        "partners_benchmark": Benchmark.objects.first(),
        "partners_job": jobs[COMPUTE_KIND],
        "partners_surveymapping": SurveyMapping.objects.create(
            tool="qualtrics", practice=practice, score_column="Q1", date_column="RecordedDate"),
        "scorecards_methodology": methodology, "scorecards_scorecardsnapshot": snapshot,
    }  # fmt: skip
    from auditlog.models import LogEntry

    objects["auditlog_logentry"] = LogEntry.objects.first()
    return {"users": users, "mso": mso, "interview": interview, "entry": entry, "jobs": jobs,
            "report": report, "objects": objects}  # fmt: skip


def _member(username, role, **extra):
    user = User.objects.create_user(username, password="pw", **extra)
    user.groups.add(Group.objects.get(name=role))
    return user


def _request_of(key, world):
    """(path, data) of the row's URL, with arguments from the world."""
    jobs, mso = world["jobs"], world["mso"]
    entry, interview, report = world["entry"], world["interview"], world["report"]
    args = {
        "mso_profile": [mso.slug], "mso_year": [mso.slug, 2025], "mso_interviews": [mso.slug],
        "scorecard_job": [jobs[COMPUTE_KIND].pk],
        "shortlist_remove": [entry.pk], "shortlist_note": [entry.pk],
        "shortlist_checklist": [entry.pk, "ownership_autonomy"],
        "interview_edit": [interview.pk], "interview_delete": [interview.pk],
        "interview_detail": [interview.pk], "report_detail": [report.pk],
        "report_download": [report.pk], "report_retry": [report.pk],
        "survey_upload_job": [jobs[SURVEY_PREVIEW].pk], "survey_undo_job": [jobs[SURVEY_UNDO].pk],
        "password_reset_confirm": ["MQ", "set-password"],
        "admin:app_list": ["partners"],
        "admin:view_on_site": [ContentType.objects.get_for_model(mso).pk, mso.pk],
        "admin:auth_user_password_change": [world["objects"]["auth_user"].pk],
    }  # fmt: skip
    data = {"shortlist_add": {"mso": mso.slug}, "shortlist_checklist": {"status": "yes"},
            "compare": {"m": [mso.slug]}}  # fmt: skip
    if key == "admin:admin/(?P<url>.*)$":
        return "/admin/no-such-page/", {}
    if key.startswith("admin:admin/"):
        model = "_".join(key.split("/")[1:3])
        obj = world["objects"][model]
        return f"/admin/{model.replace('_', '/', 1)}/{obj.pk}/", {}
    view = key.rsplit("_", 1)[-1]
    model = key.removeprefix("admin:").removesuffix(f"_{view}")
    if key.startswith("admin:") and model in ADMIN_MODELS and view in ("change", "delete",
                                                                      "history"):  # fmt: skip
        return reverse(key, args=[world["objects"][model].pk]), {}
    return reverse(key, args=args.get(key, [])), data.get(key, {})


def _answer(response):
    if response.status_code != 302:
        return str(response.status_code)
    location = response["Location"]
    if location.startswith(reverse("admin:login")):
        return "A"
    if location.startswith(reverse("login")):
        return "L"
    return "302"


@pytest.mark.parametrize("key", sorted(TABLE))
def test_each_role_gets_the_answer_in_the_table(client, world, key):
    method, expected = TABLE[key]
    path, data = _request_of(key, world)
    got = []
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(world["users"][role])
        send = client.post if method == "POST" else client.get
        got.append(_answer(send(path, data)))
    wrong = [f"{role}: {g} (table: {e})" for role, g, e in zip(ROLES, got, expected, strict=True)
             if g != e]  # fmt: skip
    assert not wrong, f"{method} {path}: " + "; ".join(wrong)


def test_the_table_covers_every_role_for_every_url():
    assert all(len(answers) == len(ROLES) for _, answers in TABLE.values())
    assert len(TABLE) * len(ROLES) > 900  # the matrix's size, URLs x roles


@pytest.mark.parametrize("role", ["anonymous", "superuser"])
def test_every_post_without_a_csrf_token_is_refused(world, role):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    if role != "anonymous":
        client.force_login(world["users"][role])
    accepted = []
    for key in sorted(TABLE):
        path, data = _request_of(key, world)
        response = client.post(path, data)
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append(f"{path}: {response.status_code}")
    assert not accepted, f"POSTs without a CSRF token not refused: {accepted}"
