"""Adapter kinds by name. Adding a network is one folder under channels/ and one line here."""

from smmdesk.channels.base import Adapter
from smmdesk.channels.fake.adapter import FakeAdapter
from smmdesk.channels.webchat.adapter import WebchatAdapter
from smmdesk.channels.webhook.adapter import WebhookAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    FakeAdapter.kind: FakeAdapter,
    WebhookAdapter.kind: WebhookAdapter,
    WebchatAdapter.kind: WebchatAdapter,
}


def get(kind: str) -> type[Adapter]:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise LookupError(f"unknown channel kind {kind!r}; known: {', '.join(sorted(ADAPTERS))}")


def kind_choices():
    return [(kind, adapter.label) for kind, adapter in sorted(ADAPTERS.items())]
