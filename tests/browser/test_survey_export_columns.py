"""A data admin drops a survey export on the upload page and sees, in Chromium, the columns
that will be read and the personal-data columns that will be dropped, then the preview with the
practices the file is about, on a desktop and a phone (screenshots in var/test/screenshots)."""

from pathlib import Path

import pytest

from tests.partners.factories import affiliate, make_mso, make_practice

from .conftest import log_in, shoot, watch

SAMPLE = Path(__file__).parent.parent / "partners" / "samples" / "qualtrics.csv"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_an_export_shows_its_columns_to_confirm(request, screen, live_server, data_admin):
    make_practice("OAK-01", name="Oakridge Oral Surgery")
    page = request.getfixturevalue(screen)
    log_in(page, live_server, "dataadmin")

    page.goto(f"{live_server.url}/admin/partners/surveyimport/upload/")
    page.set_input_files("#id_file", str(SAMPLE))
    page.fill("#id_source", "Qualtrics")
    page.keyboard.press("Enter")
    page.wait_for_url("**/upload/columns/")

    assert "Detected format: Qualtrics" in page.inner_text("#detected-format")
    for label in ("Score column (0 to 10)", "Date column", "Response id column",
                  "Practice column"):  # fmt: skip
        assert page.get_by_label(label).is_visible()
    assert page.get_by_label("Score column (0 to 10)").input_value() == "Q1"
    assert "RecipientEmail" in page.inner_text("#dropped-columns")
    shoot(page, "survey-columns")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]


DELIGHTED = SAMPLE.parent / "delighted.csv"


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_preview_names_the_practices_before_the_import(request, screen, live_server,
                                                           data_admin, celery_worker):
    oak = make_practice("OAK-01", name="Oakridge Oral Surgery", city="Denver", state="CO")
    make_practice("BAY-02", name="Bayside Jaw Center", city="Boulder", state="CO")
    affiliate(oak, make_mso("Northwind Dental Partners"))
    page = request.getfixturevalue(screen)
    page.set_default_timeout(15_000)
    problems = watch(page)
    log_in(page, live_server, "dataadmin")

    page.goto(f"{live_server.url}/admin/partners/surveyimport/upload/")
    page.set_input_files("#id_file", str(DELIGHTED))
    page.fill("#id_source", "Delighted")
    page.keyboard.press("Enter")
    page.wait_for_url("**/upload/columns/")
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("#preview-practices", timeout=60_000)  # the worker's check, polled

    rows = page.locator("#preview-practices tbody tr")
    assert rows.count() == 2
    assert "Oakridge Oral Surgery" in rows.nth(0).inner_text()
    assert "Northwind Dental Partners" in rows.nth(0).inner_text()
    assert "Denver, CO" in rows.nth(0).inner_text()
    assert page.get_by_role("button", name="Import delighted.csv").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shoot(page, "survey-preview")
    assert problems == []
