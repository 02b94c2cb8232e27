"""Use cases on conversations: reply, note, assign, status, hand-off, department answer, moderation.

Signatures are the contract between the inbox UI, the API and the hand-off e-mail path."""

from __future__ import annotations

from smmdesk.accounts.models import Membership
from smmdesk.inbox.models import Conversation, HandOff, Message


class InboxError(Exception):
    """A refused use case; `field` names the input at fault (for forms and the API)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def reply(conversation: Conversation, author: Membership, text: str) -> Message:
    """Queue a public reply to the customer through the channel's adapter (sent by a task, retried)."""
    raise NotImplementedError


def retry_reply(message: Message, by: Membership) -> Message:
    raise NotImplementedError


def add_note(conversation: Conversation, author: Membership, text: str) -> Message:
    """An internal note; @mentions of members notify them."""
    raise NotImplementedError


def assign(conversation: Conversation, assignee: Membership | None, by: Membership) -> Conversation:
    raise NotImplementedError


def set_status(conversation: Conversation, status: str, by: Membership) -> Conversation:
    raise NotImplementedError


def set_priority(conversation: Conversation, priority: int, by: Membership) -> Conversation:
    raise NotImplementedError


def hand_off(conversation: Conversation, department_id: int, note: str, by: Membership) -> HandOff:
    """Hand the problem to a department: its members see it in their queue and are notified."""
    raise NotImplementedError


def department_answer(
    handoff: HandOff, text: str, *, by: Membership | None = None, email: str = ""
) -> HandOff:
    """The department's answer, from the UI (by) or from an e-mail reply (email)."""
    raise NotImplementedError


def moderate(message: Message, action: str, reason: str, by: Membership) -> Message:
    """Hide or delete a customer's comment on the network; the reason goes to the audit log."""
    raise NotImplementedError
