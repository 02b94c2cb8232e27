"""Routing: ordered rules set department, priority, assignee and tags; then round-robin assignment."""

from __future__ import annotations


def route(conversation, message, triage) -> list[dict]:
    """Apply the workspace's rules to a new conversation; returns timeline details of what was done.

    Placeholder: the rule engine lands in this module."""
    return []
