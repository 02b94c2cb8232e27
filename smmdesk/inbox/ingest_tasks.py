"""Huey tasks (ingest_tasks)."""
