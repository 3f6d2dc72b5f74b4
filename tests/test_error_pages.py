"""The 403, 404 and 500 pages, and the site icon."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

pytestmark = pytest.mark.django_db

NOT_FOUND = "This page does not exist or was moved."
FORBIDDEN = "Your account does not have access to this page. Ask your data admin for access."


@pytest.fixture(autouse=True)
def _production_errors(settings):
    settings.DEBUG = False


def test_a_missing_page_shows_the_layout_and_what_to_do_next(client, surgeon):
    client.force_login(surgeon)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<title>Page not found · MSO Evaluator</title>" in page
    assert '<header class="topbar">' in page and "<nav>" in page
    assert f'href="{reverse("scorecard")}">Scorecards</a>' in page
    assert "Log out surgeon" in page
    assert NOT_FOUND in page
    assert f'<a href="{reverse("home")}">MSO directory</a>' in page


def test_an_unknown_interview_is_a_404_page_with_the_layout(client, consultant):
    client.force_login(consultant)
    response = client.get(reverse("interview_edit", args=[999999]))
    assert response.status_code == 404
    page = response.content.decode()
    assert NOT_FOUND in page and "<nav>" in page
    assert f'href="{reverse("interview_list")}">Interviews</a>' in page


def test_a_forbidden_page_shows_the_layout_and_what_to_do_next(client, surgeon):
    client.force_login(surgeon)
    response = client.post(reverse("scorecard_recompute"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "<title>No access · MSO Evaluator</title>" in page
    assert '<header class="topbar">' in page and "<nav>" in page
    assert FORBIDDEN in page
    login = reverse("login") + "?next=" + reverse("scorecard_recompute")
    assert f'<a href="{login}">log in as another user</a>' in page
    assert f'<a href="{reverse("home")}">Go to the MSO directory</a>' in page


def test_an_anonymous_visitor_gets_the_404_page_without_navigation(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert NOT_FOUND in page and '<header class="topbar">' in page
    assert "<nav>" not in page


@pytest.mark.parametrize("view, exception, status, text", [
    (defaults.page_not_found, Exception("gone"), 404, NOT_FOUND),
    (defaults.permission_denied, Exception("no"), 403, FORBIDDEN),
])  # fmt: skip
def test_error_pages_render_for_a_request_without_a_user(view, exception, status, text):
    # E.g. raised by a middleware before authentication: the context processors cope.
    request = RequestFactory().get("/somewhere")
    response = view(request, exception)
    assert response.status_code == status
    assert text in response.content.decode()


def test_the_roles_context_processor_copes_without_a_user():
    from partners.context_processors import roles

    assert set(roles(RequestFactory().get("/somewhere"))["roles"]) == set()


def test_the_500_page_is_standalone_and_styled():
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and "Try again in a few minutes" in page
    assert 'rel="stylesheet" href="/static/css/app.css"' in page
    assert '<a href="/">MSO directory</a>' in page


def test_the_favicon_is_served_to_anonymous_visitors(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_pages_link_the_icons(client, surgeon):
    client.force_login(surgeon)
    page = client.get(reverse("home")).content.decode()
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
