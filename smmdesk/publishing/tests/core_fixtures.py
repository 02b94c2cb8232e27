"""Fixtures of the workflow, scheduling and metrics tests: two fake channels, members by role, a post
factory and a recorder of queued publish tasks (import with `from ...core_fixtures import *`)."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from smmdesk.accounts.models import Membership
from smmdesk.channels import actions as channel_actions
from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.publishing import actions, scheduling, tasks

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 12, 7, 30, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    """The clock stands at NOW until a test moves it (clock.move_to(...))."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def members(cast):
    return {m.role: m for m in Membership.objects.filter(workspace=cast.workspace).select_related("user")}


def fake_channel(workspace, name, account, **extra):
    return channel_actions.create_channel(
        workspace, "fake", name, {"account_id": account, "api_token": f"token-{account}-12345", **extra}
    )


@pytest.fixture
def channels(cast):
    return [
        fake_channel(cast.workspace, "VK group", "salon-vk"),
        fake_channel(cast.workspace, "Channel 2", "salon-tg"),
    ]


@pytest.fixture
def make_post(members, channels):
    def make(author="content_manager", text="Spring offer: 20% off", chosen=None, **fields):
        chosen = channels if chosen is None else chosen
        data = {
            "title": fields.pop("title", "Spring offer"),
            "variants": [{"channel": c.pk, "text": text, **fields.pop("variant", {})} for c in chosen],
            **fields,
        }
        return actions.create_post(members[author], data)

    return make


class Queue:
    """Stands in for the publish task: records what would run now and what is scheduled for later."""

    def __init__(self):
        self.now: list[int] = []
        self.later: list[tuple[int, datetime]] = []

    def __call__(self, variant_id):
        self.now.append(variant_id)

    def schedule(self, args, eta):
        self.later.append((args[0], eta))

    def all(self) -> list[int]:
        return self.now + [variant_id for variant_id, _eta in self.later]


class _CommitAtOnce:
    """scheduling's view of django.db.transaction inside a test's never-committed transaction: what
    would be queued after commit is queued at once."""

    atomic = staticmethod(transaction.atomic)

    @staticmethod
    def on_commit(func, robust=False):
        func()


@pytest.fixture
def queue(monkeypatch):
    """Publish tasks are recorded, not run."""
    recorder = Queue()
    monkeypatch.setattr(tasks, "publish_variant_task", recorder)
    monkeypatch.setattr(scheduling, "transaction", _CommitAtOnce)
    return recorder


def network_posts(account: str) -> list[dict]:
    return list(FakeNetwork.account(account).posts.values())
