"""The listening section's pages, by topic: the mention stream (views.py), trends, tracked terms and
sources. Mounted at /w/<slug>/listening/."""

from smmdesk.listening import sources_views, terms_views, trends_views, views

app_name = "listening"
urlpatterns = (
    views.urlpatterns + trends_views.urlpatterns + terms_views.urlpatterns + sources_views.urlpatterns
)
