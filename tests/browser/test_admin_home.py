"""The admin's first page and the roles page on a phone: nothing wider than the screen, and
no console errors (an inline style the Content-Security-Policy refuses would show as one)."""

import pytest

from tests.partners.factories import affiliate, make_mso, make_practice

from .conftest import log_in, shoot, watch

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_home_and_roles_fit_a_phone(phone, live_server, data_admin, surgeon):
    affiliate(make_practice("P-1", name="A practice with a rather long name, Springfield"),
              make_mso())  # fmt: skip
    problems = watch(phone)
    log_in(phone, live_server, "dataadmin")
    for path, text in (("/admin/", "Upload a survey file"), ("/admin/roles/", "surgeon")):
        phone.goto(f"{live_server.url}{path}")
        assert text in phone.locator("#content").inner_text()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
        shoot(phone, "admin-home" if path == "/admin/" else "admin-roles")
    phone.click("button[aria-label='Give surgeon the Consultant role']")
    assert "The Consultant role was given to surgeon." in phone.locator(".messagelist").inner_text()
    assert problems == []
