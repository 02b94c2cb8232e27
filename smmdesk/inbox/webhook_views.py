"""Public endpoints for inbound webhooks and the site chat widget."""

app_name = "hooks"
urlpatterns = []
