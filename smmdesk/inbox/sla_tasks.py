"""Huey tasks (sla_tasks)."""
