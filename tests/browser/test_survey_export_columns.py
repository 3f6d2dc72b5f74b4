"""A data admin drops a Qualtrics export on the upload page and sees, in Chromium, the columns
that will be read and the personal-data columns that will be dropped, on a desktop and a phone."""

from pathlib import Path

import pytest

from tests.partners.factories import make_practice

from .conftest import log_in

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
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]
