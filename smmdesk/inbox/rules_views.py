"""Inbox pages (rules_views)."""

urlpatterns = []
