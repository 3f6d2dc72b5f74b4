"""A consultant builds a report in real Chromium, watches its progress bar and downloads the
PDF, rendered by a real report worker. Screenshots at 1280 and 390 px go to
var/test/screenshots/."""

import pytest
from pypdf import PdfReader

from .conftest import log_in, shoot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


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
    shoot(page, "report-new")
    page.get_by_label("A4", exact=True).check()
    page.get_by_role("button", name="Create the report").click()

    # The status page polls with htmx: a progress bar, then the download link, no reload.
    page.wait_for_selector("#report-status")
    page.evaluate("window.notReloaded = true")
    assert page.locator("#report-status progress").count() == 1
    shoot(page, "report-status")
    download_link = page.get_by_role("link", name="Download the PDF")
    download_link.wait_for(timeout=60_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#report-status[hx-trigger]").count() == 0  # polling stopped
    shoot(page, "report-done")
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
    shoot(page, "report-history")
    assert errors == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_builder_starts_from_compare_and_totals_the_clients_weights(
    request, viewport, live_server, consultant, snapshot
):
    page = request.getfixturevalue(viewport)
    page.set_default_timeout(15_000)
    log_in(page, live_server, "consultant")
    from scorecards.models import MsoScorecard

    slugs = list(MsoScorecard.objects.filter(snapshot=snapshot, rank__isnull=False)
                 .order_by("rank").values_list("mso__slug", flat=True)[:3])  # fmt: skip
    page.goto(f"{live_server.url}/compare?" + "&".join(f"m={s}" for s in slugs))
    page.click("#build-report")
    page.wait_for_url("**/reports/new?*")

    ticked = page.locator("#mso-choices input:checked")
    assert sorted(ticked.nth(i).get_attribute("value") for i in range(ticked.count())) == sorted(
        slugs)
    assert page.locator("#mso-count").inner_text() == "3 chosen."
    first = page.locator("#weight-boxes input[type=number]").first
    assert first.get_attribute("readonly") is not None  # the methodology's weights: locked
    assert "methodology's weights (total 100)" in page.locator("#weights-total").inner_text()

    page.get_by_label("The client's own weights (below; they must add up to 100)").check()
    assert first.get_attribute("readonly") is None
    first.fill(str(int(first.input_value()) + 5))
    assert "105 of 100: they must add up to 100" in page.locator("#weights-total").inner_text()
    shoot(page, "report-builder-weights")
    page.get_by_label("The methodology's weights").check()
    assert first.input_value() == first.get_attribute("data-methodology")
