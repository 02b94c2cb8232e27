"""The contests section's pages, and the public proof pages (no login)."""

app_name = "contests"
urlpatterns: list = []
# Included at the site's root: the proof of a draw is for anyone.
public_urlpatterns: list = []
