"""The keywords section's pages."""

app_name = "keywords"
urlpatterns: list = []
