"""An action locks its conversation's row and nothing else: the workspace and channel rows it reads with
it stay free for everyone else's actions and for ingestion's inserts (which take a key-share lock on the
workspace row). Locking them too made every action in a workspace wait for the others, and deadlocked
with ingestion under load (found by `smmdesk bench load`). Row locks exist on PostgreSQL only."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection, connections, transaction

from smmdesk.channels.base import InboundEvent
from smmdesk.inbox import actions
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Conversation
from smmdesk.inbox.tests.test_views import make_channel

pytestmark = [pytest.mark.dbqueue, pytest.mark.django_db(transaction=True)]


def _try_lock(sql: str, pk: int) -> str:
    """From another connection, as another request or worker would: "free" or the lock error."""
    outcome = []

    def other():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [pk])
            outcome.append("free")
        except OperationalError as exc:
            outcome.append(str(exc).splitlines()[0])
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(30)
    return outcome[0]


def test_an_action_locks_only_its_conversation(cast):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    channel = make_channel(cast.workspace)
    ingest(channel, [InboundEvent("m1", "dm", "u1", "Ann", "Hello", datetime.now(UTC))])
    conversation = Conversation.objects.get(channel=channel)
    with transaction.atomic():
        actions.locked(conversation)
        workspace = _try_lock(
            "SELECT 1 FROM accounts_workspace WHERE id = %s FOR NO KEY UPDATE NOWAIT", cast.workspace.pk
        )
        channel_row = _try_lock(
            "SELECT 1 FROM channels_channel WHERE id = %s FOR NO KEY UPDATE NOWAIT", channel.pk
        )
        itself = _try_lock(
            "SELECT 1 FROM inbox_conversation WHERE id = %s FOR KEY SHARE NOWAIT", conversation.pk
        )
    assert (workspace, channel_row) == ("free", "free")
    # The conversation itself is locked: FOR UPDATE blocks even a key-share lock on it.
    assert itself != "free"
