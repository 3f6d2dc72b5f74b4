"""Browser tests drive Debian's Chromium through Playwright against pytest-django's live server."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; the ORM calls that
# fixtures make there are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Debian's Chromium when installed; otherwise the one `playwright install chromium` fetched.
CHROMIUM = os.getenv("CHROMIUM") or shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update",
]  # fmt: skip


SHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")


def wait_until(page, expression, timeout=10.0):
    """Wait until the JavaScript ``expression`` is true in the page. (Playwright's
    wait_for_function evaluates its predicate with eval, which the site's
    Content-Security-Policy forbids; page.evaluate is not subject to it.)"""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def watch(page, *, warnings=False):
    """The page's console errors (and warnings, if asked) and uncaught exceptions, each with
    its page's address, collected from now on."""
    kinds = ("error", "warning") if warnings else ("error",)
    problems = []
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}")
            if m.type in kinds else None)  # fmt: skip
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    return problems


def shoot(page, name):
    """A full-page screenshot under VAR_DIR/screenshots, named with the viewport's width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True,
                    caret="initial")  # hiding the caret leaves style="" on inputs
