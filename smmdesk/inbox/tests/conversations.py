"""Builders shared by the actions, hand-off, mail and ingest tests: channels, events, conversations."""

from __future__ import annotations

from datetime import UTC, datetime

from smmdesk.business.models import Department
from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.models import Channel
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Conversation, Message

WHEN = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
TOKEN = "tok-Zq81-secret-value-9f3e"
WEBHOOK_SECRET = "hook-Kp22-secret-value-77ab"


def make_channel(workspace, name="VK group", account_id="salon-vk", **config) -> Channel:
    channel = channel_actions.create_channel(
        workspace,
        "fake",
        name,
        {"account_id": account_id, "api_token": TOKEN, "webhook_secret": WEBHOOK_SECRET, **config},
    )
    # What a successful check records: our own id on the network, for the echo guard.
    Channel.objects.filter(pk=channel.pk).update(account_id=account_id, status=Channel.Status.OK)
    channel.refresh_from_db()
    return channel


def event(
    external_id: str,
    kind: str = "dm",
    *,
    author: str = "cust-1",
    name: str = "Anna Petrova",
    text: str = "Hello, are you open on Sunday?",
    thread: str = "",
    reply_to: str = "",
    references=(),
    when: datetime = WHEN,
    subject: str = "",
) -> InboundEvent:
    return InboundEvent(
        external_id=external_id,
        kind=kind,
        author_id=author,
        author_name=name,
        text=text,
        created_at=when,
        thread_id=thread,
        reply_to_id=reply_to,
        references=list(references),
        raw={"subject": subject} if subject else {},
    )


def conversation_from(channel: Channel, *events: InboundEvent) -> Conversation:
    """Ingest the events and return the conversation of the last one."""
    ingest(channel, list(events))
    return Message.objects.get(channel=channel, external_id=events[-1].external_id).conversation


def make_department(workspace, name="Billing", members=(), notify_email="") -> Department:
    department = Department.objects.create(workspace=workspace, name=name, notify_email=notify_email)
    department.members.set(members)
    return department


def membership(user, workspace):
    return user.memberships.get(workspace=workspace)
