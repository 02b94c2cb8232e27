"""The inbox's pages, by topic: the inbox itself, rules and canned replies, SLA policies, reports."""

from smmdesk.inbox import report_views, rules_views, sla_views, views

app_name = "inbox"
urlpatterns = views.urlpatterns + rules_views.urlpatterns + sla_views.urlpatterns + report_views.urlpatterns
