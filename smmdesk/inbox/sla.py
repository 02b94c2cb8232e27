"""SLA clock: deadlines in business hours, warnings, breaches, pause while waiting on the customer."""

from __future__ import annotations


def on_inbound(conversation, at) -> None:
    """A customer wrote: start (or restart) the response clock. Placeholder until the SLA engine lands."""
