"""The published landing pages, sitemap.xml and robots.txt at /site/<workspace>/ (no login)."""

from django.urls import path

from smmdesk.sites import public_views

urlpatterns = [
    path("", public_views.index, name="site_index"),
    path("sitemap.xml", public_views.sitemap, name="site_sitemap"),
    path("robots.txt", public_views.robots, name="site_robots"),
    path("<slug:page>/", public_views.page, name="site_page"),
]
