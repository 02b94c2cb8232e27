"""The inbox list: every filter, the SLA-urgency order, keyset pages and the live-update version token;
and how a conversation's timeline describes its steps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smmdesk.business.models import Department
from smmdesk.inbox import queries, timeline
from smmdesk.inbox.models import Conversation, Status, TimelineEvent
from smmdesk.inbox.queries import Cursor, Filters
from smmdesk.inbox.tests.test_views import NOW, inbound, make_channel, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast):
    """Conversations that differ in exactly one filtered attribute each, plus a plain one."""
    vk = make_channel(cast.workspace, name="VK")
    tg = make_channel(cast.workspace, name="Telegram", account="tg")
    quality = Department.objects.create(workspace=cast.workspace, name="Quality")
    reception = Department.objects.create(workspace=cast.workspace, name="Reception")
    agent = member(cast, "agent")
    reception.members.add(agent)
    rows = {}

    def make(key, channel=vk, **fields):
        conversation = inbound(channel, f"about {key}", author=key, name=key.title())
        # Only the rows that test the SLA have a clock running.
        fields = {"due_at": None, "sla_warned_at": None, **fields}
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
        rows[key] = conversation.pk

    make("plain")
    make("telegram", channel=tg)
    make("quality", department=quality)
    make("reception", department=reception)
    make("negative", sentiment="negative")
    make("slovak", language="sk")
    make("mine", assignee=agent)
    make("owners", assignee=member(cast, "owner"))
    make("breached", due_at=NOW - timedelta(minutes=1))
    make("warned", due_at=NOW + timedelta(minutes=2), sla_warned_at=NOW - timedelta(minutes=6))
    make("later", due_at=NOW + timedelta(hours=3))
    make("paused", due_at=NOW - timedelta(hours=1), sla_paused_at=NOW - timedelta(hours=2))
    make("waiting", status=Status.WAITING_DEPARTMENT)
    make("resolved", status=Status.RESOLVED)
    make("closed", status=Status.CLOSED)
    return rows, agent, {"vk": vk, "tg": tg, "quality": quality, "reception": reception}


def keys(world, **filters):
    rows, agent, _objects = world
    names = {pk: key for key, pk in rows.items()}
    found = queries.filtered(agent.workspace, agent, Filters(**filters), now=NOW)
    return {names[pk] for pk in found.values_list("pk", flat=True)}


ALL_OPEN = {
    "plain",
    "telegram",
    "quality",
    "reception",
    "negative",
    "slovak",
    "mine",
    "owners",
    "breached",
    "warned",
    "later",
    "paused",
    "waiting",
}


def test_default_hides_resolved_and_closed(world):
    assert keys(world) == ALL_OPEN
    assert keys(world, status="all") == ALL_OPEN | {"resolved", "closed"}
    assert keys(world, status="resolved") == {"resolved"}
    assert keys(world, status="waiting_department") == {"waiting"}


def test_channel_filter(world):
    assert keys(world, channel=world[2]["tg"].pk) == {"telegram"}


def test_department_filters(world):
    objects = world[2]
    assert keys(world, department=str(objects["quality"].pk)) == {"quality"}
    # The agent belongs to Reception: that is their queue.
    assert keys(world, department="mine") == {"reception"}
    assert keys(world, department="none") == ALL_OPEN - {"quality", "reception"}


def test_sentiment_and_language_filters(world):
    assert keys(world, sentiment="negative") == {"negative"}
    assert keys(world, language="sk") == {"slovak"}


def test_assignee_filters(world):
    rows, agent, _objects = world
    assert keys(world, assignee="me") == {"mine"}
    owner = Conversation.objects.get(pk=rows["owners"]).assignee_id
    assert keys(world, assignee=str(owner)) == {"owners"}
    assert keys(world, assignee="none") == ALL_OPEN - {"mine", "owners"}


def test_risk_filters(world):
    assert keys(world, risk="breached") == {"breached"}
    assert keys(world, risk="warning") == {"warned"}
    # "On time": a clock runs and is not near its end (no clock, or a paused one, is neither).
    assert keys(world, risk="ok") == {"later"}


def test_search(world):
    assert keys(world, q="about quality") == {"quality"}
    assert keys(world, q="SLOVAK") == {"slovak"}  # the customer's name, any case


def test_default_order_is_sla_urgency(world):
    rows, agent, _objects = world
    # The conversations without a deadline: most recent activity first.
    Conversation.objects.filter(pk=rows["plain"]).update(updated_at=NOW + timedelta(hours=5))
    Conversation.objects.filter(pk=rows["telegram"]).update(updated_at=NOW - timedelta(hours=5))
    names = {pk: key for key, pk in rows.items()}
    result = queries.page(agent.workspace, agent, Filters(), now=NOW)
    order = [names[c.pk] for c in result.rows]
    assert order[:4] == ["paused", "breached", "warned", "later"]
    assert order[4] == "plain" and order[-1] == "telegram"
    assert result.next_cursor is None
    recent = queries.page(agent.workspace, agent, Filters(sort="recent"), now=NOW)
    assert names[recent.rows[0].pk] == "plain"


@pytest.mark.parametrize("sort", ["urgency", "recent"])
def test_keyset_pages_cover_everything_once(world, sort):
    rows, agent, _objects = world
    seen, after = [], None
    for _ in range(20):
        result = queries.page(agent.workspace, agent, Filters(sort=sort), after, now=NOW, size=3)
        seen += [c.pk for c in result.rows]
        assert len(result.rows) <= 3
        if result.next_cursor is None:
            break
        after = Cursor.decode(result.next_cursor.encode())
    assert len(seen) == len(set(seen)) == len(ALL_OPEN)
    whole = queries.page(agent.workspace, agent, Filters(sort=sort), now=NOW, size=100)
    assert seen == [c.pk for c in whole.rows]


def test_cursor_round_trip_and_refusal():
    cursor = Cursor("d", NOW, 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ["", "x_2026-01-01T00:00:00+00:00_1", "d_yesterday_1", "d_2026-01-01T00:00:00+00:00_x", "d"]:
        with pytest.raises(ValueError):
            Cursor.decode(bad)


def test_version_changes_only_with_what_the_page_shows(world):
    rows, agent, _objects = world
    first = queries.page(agent.workspace, agent, Filters(), now=NOW).version
    assert queries.page(agent.workspace, agent, Filters(), now=NOW).version == first
    Conversation.objects.filter(pk=rows["plain"]).update(priority=3)
    second = queries.page(agent.workspace, agent, Filters(), now=NOW).version
    assert second != first
    # A deadline that passes changes the badge, hence the version, with no write at all.
    later = queries.page(agent.workspace, agent, Filters(), now=NOW + timedelta(hours=4)).version
    assert later != second
    # A change outside the filtered list does not.
    filtered = queries.page(agent.workspace, agent, Filters(language="sk"), now=NOW).version
    Conversation.objects.filter(pk=rows["plain"]).update(priority=0)
    assert queries.page(agent.workspace, agent, Filters(language="sk"), now=NOW).version == filtered


def test_other_workspaces_never_show(cast, world):
    inbound(make_channel(cast.other, name="Rival VK"), "theirs", author="z", name="Theirs")
    _rows, agent, _objects = world
    found = queries.filtered(agent.workspace, agent, Filters(status="all"), now=NOW)
    assert not found.exclude(workspace=agent.workspace).exists()
    assert found.count() == len(ALL_OPEN) + 2


def test_safe_link():
    assert timeline.safe_link("https://vk.com/id1") == "https://vk.com/id1"
    assert timeline.safe_link("http://example.com/a") == "http://example.com/a"
    for bad in [
        "javascript:alert(1)",
        " JAVASCRIPT:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "vk.com",
    ]:
        assert timeline.safe_link(bad) == ""


def test_sla_badge_fallback_states(cast):
    conversation = Conversation(status=Status.OPEN)
    assert queries._fallback_badge(conversation, NOW).state == "none"
    conversation.due_at = NOW + timedelta(minutes=5)
    assert queries._fallback_badge(conversation, NOW).state == "ok"
    conversation.sla_warned_at = NOW
    assert queries._fallback_badge(conversation, NOW).state == "warning"
    assert queries._fallback_badge(conversation, NOW + timedelta(minutes=5)).state == "breached"
    conversation.sla_paused_at = NOW
    assert queries._fallback_badge(conversation, NOW).state == "paused"
    conversation.status = Status.RESOLVED
    assert queries._fallback_badge(conversation, NOW).state == "none"


def test_sla_badges_come_from_the_engine(world):
    rows, agent, _objects = world
    result = queries.page(agent.workspace, agent, Filters(), now=NOW)
    names = {pk: key for key, pk in rows.items()}
    states = {names[pk]: badge.state for pk, badge in result.sla.items()}
    assert states["breached"] == "breached"
    assert states["paused"] == "paused"
    assert states["later"] == "ok"
    assert states["plain"] == "none"
    single = Conversation.objects.get(pk=rows["breached"])
    assert queries.sla_badge(single, NOW) == queries.SlaBadge("breached", single.due_at)


def test_events_are_described_with_names(world):
    rows, agent, objects = world
    members = {agent.pk: "Agent"}
    quality = objects["quality"]
    departments = {quality.pk: "Quality"}

    def describe(kind, detail):
        return timeline.describe_event(TimelineEvent(kind=kind, detail=detail), members, departments)

    assert describe("status", {"old": "new", "new": "resolved", "by": "customer"}) == "New → Resolved"
    assert describe("priority", {"old": 1, "new": 3}) == "Normal → Urgent"
    assert describe("assigned", {"old": None, "new": agent.pk}) == "— → Agent"
    assert describe("assigned", {"old": agent.pk, "new": None, "old_name": "A. Gent", "new_name": ""}) == (
        "A. Gent → —"
    )
    handoff = {"handoff": 7, "department": quality.pk, "department_name": "Quality", "note": "check <it>"}
    assert describe("handoff", handoff) == "Quality; check <it>"
    assert describe("department_reply", {"department": quality.pk, "text": "done"}) == "Quality; done"
    routed = {"rule": "Complaints", "rule_id": 3, "department": "Quality", "tags": ["refund", "vip"]}
    assert describe("routed", routed) == "rule: Complaints; department: Quality; tags: refund, vip"
    assert describe("sla_warning", {"deadline": "first_response", "due": "2026-05-04T09:10:00+00:00"}) == (
        "deadline: first response; due: 04.05.2026 09:10"
    )
    assert describe("created", {"kind": "dm"}) == ""
