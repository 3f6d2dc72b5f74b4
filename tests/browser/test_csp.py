"""Under the Content-Security-Policy (no inline script or style, no eval) the main pages load
with no violation and no console error, and htmx still swaps."""

import pytest
from django.contrib.auth.models import User

from partners.models import MSO

from .conftest import shoot, wait_until, watch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_main_pages_work_under_the_csp(request, viewport, live_server, snapshot):
    User.objects.create_superuser("root", password="pw-root")
    page = request.getfixturevalue(viewport)
    page.set_default_timeout(10_000)
    problems = watch(page, warnings=True)
    page.goto(f"{live_server.url}/login/")
    assert "script-src 'self'" in page.evaluate(
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw-root")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    slugs = list(MSO.objects.filter(published=True).values_list("slug", flat=True)[:3])
    mso_pk = MSO.objects.get(slug=slugs[0]).pk
    pages = ["/", "/msos/", f"/msos/{slugs[0]}/", f"/compare/?m={slugs[0]}&m={slugs[1]}",
             "/shortlist/", "/scorecards/", "/interviews/", "/interviews/new",
             "/admin/", "/admin/partners/surveyimport/upload/", "/admin/partners/mso/",
             "/admin/partners/mso/add/", f"/admin/partners/mso/{mso_pk}/change/",
             "/admin/auditlog/logentry/", "/password/"]  # fmt: skip
    for path in pages:
        page.goto(live_server.url + path)
        assert page.locator("h1").count() >= 1, path
    # htmx works: a directory filter swaps the results without a reload.
    page.goto(f"{live_server.url}/msos/")
    page.evaluate("window.notReloaded = true")
    page.select_option("#id_focus", "multi")
    page.wait_for_url("**focus=multi**")
    assert page.evaluate("window.notReloaded") is True
    # The interview form's MSO choice reloads its practices (static/js/app.js and htmx).
    page.goto(f"{live_server.url}/interviews/new")
    page.select_option("#id_mso", slugs[1] if page.locator(f"#id_mso option[value='{slugs[1]}']")
                       .count() else index_value(page))  # fmt: skip
    wait_until(page, "document.querySelectorAll('#id_practice option').length > 1")
    shoot(page, "csp-interview")
    # Logged out, the login page.
    page.locator("form[action='/logout/'] button").click()
    page.wait_for_url("**/login/")
    shoot(page, "csp-login")
    assert problems == []


def index_value(page):
    return page.locator("#id_mso option").nth(1).get_attribute("value")
