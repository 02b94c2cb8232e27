"""The published landing pages, sitemap.xml and robots.txt at /site/<workspace>/ (no login)."""

urlpatterns: list = []
