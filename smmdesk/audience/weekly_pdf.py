"""The weekly report as a PDF (WeasyPrint), for the e-mail's attachment and `smmdesk audience weekly`.

Everything the PDF shows is in the HTML we render: the fonts are the system's (DejaVu Sans, which has
Cyrillic and the Slovak letters), the charts inline SVG. WeasyPrint would otherwise fetch whatever a
URL in the HTML names (an image, a stylesheet), and names there can come from customers and
networks, so its fetcher refuses every URL: rendering never touches the network or the disk.
"""

from __future__ import annotations

import logging

from django.template.loader import render_to_string
from django.utils import translation

# WeasyPrint logs each rendering step at INFO (some while it is imported): noise in a worker's log and
# on the command's terminal.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

from weasyprint import HTML  # noqa: E402
from weasyprint.urls import URLFetcher  # noqa: E402

from smmdesk.audience import charts_followers  # noqa: E402


class RefuseAll(URLFetcher):
    """A URL fetcher that fetches nothing; what was asked for is kept for tests and logs."""

    def __init__(self):
        super().__init__(allowed_protocols=())
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        self.refused.append(url)
        raise ValueError("the weekly report fetches no URLs")


def html_to_pdf(html: str, fetcher: RefuseAll | None = None) -> bytes:
    return HTML(string=html, base_url=None, url_fetcher=fetcher or RefuseAll()).write_pdf()


def render_html(data: dict, language: str) -> str:
    with translation.override(language):
        return render_to_string(
            "audience/weekly_pdf.html",
            {
                "data": data,
                "language": language,
                "pdf": True,
                "sparklines": charts_followers.sparklines(data["followers"]),
            },
        )


def render(data: dict, language: str) -> bytes:
    """The PDF of weekly.build's figures in `language`."""
    return html_to_pdf(render_html(data, language))
