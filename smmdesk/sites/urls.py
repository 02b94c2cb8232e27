"""The sites section's pages (editing, audit) — the public pages are in public_urls.py."""

from django.urls import path

from smmdesk.sites import funnel_views, views

app_name = "sites"
urlpatterns = [
    path("", views.page_list, name="list"),
    path("build/", views.build, name="build"),
    path("export.zip", views.export, name="export"),
    path("<int:page_id>/", views.editor, name="editor"),
    path("<int:page_id>/counter/", views.counter, name="counter"),
    path("<int:page_id>/preview/", views.preview, name="preview"),
    path("<int:page_id>/audit/", views.audit_page, name="audit"),
    path("<int:page_id>/publish/", views.publish, name="publish"),
    # Positions and the funnel (funnel_views.py).
    *funnel_views.urlpatterns,
]
