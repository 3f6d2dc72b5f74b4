"""A consultant builds a report in real Chromium, watches its progress bar and downloads the
PDF, rendered by a real report worker. Screenshots at 1280 and 390 px go to
var/test/screenshots/."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from pypdf import PdfReader

from scorecards.services import scorecard_compute

from .conftest import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
SHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.fixture
def snapshot():
    as_of = datetime.date(2026, 6, 1)
    call_command("seed_demo", scale="tiny", seed=3, as_of=as_of.isoformat(), stdout=io.StringIO())
    return scorecard_compute(as_of=as_of)[0]


def _shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_consultant_builds_a_report_watches_it_and_downloads_it(
    request, viewport, live_server, consultant, snapshot, reports_worker, tmp_path
):
    page = request.getfixturevalue(viewport)
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, live_server, "consultant")
    page.goto(f"{live_server.url}/reports/new")
    page.get_by_label("Client", exact=True).fill("Browser Client")
    # The search narrows the MSO list; ticked boxes stay.
    choices = page.locator("#mso-choices .mso-choice")
    assert choices.count() >= 3
    first = choices.nth(0).inner_text().strip()
    page.fill("#mso-search", first[:6])
    assert page.locator("#mso-choices .mso-choice:visible").count() < choices.count()
    page.locator("#mso-choices .mso-choice:visible").first.locator("input").check()
    page.fill("#mso-search", "")
    choices.nth(1).locator("input").check()
    assert page.locator("#mso-count").inner_text() == "2 chosen."
    _shoot(page, "report-new")
    page.get_by_label("A4", exact=True).check()
    page.get_by_role("button", name="Create the report").click()

    # The status page polls with htmx: a progress bar, then the download link, no reload.
    page.wait_for_selector("#report-status")
    page.evaluate("window.notReloaded = true")
    assert page.locator("#report-status progress").count() == 1
    _shoot(page, "report-status")
    download_link = page.get_by_role("link", name="Download the PDF")
    download_link.wait_for(timeout=60_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#report-status[hx-trigger]").count() == 0  # polling stopped
    _shoot(page, "report-done")
    with page.expect_download() as info:
        download_link.click()
    path = tmp_path / "report.pdf"
    info.value.save_as(path)
    reader = PdfReader(path)
    assert "Browser Client" in reader.pages[0].extract_text()
    assert reader.pages[0].mediabox.width == pytest.approx(595.3, abs=1)  # A4

    page.get_by_role("link", name="Your reports").click()
    assert page.locator("table.reports tbody tr").count() == 1
    assert "Browser Client" in page.locator("table.reports").inner_text()
    _shoot(page, "report-history")
    assert errors == []
