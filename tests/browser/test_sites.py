"""The landing pages end to end: build and publish pages in the served product, download the static export,
serve the unzipped folder from another origin, navigate it in chromium by its relative links, and write in
the embedded site chat — the message reaches the served product's inbox."""

from __future__ import annotations

import functools
import io
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import free_port
from tests.browser.test_product import ORENBURG, demo_email, log_in
from tests.browser.test_widget import add_channel

pytestmark = pytest.mark.browser


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class StaticHost:
    """The unzipped export on its own origin, as any plain web host would serve it."""

    def __init__(self, folder):
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        handler = functools.partial(Quiet, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def publish_pages(page: Page, count: int) -> list[str]:
    page.goto(f"/w/{ORENBURG}/sites/")
    if page.get_by_test_id("page-row").count() == 0:
        page.get_by_test_id("build-pages").click()
    rows = page.get_by_test_id("page-row")
    expect(rows.first).to_be_visible()
    titles = []
    for index in range(count):
        row = page.get_by_test_id("page-row").nth(index)
        titles.append(row.get_by_role("link").first.inner_text())
        toggle = row.get_by_test_id("publish-toggle")
        if toggle.inner_text().strip() == "Publish":
            toggle.click()
            expect(page.get_by_test_id("page-row").nth(index).get_by_test_id("publish-toggle")).to_have_text(
                "Unpublish"
            )
    return titles


def test_exported_site_navigates_and_chats(page: Page, server, tmp_path):
    log_in(page, demo_email("owner"))
    titles = publish_pages(page, 2)
    folder = tmp_path / "site"
    with StaticHost(folder) as host:
        channel_id, _saved = add_channel(
            page, "webchat", "Landing chat", {"Sites allowed to embed": host.origin}
        )
        page.goto(f"/w/{ORENBURG}/sites/")
        with page.expect_download() as download:
            page.get_by_test_id("export-zip").click()
        data = download.value.path().read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert {"index.html", "sitemap.xml", "robots.txt", "assets/site.css"} <= set(archive.namelist())
            archive.extractall(folder)

        visitor = page.context.browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        visitor.set_default_timeout(10_000)
        errors: list[str] = []
        try:
            site = visitor.new_page()
            site.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            site.goto(host.origin + "/index.html")
            first = site.get_by_role("link", name=titles[0], exact=True)
            first.click()
            expect(site.get_by_role("heading", level=1)).to_have_text(titles[0])
            assert site.url.endswith("/index.html") and site.url != host.origin + "/index.html"
            # The other published page, by the page's own internal link, and back home by the breadcrumbs.
            site.get_by_role("navigation", name="breadcrumbs").get_by_role("link").click()
            expect(site).to_have_url(host.origin + "/index.html")
            site.get_by_role("link", name=titles[1], exact=True).click()
            expect(site.get_by_role("heading", level=1)).to_have_text(titles[1])

            launcher = site.get_by_role("button", name="Chat with us")
            expect(launcher).to_be_visible()
            launcher.click()
            text = f"Хочу записаться со страницы сайта #{time.time_ns()}"
            site.get_by_label("Message").fill(text)
            site.get_by_role("button", name="Send").click()
            expect(site.get_by_role("log")).to_contain_text(text)
        finally:
            visitor.close()

    page.goto(f"/w/{ORENBURG}/inbox/?channel={channel_id}")
    expect(page.get_by_test_id("conversation-row").filter(has_text=text)).to_be_visible()
    assert not [e for e in errors if "Content Security Policy" in e or "CORS" in e], errors
