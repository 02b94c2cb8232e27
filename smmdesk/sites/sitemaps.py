"""sitemap.xml for a workspace's published pages, with django.contrib.sitemaps.

The page addresses are absolute under SMMDESK_PUBLIC_URL when it is set (a prefix path included), else
under the address the sitemap was asked for on."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.sitemaps import Sitemap

from smmdesk.sites.models import Page
from smmdesk.sites.render import page_path


class PagesSitemap(Sitemap):
    changefreq = "weekly"

    def __init__(self, workspace, base: str = ""):
        super().__init__()
        self.workspace = workspace
        parts = urlsplit(base)
        self.base_domain = (parts.netloc + parts.path.rstrip("/")) if parts.netloc else ""
        if parts.scheme:
            self.protocol = parts.scheme

    def items(self):
        return list(
            Page.objects.filter(workspace=self.workspace, published=True)
            .select_related("workspace")
            .order_by("slug")
        )

    def location(self, page: Page) -> str:
        return page_path(page)

    def lastmod(self, page: Page):
        return page.updated_at

    def get_domain(self, site=None):
        return self.base_domain or super().get_domain(site)
