"""Fixtures of the contests tests: a checked fake channel, people on its post, members by role, a contest
factory and a helper that runs a contest to a given state through the use cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import Entry
from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.contests import actions

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 14:00 in Orenburg (Asia/Yekaterinburg, UTC+5)
ACCOUNT = "salon-vk"
POST = "post-42"


@pytest.fixture
def clock(time_machine):
    """The clock stands at NOW until a test moves it."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def members(cast):
    return {m.role: m for m in Membership.objects.filter(workspace=cast.workspace).select_related("user")}


def fake_channel(workspace, name="VK group", account=ACCOUNT):
    channel = channel_actions.create_channel(
        workspace, "fake", name, {"account_id": account, "api_token": f"token-{account}-12345"}
    )
    # The check learns the channel's own account id, which contests exclude as staff.
    return channel_actions.check_channel(channel.pk)


@pytest.fixture
def channel(cast):
    return fake_channel(cast.workspace)


def person(n: int, kinds=("comment",), text="участвую!", at: datetime | None = None, name="") -> Entry:
    return Entry(
        author_id=f"id{n}",
        author_name=name or f"Person {n}",
        kinds=frozenset(kinds),
        text=text if "comment" in kinds else "",
        created_at=at if at is not None else NOW - timedelta(hours=n % 24),
    )


def on_post(found: list[Entry], post: str = POST, account: str = ACCOUNT) -> None:
    FakeNetwork.account(account).entries[post] = list(found)


def contest_data(channel, **fields) -> dict:
    return {
        "title": "Free haircut giveaway",
        "channel": channel.pk,
        "post_external_id": POST,
        "post_url": f"https://fake.invalid/{ACCOUNT}/{POST}",
        "require_comment": True,
        "opens_at": NOW - timedelta(days=3),
        "closes_at": NOW + timedelta(days=7),
        "winners_count": 1,
        **fields,
    }


@pytest.fixture
def make_contest(members, channel):
    def make(role="smm_manager", **fields):
        return actions.create_contest(members[role], contest_data(channel, **fields))

    return make


def run_to(contest, state: str, manager, public_value="12 17 23 31 40 44"):
    """Take a contest through the steps it has not taken yet, up to `state` (open, closed, valued, drawn)."""
    steps = ["open", "closed", "valued", "drawn"]
    contest.refresh_from_db()
    done = {"draft": -1, "open": 0, "closed": 2 if contest.public_value else 1, "drawn": 3}[contest.status]
    for number in range(done + 1, steps.index(state) + 1):
        if steps[number] == "open":
            contest = actions.open_contest(manager, contest)
        elif steps[number] == "closed":
            contest = actions.close_contest(manager, contest)
        elif steps[number] == "valued":
            contest = actions.set_public_value(manager, contest, public_value)
        else:
            contest = actions.draw_contest(manager, contest, "https://smmdesk.example/contests/proof/x/")
    contest.refresh_from_db()
    return contest
