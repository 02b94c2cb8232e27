"""The audience section's pages, by topic: the report (its first page), orders with quick entry and the
service names found in orders, the import, and segments. Mounted at /w/<slug>/audience/."""

from smmdesk.audience import import_views, report_views, segment_views, views

app_name = "audience"
urlpatterns = (
    report_views.urlpatterns + views.urlpatterns + import_views.urlpatterns + segment_views.urlpatterns
)
