"""The sites section's pages (editing, audit) — the public pages are in public_urls.py."""

app_name = "sites"
urlpatterns: list = []
