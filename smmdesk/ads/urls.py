"""The ads section's pages."""

app_name = "ads"
urlpatterns: list = []
