"""Fixtures of the listening backend tests (import with `from .backend_fixtures import *`): a clock, the
members by role, fake channels as sources, terms, and events as networks hand them over."""

from datetime import UTC, datetime, timedelta

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.business.models import BusinessProfile
from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.listening.models import Source, TrackedTerm

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    """The clock stands at NOW until a test moves it."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def members(cast):
    return {m.role: m for m in Membership.objects.filter(workspace=cast.workspace).select_related("user")}


@pytest.fixture
def salon(cast):
    """The cast's workspace, speaking Russian, Slovak and English."""
    BusinessProfile.objects.filter(workspace=cast.workspace).update(languages=["ru", "sk", "en"])
    cast.workspace.refresh_from_db()
    return cast.workspace


def fake_channel(workspace, name="Fake search", account="net", **extra):
    return channel_actions.create_channel(
        workspace, "fake", name, {"account_id": account, "api_token": f"token-{account}-12345", **extra}
    )


def make_source(workspace, kind=Source.Kind.SEARCH, channel=None, **fields) -> Source:
    channel = channel or fake_channel(workspace)
    return Source.objects.create(workspace=workspace, channel=channel, kind=kind, **fields)


def make_term(workspace, phrase, kind=TrackedTerm.Kind.BRAND, **fields) -> TrackedTerm:
    return TrackedTerm.objects.create(workspace=workspace, phrase=phrase, kind=kind, **fields)


def event(external_id, text, when=None, author="5001", name="Анна", kind="mention", **raw) -> InboundEvent:
    return InboundEvent(
        external_id=external_id,
        kind=kind,
        author_id=author,
        author_name=name,
        text=text,
        created_at=when or NOW - timedelta(minutes=5),
        thread_id=external_id,
        raw=raw,
    )


def on_network(account, *events) -> None:
    """Posts the fake network's search will find (it searches the account's inbound list)."""
    FakeNetwork.account(account).inbound.extend(events)


@pytest.fixture
def source(salon):
    return make_source(salon)


@pytest.fixture
def lokon(salon):
    return make_term(salon, "Локон")


NEGATIVE = "Ужасный сервис в Локоне, мастер нахамил, больше не приду!"
POSITIVE = "Отличная стрижка в Локоне, спасибо мастеру Ольге!"
NEUTRAL = "Был в Локоне сегодня."
