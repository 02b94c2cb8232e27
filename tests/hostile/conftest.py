"""The hostile tests' world: the usual cast and one object of every kind a URL can name, built once per
module inside a transaction that is rolled back at the end; each test runs in a savepoint inside it.

Every module here is marked dbqueue: NUL characters and integers past 64 bits are the classic 500s that
only PostgreSQL raises, so the corpus must run there too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import Client, override_settings

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """SimpleNamespace(cast, mine, theirs): the cast of conftest.py and sample_objects' ids in the cast's
    workspace (mine) and in the other one (theirs)."""
    from conftest import make_workspace
    from tests.test_permissions import sample_objects

    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            workspace, users = make_workspace("salon", "Salon Leninsky")
            other, other_users = make_workspace("rival", "Rival Salon", roles=["owner"])
            cast = SimpleNamespace(
                workspace=workspace, users=users, other=other, outsider=other_users["owner"]
            )
            mine, theirs = sample_objects(cast)
            yield SimpleNamespace(cast=cast, mine=mine, theirs=theirs)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def ids(world, django_db_blocker):
    """sample_objects' ids and, in both workspaces, what only a field (never an address) names: the rows
    a choice offers only in some state (an approved post, a published variant) and second ones of a kind
    (merging needs two clusters, splitting a cluster with two queries, a source a channel that is none)."""
    from smmdesk.channels.fake.adapter import FakeConfig
    from smmdesk.channels.models import Channel
    from smmdesk.inbox.models import Customer
    from smmdesk.keywords.models import Cluster, Keyword
    from smmdesk.publishing.models import Campaign, Post, Variant

    def extras(workspace, objects):
        post = Post.objects.create(workspace=workspace, title="Акция", state=Post.State.APPROVED)
        variant = Variant.objects.create(
            post=post,
            channel_id=objects["channel"],
            text="Розыгрыш",
            state=Variant.State.PUBLISHED,
            external_id="published-1",
            published_at=NOW,
        )
        keyword = Keyword.objects.create(
            **{"workspace": workspace, "query": "стрижка каре", "normalized": "стрижка каре"},
            **{"language": "ru", "kind": "direct", "intent": "commercial", "cluster_id": objects["cluster"]},
        )
        # A channel that is no listening source yet, so the source form offers one.
        channel = Channel(workspace=workspace, kind="fake", name="Telegram")
        channel.store_config(FakeConfig(account_id=f"acc2-{workspace.slug}", api_token="token-654321"))
        channel.save()
        return {
            "channel2": channel.pk,
            "post_campaign": Campaign.objects.create(workspace=workspace, name="Весна").pk,
            "customer": Customer.objects.create(workspace=workspace, name="Анна").pk,
            "approved_post": post.pk,
            "published_variant": variant.pk,
            "cluster2": Cluster.objects.create(workspace=workspace, name="каре", language="ru").pk,
            "keyword2": keyword.pk,
        }

    with django_db_blocker.unblock():
        mine, theirs = extras(world.cast.workspace, world.mine), extras(world.cast.other, world.theirs)
    return SimpleNamespace(mine={**world.mine, **mine}, theirs={**world.theirs, **theirs})


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def owner(db, world, clock):
    """A test client signed in as the workspace's owner; server errors raise in the test."""
    client = Client(raise_request_exception=True)
    client.force_login(world.cast.users["owner"])
    return client


def assert_clear_refusal(response, *, row_or_field: bool = True) -> str:
    """A 4xx that says what is wrong: its text, for further checks."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    text = response.content.decode("utf-8", "replace")
    if response["Content-Type"].startswith("application/json"):
        body = json.loads(text)
        message = body.get("detail") or body.get("error") or ""
        assert message, body
        if row_or_field and "errors" in body:
            assert body["errors"], body
            assert all(e.get("field") or e.get("row") for e in body["errors"]), body
            assert all(e.get("message") for e in body["errors"]), body
    return text


def unstorable_rows() -> list[tuple[str, str, object]]:
    """(table, column, pk) of every stored text with a NUL. PostgreSQL refuses NUL at the INSERT (the
    request then fails, which the tests see); SQLite keeps it, so on SQLite this is how a missing check
    shows. One query per 200 columns: the tests call this after every case."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return []
    found = []
    selects = _nul_selects()
    with connection.cursor() as cursor:
        for start in range(0, len(selects), 200):
            cursor.execute(" UNION ALL ".join(selects[start : start + 200]))
            found += cursor.fetchall()
    return found


@cache
def _nul_selects() -> list[str]:
    from django.apps import apps
    from django.db import connection, models

    quote = connection.ops.quote_name
    selects = []
    for model in apps.get_models():
        if not model.__module__.startswith("smmdesk."):
            continue
        table, pk = model._meta.db_table, model._meta.pk.column
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField):
                selects.append(
                    f"SELECT '{table}', '{field.column}', {quote(pk)} FROM {quote(table)} "
                    f"WHERE instr({quote(field.column)}, char(0)) > 0"
                )
    return selects
