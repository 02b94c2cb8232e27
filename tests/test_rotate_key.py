"""`smmdesk rotate-key`: every stored secret moves to the first configured key, in one transaction, and
nothing is written when any secret cannot be opened. Marked dbqueue: CI repeats them on PostgreSQL."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.db import models

from conftest import make_workspace
from smmdesk.lib import crypto, keys, sealed

OLD, NEW, STRANGER = (Fernet.generate_key().decode() for _ in range(3))
TOKEN = "vk-token-abcdef-123456"
HOOK_SECRET = "telegram-hook-secret-987654"
CHANNEL_TOKEN = "token-salon-vk-12345"  # what the contests' fake_channel stores
BIN = Path(sys.executable).parent


def fernet_tokens(value):
    """Every string inside a stored value that has the shape of a Fernet token."""
    if isinstance(value, str):
        return [value] if value.startswith("gAAAAA") else []
    if isinstance(value, dict):
        return [t for item in value.values() for t in fernet_tokens(item)]
    if isinstance(value, list):
        return [t for item in value for t in fernet_tokens(item)]
    return []


def tokens_needing(key_list):
    """(table, pk, token) for every Fernet token in any text or JSON column that `key_list` cannot open."""
    opener = [Fernet(k.encode()) for k in key_list]
    found, unreadable = 0, []
    for model in apps.get_models():
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.TextField | models.CharField | models.JSONField)
        ]
        if not names or not model._meta.managed:
            continue
        for row in model._base_manager.values_list("pk", *names):
            for token in fernet_tokens(list(row[1:])):
                found += 1
                if not any(_opens(f, token) for f in opener):
                    unreadable.append((model._meta.db_table, row[0], token[:12]))
    return found, unreadable


def _opens(fernet, token):
    try:
        fernet.decrypt(token.encode())
        return True
    except InvalidToken:
        return False


@pytest.fixture
def sealed_everywhere(db, settings, time_machine):
    """A channel's credentials, a contest's seed and a webhook delivery's secret header, all under OLD."""
    from smmdesk.accounts.models import Membership
    from smmdesk.channels.models import Channel
    from smmdesk.channels.telegram.adapter import SECRET_HEADER, TelegramAdapter
    from smmdesk.contests import actions
    from smmdesk.contests.tests.conftest import NOW, contest_data, fake_channel
    from smmdesk.inbox.models import RawEvent
    from smmdesk.inbox.webhook_views import kept_headers

    settings.SMMDESK_ENCRYPTION_KEYS = [OLD]
    time_machine.move_to(NOW, tick=False)
    workspace, _ = make_workspace("salon", "Salon Leninsky")
    channel = fake_channel(workspace)
    owner = Membership.objects.get(workspace=workspace, role="owner")
    contest = actions.open_contest(owner, actions.create_contest(owner, contest_data(channel)))
    telegram = Channel.objects.create(workspace=workspace, kind="telegram", name="Telegram")
    headers = kept_headers(
        {SECRET_HEADER: HOOK_SECRET, "Content-Type": "application/json"}, TelegramAdapter.secret_headers
    )
    event = RawEvent.objects.create(channel=telegram, body=b"{}", headers=headers)
    return channel, contest, event


def read_back(channel, contest, event):
    from smmdesk.channels.telegram.adapter import TelegramAdapter
    from smmdesk.inbox.webhook_views import stored_headers

    channel.refresh_from_db()
    contest.refresh_from_db()
    event.refresh_from_db()
    return (
        channel.typed_config().api_token.get_secret_value(),
        crypto.decrypt(contest.sealed_seed),
        stored_headers(event.headers, TelegramAdapter.secret_headers)["X-Telegram-Bot-Api-Secret-Token"],
    )


@pytest.mark.dbqueue
def test_rotation_moves_every_secret_so_the_old_key_can_be_dropped(sealed_everywhere, settings):
    plain = read_back(*sealed_everywhere)
    assert plain[0] == CHANNEL_TOKEN and plain[2] == HOOK_SECRET and len(plain[1]) == 64
    settings.SMMDESK_ENCRYPTION_KEYS = [NEW, OLD]
    lines = keys.rotate()
    assert lines[0].startswith("re-encrypted 3 stored secrets under key 1 (") and "0 were already" in lines[0]
    assert any(f"key 2 ({keys.fingerprint(OLD)})" in line for line in lines)

    settings.SMMDESK_ENCRYPTION_KEYS = [NEW]
    assert read_back(*sealed_everywhere) == plain
    found, unreadable = tokens_needing([NEW])
    assert found >= 3 and unreadable == []


@pytest.mark.dbqueue
def test_the_sweep_would_notice_a_secret_left_under_the_old_key(sealed_everywhere, settings):
    """The check above is not vacuous: before the rotation, NEW alone opens none of the three."""
    found, unreadable = tokens_needing([NEW])
    assert found == 3 and len(unreadable) == 3


@pytest.mark.dbqueue
def test_a_second_run_changes_nothing(sealed_everywhere, settings):
    channel, contest, event = sealed_everywhere
    settings.SMMDESK_ENCRYPTION_KEYS = [NEW, OLD]
    keys.rotate()
    before = read_raw(channel, contest, event)
    lines = keys.rotate()
    assert lines[0].startswith("re-encrypted 0 stored secrets") and "3 were already under it" in lines[0]
    assert read_raw(channel, contest, event) == before


def read_raw(channel, contest, event):
    channel.refresh_from_db()
    contest.refresh_from_db()
    event.refresh_from_db()
    return channel.secrets, contest.sealed_seed, json.dumps(event.headers, sort_keys=True)


@pytest.mark.dbqueue
def test_a_secret_no_key_opens_is_named_and_nothing_is_written(sealed_everywhere, settings):
    from smmdesk.channels.fake.adapter import FakeConfig
    from smmdesk.channels.models import Channel

    channel, contest, event = sealed_everywhere
    settings.SMMDESK_ENCRYPTION_KEYS = [STRANGER]
    lost = Channel(workspace=channel.workspace, kind="fake", name="Lost")
    lost.store_config(FakeConfig(account_id="lost", stands_for="vk", api_token="lost-token-123456"))
    lost.save()
    before = read_raw(channel, contest, event)

    settings.SMMDESK_ENCRYPTION_KEYS = [NEW, OLD]
    with pytest.raises(keys.RotationRefused) as refused:
        keys.rotate()
    lines = refused.value.lines
    assert lines[0].startswith("1 stored secret(s) cannot be decrypted with any of the 2 configured key(s)")
    assert lines[1] == f"  channels_channel #{lost.pk} (secrets)"
    assert read_raw(channel, contest, event) == before


@pytest.mark.dbqueue
def test_cached_sessions_move_to_the_new_key_too(db, settings):
    from smmdesk.channels.bluesky.adapter import BlueskyConfig
    from smmdesk.channels.models import Channel

    settings.SMMDESK_ENCRYPTION_KEYS = [OLD]
    workspace, _ = make_workspace("salon", "Salon Leninsky")
    channel = Channel(workspace=workspace, kind="bluesky", name="Bluesky")
    channel.store_config(BlueskyConfig(identifier="salon.bsky.social", app_password="app-pass-1234"))
    channel.save()
    session = {"accessJwt": "jwt-access-123456", "refreshJwt": "jwt-refresh-123456", "did": "did:plc:x"}
    channel.adapter().xrpc._keep(session, "test")

    settings.SMMDESK_ENCRYPTION_KEYS = [NEW, OLD]
    lines = keys.rotate()
    assert "cached sessions and tokens: 1 re-encrypted, 0 unreadable" in lines[1]
    settings.SMMDESK_ENCRYPTION_KEYS = [NEW]
    channel.refresh_from_db()
    assert channel.adapter().xrpc._cached()["accessJwt"] == "jwt-access-123456"


@pytest.mark.dbqueue
def test_an_unreachable_cache_does_not_undo_the_database_part(sealed_everywhere, settings, monkeypatch):
    def down(opener, outcome):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(sealed, "reseal_cache", down)
    settings.SMMDESK_ENCRYPTION_KEYS = [NEW, OLD]
    lines = keys.rotate()
    assert lines[0].startswith("re-encrypted 3 stored secrets")
    assert "the cache could not be reached (ConnectionError: redis is down)" in lines[1]
    assert tokens_needing([NEW])[1] == []


def test_one_key_only_says_how_to_rotate(db, settings):
    settings.SMMDESK_ENCRYPTION_KEYS = [OLD]
    lines = keys.rotate()
    assert (
        lines[0]
        == f"re-encrypted 0 stored secrets under key 1 ({keys.fingerprint(OLD)}); 0 were already under it"
    )
    assert "rotate-key --generate" in lines[-1]


def test_generate_prints_a_key_and_the_steps():
    result = subprocess.run(
        [BIN / "smmdesk", "rotate-key", "--generate"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    Fernet(result.stdout.strip().encode())  # a valid key
    assert "put it first in SMMDESK_ENCRYPTION_KEY" in result.stderr


@pytest.mark.dbqueue
def test_the_command_on_a_data_dir_whose_key_file_lists_new_then_old(tmp_path):
    """The whole operator path: key file OLD, a channel saved, NEW put first, rotate-key, OLD removed."""
    from tests.test_backup_cli import drop_databases, environment, fresh_postgres_database, run

    url, cleanup = None, None
    if os.environ.get("DATABASE_URL"):
        url, name, admin = fresh_postgres_database(os.environ["DATABASE_URL"])
        cleanup = (admin, [name])
    try:
        data = tmp_path / "data"
        data.mkdir()
        key_file = data / "encryption_key"
        key_file.write_text(OLD)
        env = environment(data, url)
        run(env, BIN / "smmdesk", "migrate")
        run(env, BIN / "python", "-c", SAVE_CHANNEL)
        key_file.write_text(f"{NEW},{OLD}")
        out = run(env, BIN / "smmdesk", "rotate-key")
        assert "re-encrypted 1 stored secrets" in out and f"from {key_file}" in out
        assert "re-encrypted 0 stored secrets" in run(env, BIN / "smmdesk", "rotate-key")
        key_file.write_text(NEW)
        assert run(env, BIN / "python", "-c", READ_CHANNEL).strip() == TOKEN

        key_file.write_text(STRANGER)
        refused = run(env, BIN / "smmdesk", "rotate-key", expect=1)
        assert refused.returncode == 1
        assert "channels_channel #1 (secrets)" in refused.stderr and "nothing was changed" in refused.stderr
    finally:
        if cleanup:
            drop_databases(*cleanup)


SAVE_CHANNEL = f"""
import django; django.setup()
from conftest import make_workspace
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
workspace, _ = make_workspace("salon", "Salon")
channel = Channel(workspace=workspace, kind="fake", name="VK")
channel.store_config(FakeConfig(account_id="vk", stands_for="vk", api_token="{TOKEN}"))
channel.save()
"""
READ_CHANNEL = """
import django; django.setup()
from smmdesk.channels.models import Channel
print(Channel.objects.get().typed_config().api_token.get_secret_value())
"""
