"""The publishing section's pages, by topic: the calendar, posts and their workflow, the live preview,
the media library and the plan import."""

from smmdesk.publishing import calendar_views, import_views, media, preview, report_views, views

app_name = "publishing"
urlpatterns = (
    calendar_views.urlpatterns
    + views.urlpatterns
    + preview.urlpatterns
    + media.urlpatterns
    + import_views.urlpatterns
    + report_views.urlpatterns
)
