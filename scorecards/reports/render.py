"""A report as a PDF: Django templates and print CSS, laid out by WeasyPrint.

``report_pdf(report) -> (pdf bytes, page count)`` is a pure function of the report's row and
its snapshot. WeasyPrint fetches resources only through ``StaticOnlyFetcher``: the app's own
static files (found by Django's static file finders, or collected under their hashed
names when DEBUG is off) and ``data:`` URLs; every other URL,
``file:`` or network, is refused and logged. The template inlines nothing from the web.

One ``FontConfiguration`` is made per process and reused: building one reads the system's
font list, which costs more than laying out a small report.
"""

import logging
import mimetypes
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .content import report_content

logger = logging.getLogger(__name__)

# Relative URLs in the report resolve against this origin, which no network has: the fetcher
# serves its static paths from disk and refuses everything else.
BASE_URL = "https://report.invalid/"
TEMPLATE = "reports/report.html"
PAPER_CSS = {"a4": "A4", "letter": "letter"}


class ResourceRefused(ValueError):
    pass


class StaticOnlyFetcher(URLFetcher):
    """Serves the app's static files and ``data:`` URLs; refuses every other URL.

    ``refused`` lists the URLs it refused (WeasyPrint then leaves the resource out)."""

    def __init__(self):
        super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False)
        self.refused = []
        self.static_path = urlsplit(BASE_URL).path.rstrip("/") + "/" + settings.STATIC_URL.strip(
            "/") + "/"

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)  # decoded in memory: no network, no file
        origin = urlsplit(BASE_URL)
        if (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc) and \
                parts.path.startswith(self.static_path):  # fmt: skip
            path = static_file(unquote(parts.path[len(self.static_path):]))
            if path:
                with open(path, "rb") as f:
                    body = f.read()
                mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body, {"Content-Type": mime})
        self.refused.append(url)
        logger.warning("report resource refused: %s", url[:200])
        raise ResourceRefused(f"Only the app's own static files may be used: {url[:200]}")


def static_file(relative):
    """The path on disk of the app's static file ``relative``, or None: found by the static
    file finders, or among the collected files where the name carries the manifest's hash (as
    ``{% static %}`` writes it when DEBUG is off)."""
    if ".." in relative.split("/"):
        return None
    try:
        path = finders.find(relative)
        if not path and staticfiles_storage.exists(relative):
            path = staticfiles_storage.path(relative)
    except (SuspiciousFileOperation, NotImplementedError):
        return None
    return path


@lru_cache(maxsize=1)
def font_config():
    return FontConfiguration()


def report_html(report, context=None):
    context = context or report_content(report)
    return render_to_string(TEMPLATE, {**context, "paper_css": PAPER_CSS[report.paper]})


def html_pdf(html, *, fetcher=None):
    """(PDF bytes, page count) of a report's HTML."""
    fetcher = fetcher or StaticOnlyFetcher()
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
        font_config=font_config()
    )
    return document.write_pdf(), len(document.pages)


def report_pdf(report):
    return html_pdf(report_html(report))
