"""Consultant reports in this process: the PDF's text against the snapshot, privacy, the URL
fetcher, reproducibility, failure and retry, the pages and their permissions, the command.

Renders are small (2 or 3 MSOs of the tiny demo data) to keep the suite fast."""

import http.server
import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.urls import reverse
from pypdf import PdfReader

from partners.models import MSO, JobStatus, SurveyComment
from partners.roles import CONSULTANT
from scorecards.models import MsoScorecard, Report
from scorecards.reports import render as report_render_module
from scorecards.reports.content import SECTIONS
from scorecards.reports.render import StaticOnlyFetcher, html_pdf, report_pdf, static_file
from scorecards.reports.services import (
    TOO_FEW_MSOS,
    report_create,
    report_retry,
    too_long_message,
)
from scorecards.services import scorecard_compute
from scorecards.templatetags.scorecards import criterion_view
from tests.conftest import _user, run_jobs

pytestmark = pytest.mark.django_db

CLIENT = "Lakeside Oral Surgery"
MARKER = "ZQXCOMMENTMARKER"


@pytest.fixture
def snapshot(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", scale="tiny", seed=3, stdout=io.StringIO())
    SurveyComment.objects.update(text=f"{MARKER} my jaw surgery and my medication")
    snapshot, _ = scorecard_compute()
    return snapshot


def _slugs(snapshot, n):
    return list(MsoScorecard.objects.filter(snapshot=snapshot).order_by("mso__name")
                .values_list("mso__slug", flat=True)[:n])  # fmt: skip


def _create(user, snapshot, n=3, **inputs):
    inputs = {"client_name": CLIENT, "snapshot": snapshot, "slugs": _slugs(snapshot, n),
              "weights": snapshot.methodology.weights(), **inputs}  # fmt: skip
    return report_create(user=user, **inputs)


def _text(report):
    report.refresh_from_db()
    with report.file.open("rb") as f:
        reader = PdfReader(f)
        return [page.extract_text() for page in reader.pages]


def _rendered(consultant, snapshot, queued, **inputs):
    report = _create(consultant, snapshot, **inputs)
    job = run_jobs(queued)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return report, _text(report)


def test_the_pdf_holds_the_client_the_msos_the_sections_and_the_snapshots_figures(
    consultant, snapshot, queued
):
    report, pages = _rendered(consultant, snapshot, queued)
    text = "\n".join(pages)
    assert report.pages == len(pages) >= 8
    assert report.size == report.file.size
    assert CLIENT in pages[0] and "Dana" not in text
    assert f"snapshot #{snapshot.pk}" in pages[0]
    documents = {d["slug"]: d for d in
                 MsoScorecard.objects.filter(snapshot=snapshot).values_list("document", flat=True)}
    for slug in report.msos:
        assert documents[slug]["name"] in text
    for _, heading in SECTIONS:
        assert heading in text
    assert "Contents" in pages[1]
    assert "Page 2 of" in pages[1]  # page-margin boxes: numbers and running header
    assert f"MSO evaluation for {CLIENT}" in pages[1]

    # Every figure of the criteria table is the snapshot's, on each score's own scale.
    table = next(p for p in pages if "Criteria side by side" in p and "Scores 0–100" in p)
    for slug in report.msos:
        for key, result in documents[slug]["criteria"].items():
            view = criterion_view(result, key)
            if view["ok"]:
                assert floatformat(view["score"], 0) in table
                if view["low"] is not None:
                    low, high = floatformat(view["low"], 0), floatformat(view["high"], 0)
                    assert f"{low}–{high}" in table, (slug, key)
            assert f"n={view['n'] or 0}" in table, (slug, key)

    # Never a patient comment, even though every comment holds the marker.
    assert SurveyComment.objects.filter(text__contains=MARKER).exists()
    assert MARKER not in text and "medication" not in text


def test_rendering_again_gives_the_same_text_and_one_file(consultant, snapshot, queued,
                                                           settings):  # fmt: skip
    report, first = _rendered(consultant, snapshot, queued, n=2)
    # Evidence changing after the report does not change it: the profile facts were frozen.
    MSO.objects.filter(slug=report.msos[0]).update(clinical_autonomy_terms="Changed later.")
    report.job.status = JobStatus.FAILED
    report.job.save()
    report_retry(report=report)
    job = run_jobs(queued)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert _text(report) == first
    files = list((settings.MEDIA_ROOT / "reports").iterdir())
    assert [f.name for f in files] == [f"report-{report.pk}.pdf"]


def test_the_sections_chosen_are_the_sections_rendered(consultant, snapshot, queued):
    _, pages = _rendered(consultant, snapshot, queued, n=2, sections=["summary"])
    text = "\n".join(pages)
    assert "Executive summary" in text
    assert "Methodology appendix" not in text and "Criteria side by side" not in text


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    _CountingHandler.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _CountingHandler.hits
    server.shutdown()


def test_the_url_fetcher_serves_static_files_and_refuses_other_hosts_and_files(local_server):
    url, hits = local_server
    fetcher = StaticOnlyFetcher()
    html = (f'<link rel="stylesheet" href="/static/css/report.css"><p>x</p>'
            f'<img src="{url}/tracker.png"><img src="file:///etc/passwd">'
            f'<img src="/static/../../../../etc/passwd"><img src="/static/%2e%2e/settings.py">')
    pdf, _ = html_pdf(html, fetcher=fetcher)
    assert hits == []
    assert f"{url}/tracker.png" in fetcher.refused
    assert "file:///etc/passwd" in fetcher.refused
    assert len(fetcher.refused) == 4
    assert b"root:" not in pdf


def test_with_debug_off_the_report_gets_its_stylesheet_under_its_hashed_name(settings, tmp_path):
    # A deployed worker's {% static %} writes the manifest's hashed name, which no finder knows.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    call_command("collectstatic", "--no-input", verbosity=0)
    href = static("css/report.css")
    assert href != "/static/css/report.css"
    fetcher = StaticOnlyFetcher()
    html_pdf(f'<link rel="stylesheet" href="{href}"><p>x</p>', fetcher=fetcher)
    assert fetcher.refused == []
    assert static_file("css/report.css")  # the source name still works


def test_html_in_a_client_name_and_an_mso_text_is_shown_as_text(consultant, snapshot, queued,
                                                                 local_server, monkeypatch):
    url, hits = local_server
    fetchers = []
    real = report_render_module.StaticOnlyFetcher

    def recording():
        fetchers.append(real())
        return fetchers[-1]

    monkeypatch.setattr(report_render_module, "StaticOnlyFetcher", recording)
    slugs = _slugs(snapshot, 2)
    MSO.objects.filter(slug=slugs[0]).update(
        clinical_autonomy_terms='Full autonomy <img src="file:///etc/passwd"> always.')
    client = f'Dr. Evil <img src="{url}/x.png">'
    report, pages = _rendered(consultant, snapshot, queued, n=2, client_name=client)
    text = "\n".join(pages)
    assert client in text
    assert '<img src="file:///etc/passwd">' in text
    assert hits == []
    assert fetchers and all(f.refused == [] for f in fetchers)  # no <img> was ever made


def test_a_failed_render_shows_why_and_retry_renders_it(client, consultant, snapshot, queued,
                                                        monkeypatch):
    def broken(report):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("scorecards.reports.services.report_pdf", broken)
    report = _create(consultant, snapshot, n=2)
    job = run_jobs(queued)
    assert job.status == JobStatus.FAILED and job.error == "Unexpected error: RuntimeError"
    client.force_login(consultant)
    page = client.get(reverse("report_detail", args=[report.pk])).content.decode()
    assert "could not be rendered: Unexpected error: RuntimeError" in page
    assert "Try again" in page and "hx-trigger" not in page

    monkeypatch.setattr("scorecards.reports.services.report_pdf", report_pdf)
    response = client.post(reverse("report_retry", args=[report.pk]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.job_id != job.pk and report.status == JobStatus.QUEUED
    assert run_jobs(queued).status == JobStatus.SUCCEEDED
    page = client.get(reverse("report_detail", args=[report.pk])).content.decode()
    assert "Download the PDF" in page
    download = client.get(reverse("report_download", args=[report.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_past_the_soft_time_limit_the_report_fails_with_the_reason(consultant, snapshot,
                                                                   queued, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def slow(report):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("scorecards.reports.services.report_pdf", slow)
    _create(consultant, snapshot, n=2)
    job = run_jobs(queued)
    assert job.status == JobStatus.FAILED and job.error == too_long_message()


def test_the_hard_time_limit_fails_the_report_with_the_reason(consultant, snapshot, queued):
    from celery.exceptions import TimeLimitExceeded

    from scorecards.tasks import report_render

    report = _create(consultant, snapshot, n=2)
    job_id = queued.pop()
    # What the worker's main process calls after killing a render past the hard limit.
    report_render.on_failure(TimeLimitExceeded(150), "id", (job_id,), {}, None)
    report.job.refresh_from_db()
    assert report.job.status == JobStatus.FAILED and report.job.error == too_long_message()


# --- Pages and permissions ---


def _builder_post(snapshot, slugs, **extra):
    data = {"client_name": CLIENT, "msos": slugs, "snapshot": snapshot.pk,
            "weights_from": "methodology", "sections": [k for k, _ in SECTIONS],
            "paper": "a4", **{f"weight_{k}": w for k, w in snapshot.methodology.weights().items()}}
    data.update(extra)
    return data


def test_the_builder_creates_a_queued_report_and_sends_it_after_commit(client, consultant,
                                                                       snapshot, queued):
    client.force_login(consultant)
    page = client.get(reverse("report_new"))
    assert page.status_code == 200 and b'id="mso-search"' in page.content
    slugs = _slugs(snapshot, 3)
    response = client.post(reverse("report_new"), _builder_post(snapshot, slugs))
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "report_detail", args=[report.pk])
    assert report.msos == slugs and report.paper == "a4" and report.status == JobStatus.QUEUED
    assert queued == [report.job_id]
    status = client.get(reverse("report_detail", args=[report.pk]), headers={"HX-Request": "true"})
    assert b'hx-trigger="every 1s"' in status.content and b"<progress" in status.content


@pytest.mark.parametrize("change, error", [
    ({"msos": "one"}, TOO_FEW_MSOS),
    ({"weights_from": "own", "weight_surgeon_trust": 50},
     "The weights must add up to 100 (they add up to 135)."),
])  # fmt: skip
def test_the_builder_refuses_bad_input_with_the_reason(client, consultant, snapshot, queued,
                                                       change, error):
    client.force_login(consultant)
    data = _builder_post(snapshot, _slugs(snapshot, 3))
    if change.get("msos") == "one":
        change = {"msos": _slugs(snapshot, 1)}
    data.update(change)
    response = client.post(reverse("report_new"), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Report.objects.exists() and queued == []


def test_the_clients_own_weights_are_used(client, consultant, snapshot, queued):
    client.force_login(consultant)
    weights = dict.fromkeys(snapshot.methodology.weights(), 0)
    weights["surgeon_trust"], weights["patient_experience"] = 60, 40
    data = _builder_post(snapshot, _slugs(snapshot, 2), weights_from="own",
                         **{f"weight_{k}": w for k, w in weights.items()})
    client.post(reverse("report_new"), data)
    assert Report.objects.get().weights == weights


def test_another_consultants_report_is_404_by_id(client, consultant, snapshot, queued):
    report = _create(consultant, snapshot, n=2)
    other = _user("other-consultant", CONSULTANT)
    client.force_login(other)
    for name in ("report_detail", "report_download"):
        assert client.get(reverse(name, args=[report.pk])).status_code == 404
    assert client.post(reverse("report_retry", args=[report.pk])).status_code == 404
    assert CLIENT not in client.get(reverse("report_history")).content.decode()


def test_surgeons_cannot_make_reports(client, surgeon, snapshot):
    client.force_login(surgeon)
    assert client.get(reverse("report_new")).status_code == 403
    assert client.get(reverse("report_history")).status_code == 403


def test_the_history_lists_the_consultants_reports_with_size_and_download(
    client, consultant, snapshot, queued
):
    report, _ = _rendered(consultant, snapshot, queued, n=2)
    client.force_login(consultant)
    page = client.get(reverse("report_history")).content.decode()
    names = report.facts["msos"]
    assert CLIENT in page and reverse("report_download", args=[report.pk]) in page
    assert all(names[slug]["name"] in page for slug in report.msos)
    assert f"#{snapshot.pk}" in page and "KB" in page


# --- The command ---


def test_render_report_writes_the_pdf(snapshot, tmp_path):
    out = tmp_path / "r.pdf"
    stdout = io.StringIO()
    call_command("render_report", msos=",".join(_slugs(snapshot, 2)), out=str(out),
                 client="Command Client", stdout=stdout)  # fmt: skip
    assert "Wrote" in stdout.getvalue()
    assert "Command Client" in PdfReader(out).pages[0].extract_text()
    assert not Report.objects.exists()


@pytest.mark.parametrize("args, message", [
    ({"msos": "nope,other"}, "Unknown MSO: nope, other."),
    ({"msos": "ONE"}, TOO_FEW_MSOS),
    ({"msos": "MANY"}, "Choose at most 12 MSOs."),
    ({"weights": "surgeon_trust=50"}, "The weights must add up to 100 (they add up to 135)."),
    ({"weights": "trust=5"}, "'trust=5' is not criterion=number"),
    ({"snapshot": 999}, "No snapshot #999."),
])  # fmt: skip
def test_render_report_refuses_bad_input_with_a_clear_message(snapshot, tmp_path, args,
                                                              message):
    slugs = _slugs(snapshot, 2)
    if args.get("msos") == "ONE":
        args["msos"] = slugs[0]
    elif args.get("msos") == "MANY":
        args["msos"] = ",".join(f"m{i}" for i in range(13))
    args = {"msos": ",".join(slugs), "out": str(tmp_path / "r.pdf"), **args}
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("render_report", **args)
    assert not (tmp_path / "r.pdf").exists()


def test_render_report_without_a_snapshot_exits_1(db, tmp_path):
    with pytest.raises(CommandError, match="No scorecard snapshot has been computed yet"):
        call_command("render_report", msos="a,b", out=str(tmp_path / "r.pdf"))


def test_generating_and_downloading_a_report_enter_the_audit_trail(client, consultant, snapshot,
                                                                   queued):
    from auditlog.models import LogEntry

    report, _ = _rendered(consultant, snapshot, queued, n=2)
    client.force_login(consultant)
    assert client.get(reverse("report_download", args=[report.pk])).status_code == 200
    entries = LogEntry.objects.filter(object_pk=str(report.pk), action=LogEntry.Action.ACCESS)
    assert sorted(e.changes_dict["report"][1] for e in entries) == ["downloaded", "generated"]
    assert {e.actor for e in entries} == {consultant}


def test_an_unranked_mso_gets_no_total_anywhere_in_the_pdf(consultant, snapshot, queued):
    cards = list(MsoScorecard.objects.filter(snapshot=snapshot).select_related("mso"))
    # 85 on promise keeping, 15 on support breadth: MSOs without enough promises cover 15% of
    # the weight, and used to print a total over it beside the real ones.
    weights = {k: {"promise_keeping": 85, "support_breadth": 15}.get(k, 0)
               for k in snapshot.methodology.weights()}  # fmt: skip
    unranked = [c for c in cards if c.document["criteria"]["promise_keeping"]["status"] != "ok"]
    assert unranked, "the demo data must hold an MSO without enough promises"
    report, pages = _rendered(consultant, snapshot, queued, n=len(cards), weights=weights)
    text = " ".join(" ".join(pages).split())

    assert "(not ranked)" not in text
    assert "of weight" not in text
    assert text.count("not ranked: evidence for 15% of the weight, 60% needed") >= 2 * len(unranked)


def test_every_caption_names_the_weights_used(consultant, snapshot, queued):
    methodology = snapshot.methodology
    _report, pages = _rendered(consultant, snapshot, queued)
    text = " ".join(" ".join(pages).split())

    used = f"the weights of {methodology.name} v{methodology.version}"
    assert "client's weights" not in text and "client's own weights" not in text
    assert f"Total score with {used} (0–100)" in text
    assert f"Weights used: {used}" in text
    assert f"with {used}" in text.split("Executive summary", 2)[-1]

    weights = {**methodology.weights(), "patient_experience": 30, "support_breadth": 0}
    weights["would_choose_again"] -= 5
    _report, pages = _rendered(consultant, snapshot, queued, weights=weights)
    text = " ".join(" ".join(pages).split())
    assert "Total score with the client's weights (0–100)" in text
    assert "Weights used: the client's weights" in text


def test_the_pdf_writes_dates_and_counts_one_way(consultant, snapshot, queued):
    import re

    _report, pages = _rendered(consultant, snapshot, queued, n=4)
    text = " ".join(" ".join(pages).split())

    assert not re.findall(r"\b20[0-9]{2}-[0-9]{2}-[0-9]{2}\b", text)
    assert not re.findall(r"n=[0-9]{4,}", text)
    assert re.search(r"[A-Z][a-z]{2,4}\.? [0-9]{1,2}, 20[0-9]{2}", text)


def test_a_report_is_prepared_by_the_consultants_name_and_firm(client, consultant, snapshot,
                                                               queued):
    from partners.models import ConsultantProfile

    client.force_login(consultant)
    saved = client.post(reverse("consultant_profile"),
                        {"display_name": "Dana Whitfield", "firm": "Harborline Practice Advisors"})
    assert saved.status_code == 302
    assert str(ConsultantProfile.objects.get(user=consultant)) == (
        "Dana Whitfield, Harborline Practice Advisors")

    builder = client.get(reverse("report_new")).content.decode()
    assert 'name="prepared_by" value="Dana Whitfield"' in builder.replace("  ", " ")
    assert 'value="Harborline Practice Advisors"' in builder

    _report, pages = _rendered(consultant, snapshot, queued)
    cover = " ".join(pages[0].split())
    assert "Prepared by Dana Whitfield, Harborline Practice Advisors" in cover
    assert consultant.username not in cover

    history = client.get(reverse("report_history")).content.decode()
    assert "Dana Whitfield, Harborline Practice Advisors" in history


def test_render_report_takes_the_name_and_the_firm(snapshot, tmp_path):
    out = tmp_path / "r.pdf"
    call_command("render_report", "--msos", ",".join(_slugs(snapshot, 2)), "--out", str(out),
                 "--prepared-by", "Ada Quill", "--firm", "Quill & Co.", stdout=io.StringIO())
    cover = " ".join(PdfReader(out).pages[0].extract_text().split())
    assert "Prepared by Ada Quill, Quill & Co." in cover


def test_the_body_speaks_plainly_and_the_statistics_wait_for_the_appendix(consultant, snapshot,
                                                                          queued):
    _report, pages = _rendered(consultant, snapshot, queued, n=4)
    text = " ".join(" ".join(pages).split())
    # The appendix starts at its second mention: the first is in the table of contents.
    start = text.index("Methodology appendix", text.index("Methodology appendix") + 1)
    body, appendix = text[:start], text[start:]

    for jargon in ("|z|", "1.96", "adjusted Wald", "Rocks 2016", "re-weightings",
                   "(NPS + 100) / 2", "pseudo"):  # fmt: skip
        assert jargon not in body, jargon
    assert "1.96" in appendix and "adjusted Wald" in appendix
    assert "keeps its rank when every weight changes by up to half" in body


def test_the_summary_in_words_states_the_tables_figures(consultant, snapshot, queued):
    import re

    report, pages = _rendered(consultant, snapshot, queued, n=4)
    text = " ".join(" ".join(pages).split())
    start = text.index("Executive summary", text.index("Executive summary") + 1)
    summary = text[start + len("Executive summary"):]
    summary = summary[:summary.index("Statistical ties")]

    lead = re.search(r"(.+?) leads with a total of ([0-9.]+) of 100 with .+?, ([0-9.]+) points "
                     r"ahead of (.+?) \(([0-9.]+)\)\.", summary)  # fmt: skip
    assert lead, summary[:400]
    cards = {c.document["name"]: c.document for c in MsoScorecard.objects.filter(
        snapshot=snapshot, mso__slug__in=report.msos)}  # fmt: skip
    first, second = lead.group(1).strip(), lead.group(4)
    assert first in cards and second in cards
    # The table's rows (rank, name, total) say the same totals.
    for name, total in ((first, lead.group(2)), (second, lead.group(5))):
        assert re.search(rf"{re.escape(name)} {re.escape(total)} ", summary), name
    assert float(lead.group(3)) == pytest.approx(
        float(lead.group(2)) - float(lead.group(5)), abs=0.11)


def test_pages_read_well(consultant, snapshot, queued):
    import re

    count = MsoScorecard.objects.filter(snapshot=snapshot).count()
    _report, pages = _rendered(consultant, snapshot, queued, n=count)
    names = list(MsoScorecard.objects.filter(snapshot=snapshot)
                 .values_list("mso__name", flat=True))  # fmt: skip
    for number, page in enumerate(pages, 1):
        lines = [line for line in page.splitlines() if line.strip()]
        # The running header and footer are 3 lines: a page holds more than a stray line or two.
        assert len(lines) > 3 + 3, (number, lines)
        quotes = re.findall(r"“([^”]{15,})”", page)
        assert len(quotes) == len(set(quotes)), number  # no quote twice on a page
        # Each MSO's section starts on a page of its own: the page's header names it.
        leads = [n for n in names if re.search(rf"{re.escape(n)}\s*\n\s*(Rank \d+ of|Not ranked)",
                                               page)]  # fmt: skip
        assert len(leads) <= 1, (number, leads)
