"""Builders for the feed, import, best-time, report and API tests: channels, posts in any state, and
published variants with metrics, written straight to the tables so each test sets up exactly the state
it needs."""

from __future__ import annotations

from datetime import datetime

from smmdesk.accounts.models import Membership
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.publishing.models import Post, Variant, VariantMetric


def make_channel(workspace, name="VK", stands_for="vk", kind="fake", **fields) -> Channel:
    fields.setdefault("status", Channel.Status.OK)
    channel = Channel(workspace=workspace, kind=kind, name=name, **fields)
    if kind == "fake":
        channel.store_config(
            FakeConfig(
                account_id=f"acc-{workspace.slug}-{name}".replace(" ", "-"),
                stands_for=stands_for,
                api_token="token-123456",
            )
        )
    channel.save()
    return channel


def member(workspace, role="owner") -> Membership:
    return Membership.objects.select_related("workspace", "user").get(workspace=workspace, role=role)


def make_post(
    workspace,
    channels,
    *,
    state=Post.State.SCHEDULED,
    at: datetime | None = None,
    text="Стрижка со скидкой 20% в эту субботу",
    title="",
    created_by=None,
    variant_state=None,
    **fields,
) -> Post:
    post = Post.objects.create(
        workspace=workspace, state=state, scheduled_at=at, title=title, created_by=created_by, **fields
    )
    for channel in channels:
        Variant.objects.create(
            post=post,
            channel=channel,
            text=text,
            state=variant_state
            or (Variant.State.PUBLISHED if state == Post.State.PUBLISHED else Variant.State.PENDING),
            published_at=at if state == Post.State.PUBLISHED else None,
        )
    return post


def published(channel, when: datetime, metrics: dict[str, float], text="Пост", measured_at=None) -> Variant:
    """A published single-channel post with its latest metrics."""
    post = Post.objects.create(workspace=channel.workspace, state=Post.State.PUBLISHED, scheduled_at=when)
    variant = Variant.objects.create(
        post=post,
        channel=channel,
        text=text,
        state=Variant.State.PUBLISHED,
        published_at=when,
        url="https://vk.com/wall-1_1",
    )
    for name, value in metrics.items():
        VariantMetric.objects.create(variant=variant, name=name, value=value, measured_at=measured_at or when)
    return variant
