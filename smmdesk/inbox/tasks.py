"""Huey discovers each app's tasks module; the inbox keeps its tasks by topic and imports them here."""

from smmdesk.inbox import ingest_tasks, live_tasks, reply_tasks, sla_tasks  # noqa: F401
