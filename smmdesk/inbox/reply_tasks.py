"""Huey tasks (reply_tasks)."""
