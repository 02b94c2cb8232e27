"""The audience section's pages."""

app_name = "audience"
urlpatterns: list = []
