"""The inbox's pages, by topic: the inbox itself, rules and canned replies, SLA policies."""

from smmdesk.inbox import rules_views, sla_views, views

app_name = "inbox"
urlpatterns = views.urlpatterns + rules_views.urlpatterns + sla_views.urlpatterns
