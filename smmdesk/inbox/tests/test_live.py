"""Live updates: the database announces every write the inbox pages show (migration 0005), each web
process's hub wakes only the streams concerned, and a stream says what changed at most once per gap."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.urls import reverse

from smmdesk.accounts.models import Membership
from smmdesk.inbox import actions, live
from smmdesk.inbox.models import HandOff, Message, Notification, Status
from smmdesk.inbox.tests.test_views import inbound, make_channel

POSTGRES = connection.vendor == "postgresql"


class Elsewhere:
    """Runs writes on one thread of its own, as another process would make them, and closes that thread's
    database connection at the end (a connection left open keeps the test database from being dropped)."""

    def __init__(self):
        self.executor = ThreadPoolExecutor(1)

    async def __call__(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def close(self):
        await self(connections.close_all)
        self.executor.shutdown()


class IdleSource(live.Source):
    """No database: the test says what changed."""

    async def run(self):
        await asyncio.Event().wait()


def stream_chunks(keys, steps, **timings):
    """The stream's first chunk, then one chunk after each step (a function given the hub)."""

    async def main():
        hub = live.Hub(IdleSource)
        stream = live.events(
            keys, hub_for=lambda: hub, **{"gaps": {}, "keepalive": 60, "lifetime": 60, **timings}
        )
        chunks = [await anext(stream)]
        for step in steps:
            step(hub)
            chunks.append(await anext(stream))
        await stream.aclose()
        listening = hub.listening
        await hub.close()
        return chunks, listening

    return asyncio.run(main())


def test_keys_of_a_notice():
    assert live.keys_of("w3 c17") == [("w", 3), ("c", 17)]
    assert live.keys_of("m5") == [("m", 5)]
    assert live.keys_of("x1 c c2x w-1 c9") == [("c", 9)]


def test_a_stream_opens_with_a_fetch_of_each_part_of_its_page_and_retry_advice():
    chunks, _ = stream_chunks([("m", 1), ("c", 5), ("w", 2)], [])
    assert chunks == [f"retry: {live.RETRY_MS}\n\nevent: conversation\ndata: \n\nevent: list\ndata: \n\n"]


def test_a_stream_says_what_changed_and_ignores_other_conversations():
    chunks, listening = stream_chunks(
        [("m", 1), ("c", 5)],
        [
            lambda hub: hub.changed([("c", 5)]),
            lambda hub: hub.changed([("c", 6), ("w", 9), ("m", 2), ("m", 1)]),
        ],
    )
    assert chunks[1:] == ["event: conversation\ndata: \n\n", "event: notice\ndata: \n\n"]
    # Closing the stream (the browser left) leaves nothing subscribed.
    assert listening is False


def test_changes_within_a_gap_go_out_as_one_event_each():
    def burst(hub):
        for _ in range(50):
            hub.changed([("w", 2), ("c", 7)])
        hub.changed([("m", 1)])

    chunks, _ = stream_chunks([("m", 1), ("w", 2)], [burst])
    assert chunks[1] == "event: list\ndata: \n\nevent: notice\ndata: \n\n"


def test_each_kind_of_event_waits_its_gap_and_what_came_meanwhile_follows_after_it():
    class Clock:
        t = 100.0

        def __call__(self):
            return self.t

    clock = Clock()

    async def main():
        hub = live.Hub(IdleSource)
        stream = live.events(
            [("m", 1), ("c", 5)], hub_for=lambda: hub, gaps={"notice": 10.0}, clock=clock, lifetime=600
        )
        chunks = [await anext(stream)]
        hub.changed([("m", 1)])
        chunks.append(await anext(stream))
        # A second notice within 10 s waits; a change to the conversation (no gap here) does not.
        clock.t += 4
        hub.changed([("m", 1)])
        hub.changed([("c", 5)])
        chunks.append(await anext(stream))
        clock.t += 6
        chunks.append(await anext(stream))
        await stream.aclose()
        await hub.close()
        return chunks

    assert asyncio.run(main())[1:] == [
        "event: notice\ndata: \n\n",
        "event: conversation\ndata: \n\n",
        "event: notice\ndata: \n\n",
    ]


def test_an_idle_stream_sends_a_comment_to_keep_the_connection_and_ends_after_its_lifetime():
    async def main():
        hub = live.Hub(IdleSource)
        idle = live.events([("m", 1)], hub_for=lambda: hub, keepalive=0, lifetime=60)
        chunks = [await anext(idle), await anext(idle)]
        await idle.aclose()
        short = live.events([("m", 1)], hub_for=lambda: hub, lifetime=0)
        ended = [chunk async for chunk in short]
        await hub.close()
        return chunks, ended

    chunks, ended = asyncio.run(main())
    assert chunks == [f"retry: {live.RETRY_MS}\n\n", ": waiting\n\n"]
    assert ended == [f"retry: {live.RETRY_MS}\n\n"]


def test_a_page_rendered_after_the_last_change_to_its_keys_needs_no_first_fetch():
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def at(seconds):
        return (start + timedelta(seconds=seconds)).timestamp()

    async def main():
        hub = live.Hub(IdleSource, start=False)
        answers = {"no since": hub.may_have_missed([("c", 1)], None)}
        with time_machine.travel(start, tick=False) as traveller:
            answers["not listening yet"] = hub.may_have_missed([("c", 1)], at(10))
            hub.caught_up()
            traveller.shift(5)
            hub.changed([("c", 1)])
            answers["changed long before the page"] = hub.may_have_missed([("c", 1)], at(10))
            answers["page rendered as it began listening"] = hub.may_have_missed([("c", 2)], at(1))
            traveller.shift(4)
            hub.changed([("c", 2), ("w", 7)])
            answers["changed just before the page"] = hub.may_have_missed([("c", 2)], at(10))
            answers["another key changed"] = hub.may_have_missed([("c", 1), ("w", 8)], at(10))
            hub.lost()
            answers["lost its connection"] = hub.may_have_missed([("c", 1)], at(10))
            hub.caught_up()
            traveller.shift(5)
            stream = live.events([("c", 3), ("m", 1)], at(14), hub_for=lambda: hub)
            answers["first chunk"] = await anext(stream)
            await stream.aclose()
        return answers

    assert asyncio.run(main()) == {
        "no since": True,
        "not listening yet": True,
        "changed long before the page": False,
        "page rendered as it began listening": True,
        "changed just before the page": True,
        "another key changed": False,
        "lost its connection": True,
        "first chunk": f"retry: {live.RETRY_MS}\n\n",
    }


def test_catching_up_wakes_lists_and_conversations_but_not_notices():
    async def main():
        hub = live.Hub(IdleSource, start=False)
        page = hub.subscribe([("c", 5), ("m", 1)])
        listing = hub.subscribe([("w", 2), ("m", 1)])
        hub.caught_up()
        return page.take(), listing.take()

    # A notice event now would hold the next, real one back for its gap; pages fetch notices as they load.
    assert asyncio.run(main()) == (["conversation"], ["list"])


def test_conninfo_keeps_libpq_options_and_drops_djangos():
    from django.db.backends.postgresql.base import DatabaseWrapper

    settings = {
        "NAME": "smmdesk",
        "USER": "app",
        "PASSWORD": "s3cret",
        "HOST": "db.internal",
        "PORT": "5433",
        "OPTIONS": {"connect_timeout": 5, "sslmode": "require", "pool": {"min_size": 2}},
        "TIME_ZONE": None,
    }
    info = live.postgres_conninfo(DatabaseWrapper(settings))
    words = set(info.split())
    assert {"dbname=smmdesk", "user=app", "password=s3cret", "host=db.internal", "port=5433"} <= words
    assert {"connect_timeout=5", "sslmode=require"} <= words
    assert not any(word.startswith("pool") for word in words)


# The database side: what the triggers announce. transaction=True: PostgreSQL delivers at commit.


def announced(write) -> list[tuple[str, int]]:
    """The keys the database announced while `write()` ran."""
    if not POSTGRES:
        source = live.SqliteSource(live.Hub(IdleSource, start=False))
        mark, _ = source.read(None)
        write()
        _, changes = source.read(mark)
        return [key for keys in changes for key in keys]
    import psycopg

    with psycopg.connect(live.postgres_conninfo(connection), autocommit=True) as listener:
        listener.execute(f"LISTEN {live.CHANNEL}")
        write()
        # Delivered in commit order, so this one comes after everything write() committed.
        listener.execute(f"NOTIFY {live.CHANNEL}, 'end'")
        keys = []
        for note in listener.notifies(timeout=30):
            if note.payload == "end":
                return keys
            keys += live.keys_of(note.payload)
    raise AssertionError("the end marker never came back")


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_the_database_announces_every_write_the_pages_show(cast):
    channel = make_channel(cast.workspace)
    box = {}

    def arrive():
        box["conversation"] = inbound(channel, "Можно записаться на стрижку?")

    keys = announced(arrive)
    conversation = box["conversation"]
    workspace, pk = cast.workspace.pk, conversation.pk
    assert ("w", workspace) in keys and ("c", pk) in keys
    assert {kind for kind, _ in keys} <= {"w", "c"}

    agent = Membership.objects.get(workspace=cast.workspace, user=cast.users["agent"])
    keys = announced(lambda: actions.set_status(conversation, Status.WAITING_CUSTOMER, agent))
    assert ("w", workspace) in keys and ("c", pk) in keys

    # A bulk update, which no model signal would see.
    message = Message.objects.filter(conversation=conversation).first()
    keys = announced(lambda: Message.objects.filter(pk=message.pk).update(text=message.text + "!"))
    assert keys == [("c", pk)]

    department = cast.workspace.departments.create(name="Reception")
    keys = announced(lambda: HandOff.objects.create(conversation=conversation, department=department))
    assert keys == [("c", pk)]

    keys = announced(
        lambda: Notification.objects.create(
            membership=agent, conversation=conversation, kind="sla", text="Soon", key="k1"
        )
    )
    assert keys == [("m", agent.pk)]

    # Nothing announced for a write the pages do not show.
    assert announced(lambda: cast.workspace.departments.create(name="Quality")) == []


@pytest.mark.skipif(POSTGRES, reason="SQLite's source; PostgreSQL's is the next test")
@pytest.mark.django_db(transaction=True)
def test_the_sqlite_source_wakes_the_streams_of_what_changed(cast):
    channel = make_channel(cast.workspace)
    first = inbound(channel, "Первое", author="a1")
    second = inbound(channel, "Второе", author="a2")

    async def main():
        hub = live.Hub(live.SqliteSource, start=False)
        watching_first = hub.subscribe([("c", first.pk)])
        watching_list = hub.subscribe([("w", cast.workspace.pk)])
        outsider_list = hub.subscribe([("w", cast.other.pk)])
        await hub.source.step()
        # The first read wakes everyone: rows written before it were never looked at.
        woken = [watching_first.take(), watching_list.take(), outsider_list.take()]
        await hub.source.step()
        quiet = [watching_first.take(), watching_list.take(), outsider_list.take()]
        elsewhere = Elsewhere()
        await elsewhere(lambda: inbound(channel, "Ещё вопрос", author="a2"))
        await elsewhere.close()
        await hub.source.step()
        after = [watching_first.take(), watching_list.take(), outsider_list.take()]
        await asyncio.get_running_loop().run_in_executor(hub.source.executor, connections.close_all)
        await hub.close()
        return woken, quiet, after

    woken, quiet, after = asyncio.run(main())
    assert woken == [["conversation"], ["list"], ["list"]]
    assert quiet == [[], [], []]
    # A message in the second conversation: its workspace's list, not the first conversation's page.
    assert after == [[], ["list"], []]
    assert second.pk != first.pk


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's LISTEN")
@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_the_postgres_source_wakes_the_streams_and_survives_a_lost_connection(cast, monkeypatch):
    monkeypatch.setattr(live, "RECONNECT_SECONDS", 0)
    channel = make_channel(cast.workspace)
    conversation = inbound(channel, "Первое", author="a1")
    other = inbound(channel, "Другое", author="a2")
    agent = Membership.objects.get(workspace=cast.workspace, user=cast.users["agent"])

    async def woken(subscription):
        await asyncio.wait_for(subscription.ready.wait(), 30)
        return subscription.take()

    def kill_listener():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query = %s",
                [f"LISTEN {live.CHANNEL}"],
            )
            return cursor.fetchone()[0]

    async def main():
        elsewhere = Elsewhere()
        hub = live.Hub()
        page = hub.subscribe([("c", conversation.pk)])
        outcome = {"listening": await woken(page)}
        await elsewhere(lambda: inbound(channel, "Ещё", author="a2"))
        await elsewhere(lambda: inbound(channel, "И ещё", author="a1"))
        outcome["message"] = await woken(page)
        outcome["killed"] = await elsewhere(kill_listener)
        outcome["reconnected"] = await woken(page)
        await elsewhere(actions.set_status, conversation, Status.WAITING_CUSTOMER, agent)
        outcome["after"] = await woken(page)
        await hub.close()
        await elsewhere.close()
        return outcome

    outcome = asyncio.run(main())
    assert outcome == {
        "listening": ["conversation"],
        "message": ["conversation"],
        "killed": True,
        "reconnected": ["conversation"],
        "after": ["conversation"],
    }
    assert other.pk != conversation.pk


# The view.


@pytest.mark.django_db
def test_the_stream_needs_a_member_and_a_conversation_of_the_workspace(cast, client):
    channel = make_channel(cast.workspace)
    own = inbound(channel, "Здравствуйте")
    rival = inbound(make_channel(cast.other, account="rival"), "Чужое")
    stream = reverse("inbox:stream", kwargs={"slug": cast.workspace.slug})
    assert client.get(f"{stream}?list=1").status_code == 302
    client.force_login(cast.users["viewer"])
    assert client.get(f"{stream}?conversation={rival.pk}").status_code == 404
    assert client.get(f"{stream}?conversation=%C2%B2").status_code == 400
    bad = client.get(f"{stream}?conversation=12abc")
    assert bad.status_code == 400 and b"conversation" in bad.content
    client.force_login(cast.outsider)
    assert client.get(f"{stream}?conversation={own.pk}").status_code == 404


@pytest.mark.django_db
def test_the_stream_answers_server_sent_events_for_the_page(cast, client, monkeypatch):
    channel = make_channel(cast.workspace)
    conversation = inbound(channel, "Здравствуйте")
    subscribed = []

    def hub_for_test():
        hub = live.Hub(IdleSource, start=False)
        real = hub.subscribe
        hub.subscribe = lambda keys: subscribed.append(sorted(keys)) or real(keys)
        return hub

    monkeypatch.setattr(live, "hub", hub_for_test)
    monkeypatch.setattr(live, "LIFETIME_SECONDS", 0)
    client.force_login(cast.users["agent"])
    stream = reverse("inbox:stream", kwargs={"slug": cast.workspace.slug})
    response = client.get(f"{stream}?conversation={conversation.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache" and response["X-Accel-Buffering"] == "no"
    with pytest.warns(Warning, match="asynchronous iterators"):
        body = b"".join(response)
    assert body.decode() == f"retry: {live.RETRY_MS}\n\nevent: conversation\ndata: \n\n"
    agent = Membership.objects.get(workspace=cast.workspace, user=cast.users["agent"])
    assert subscribed == [[("c", conversation.pk), ("m", agent.pk)]]


@pytest.mark.django_db
def test_the_pages_name_their_stream_and_fetch_on_its_events(cast, client):
    channel = make_channel(cast.workspace)
    conversation = inbound(channel, "Здравствуйте")
    client.force_login(cast.users["agent"])
    slug = cast.workspace.slug
    stream = reverse("inbox:stream", kwargs={"slug": slug})
    listing = client.get(reverse("inbox:list", kwargs={"slug": slug})).content.decode()
    assert re.search(rf'data-live-stream="{stream}\?list=1&amp;since=\d+\.\d{{3}}"', listing)
    assert 'id="inbox-list"' in listing and 'hx-trigger="live, every 30s"' in listing
    page = client.get(
        reverse("inbox:conversation", kwargs={"slug": slug, "conversation_id": conversation.pk})
    )
    text = page.content.decode()
    assert re.search(
        rf'data-live-stream="{stream}\?conversation={conversation.pk}&amp;since=\d+\.\d{{3}}"', text
    )
    assert 'id="conversation-live"' in text and 'hx-trigger="live, every 30s"' in text


@pytest.mark.skipif(POSTGRES, reason="PostgreSQL keeps no table of changes")
@pytest.mark.django_db
def test_the_table_of_changes_keeps_its_newest_rows(cast):
    from smmdesk.inbox.live_tasks import prune_live_changes

    channel = make_channel(cast.workspace)
    for n in range(6):
        inbound(channel, f"Вопрос {n}", author=f"a{n}")
    source = live.SqliteSource(live.Hub(IdleSource, start=False))
    _, before = source.read(0)
    assert len(before) > 5
    assert prune_live_changes(keep=5) == len(before) - 5
    assert prune_live_changes(keep=5) == 0
    _, after = source.read(0)
    assert after == before[-5:]
