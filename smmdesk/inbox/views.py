"""Inbox pages (views)."""

urlpatterns = []
