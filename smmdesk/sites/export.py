"""The static export: the published pages as a folder in a zip — index.html, <page>/index.html,
sitemap.xml, robots.txt and assets/ — with relative links between them, so it opens from disk or from
any host. The chat widget is loaded from smmdesk itself (SMMDESK_PUBLIC_URL, or the address the export
was asked on); the host the copy is put on must be listed in the widget's "Sites allowed to embed".
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings
from django.template.loader import render_to_string

from smmdesk.sites.models import Page
from smmdesk.sites.public_views import robots_text
from smmdesk.sites.render import Links, render_index, render_page
from smmdesk.sites.sitemaps import PagesSitemap

CSS = Path(__file__).resolve().parent / "static" / "sites" / "site.css"
# Zip entries get a fixed time, so the same pages give the same archive.
STAMP = (2020, 1, 1, 0, 0, 0)


def _sitemap_xml(workspace, base: str) -> str:
    parts = urlsplit(base)
    site = SimpleNamespace(domain=parts.netloc + parts.path.rstrip("/"), name=parts.netloc)
    urls = PagesSitemap(workspace, base).get_urls(site=site, protocol=parts.scheme or "https")
    return render_to_string("sitemap.xml", {"urlset": urls})


def export_zip(workspace, base_url: str | None = None) -> bytes:
    """A zip of the published pages; `base_url` is smmdesk's address (default SMMDESK_PUBLIC_URL)."""
    base = (base_url or settings.SMMDESK_PUBLIC_URL or "").rstrip("/")
    pages = list(
        Page.objects.filter(workspace=workspace, published=True)
        .select_related("workspace__profile", "cluster__service", "cluster__main")
        .order_by("slug")
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, content: str | bytes) -> None:
            archive.writestr(zipfile.ZipInfo(name, STAMP), content)

        put("index.html", render_index(workspace, pages, Links(base, exported=True, depth=0)))
        for page in pages:
            put(f"{page.slug}/index.html", render_page(page, Links(base, exported=True, depth=1), pages))
        put("assets/site.css", CSS.read_bytes())
        if base:
            put("sitemap.xml", _sitemap_xml(workspace, base))
            put("robots.txt", robots_text(workspace, base))
        else:
            put("robots.txt", "User-agent: *\nAllow: /\n")
    return buffer.getvalue()
