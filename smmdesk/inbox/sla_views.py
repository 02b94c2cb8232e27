"""Inbox pages (sla_views)."""

urlpatterns = []
