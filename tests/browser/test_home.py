import pytest

from tests.partners.factories import affiliate, make_mso, make_practice

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_msos():
    larkspur = make_mso(specialties="Oral and maxillofacial surgery")
    affiliate(make_practice("P-1"), larkspur)
    affiliate(make_practice("P-2"), larkspur)
    make_mso("Tessera Specialty Group", specialty_focus="multi", ownership_model="joint_venture")


def test_surgeon_logs_in_and_sees_the_msos(desktop, live_server, surgeon, two_msos):
    log_in(desktop, live_server, "surgeon")
    rows = desktop.locator("table.msos tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("th").inner_text() == "Larkspur Surgical Partners"
    assert rows.nth(0).locator("td.num").inner_text() == "2"
    assert "Joint venture" in rows.nth(1).inner_text()


def test_wrong_password_says_so(desktop, live_server, surgeon):
    desktop.goto(f"{live_server.url}/login/")
    desktop.fill("#id_username", "surgeon")
    desktop.fill("#id_password", "not the password")
    desktop.click("button[type=submit]")
    assert "did not match" in desktop.locator(".error").inner_text()


def test_home_fits_a_phone_screen(phone, live_server, surgeon, two_msos):
    log_in(phone, live_server, "surgeon")
    assert phone.locator("table.msos tbody tr").count() == 2
    # Rows become cards: nothing wider than the screen, labels shown beside the values.
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390
    assert phone.locator("thead").is_hidden()
    label = phone.evaluate(
        "getComputedStyle(document.querySelector('td[data-label]'), '::before').content"
    )
    assert label == '"Specialty focus: "'
