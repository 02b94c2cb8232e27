"""The contests section's pages, and the public proof pages (no login)."""

from smmdesk.contests import public_views, views

app_name = "contests"
urlpatterns = views.urlpatterns
# Included at the site's root: the proof of a draw is for anyone.
public_urlpatterns = public_views.public_urlpatterns
