"""The listening section's pages."""

app_name = "listening"
urlpatterns: list = []
