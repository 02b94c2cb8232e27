"""The keywords section's pages by tab: Queries (views.py, its first page), Clusters (cluster_views.py),
Import volumes and Negative keywords and landmarks (term_views.py). Mounted at /w/<slug>/keywords/."""

from smmdesk.keywords import cluster_views, term_views, views

app_name = "keywords"
urlpatterns = views.urlpatterns + cluster_views.urlpatterns + term_views.urlpatterns
