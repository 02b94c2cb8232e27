"""Adapter kinds by name. Adding a network is one folder under channels/ and one line here."""

from smmdesk.channels.base import Adapter
from smmdesk.channels.bluesky.adapter import BlueskyAdapter
from smmdesk.channels.email.adapter import EmailAdapter
from smmdesk.channels.facebook.adapter import FacebookAdapter
from smmdesk.channels.facebook.instagram import InstagramAdapter
from smmdesk.channels.fake.adapter import FakeAdapter
from smmdesk.channels.mastodon.adapter import MastodonAdapter
from smmdesk.channels.rss.adapter import RSSAdapter
from smmdesk.channels.telegram.adapter import TelegramAdapter
from smmdesk.channels.vk.adapter import VKAdapter
from smmdesk.channels.webchat.adapter import WebchatAdapter
from smmdesk.channels.webhook.adapter import WebhookAdapter
from smmdesk.channels.x.adapter import XAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    adapter.kind: adapter
    for adapter in (
        TelegramAdapter,
        VKAdapter,
        MastodonAdapter,
        BlueskyAdapter,
        EmailAdapter,
        RSSAdapter,
        XAdapter,
        FacebookAdapter,
        InstagramAdapter,
        WebchatAdapter,
        WebhookAdapter,
        FakeAdapter,
    )
}


def get(kind: str) -> type[Adapter]:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise LookupError(f"unknown channel kind {kind!r}; known: {', '.join(sorted(ADAPTERS))}")


def kind_choices():
    return [(kind, adapter.label) for kind, adapter in sorted(ADAPTERS.items())]
