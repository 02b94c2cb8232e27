"""Checking credentials (in the request and in the background), and the kinds list for the CLI."""

import logging

import pytest

from smmdesk.accounts.models import AuditEvent
from smmdesk.channels import actions, tasks
from smmdesk.channels.base import AdapterError, PostLimits
from smmdesk.channels.fake.adapter import FakeAdapter, FakeNetwork
from smmdesk.channels.models import Channel
from smmdesk.inbox.models import Notification

Status = Channel.Status


def test_describe_kinds():
    kinds = actions.describe_kinds()
    fake = next(k for k in kinds if k.kind == "fake")
    kind, label, capabilities, limits, paid, _help = fake
    assert label == "Fake network (demo and tests)"
    assert capabilities == ["entries", "inbox", "metrics", "moderate", "publish", "reply", "search"]
    assert isinstance(limits, PostLimits) and limits.max_text == 2000
    assert [k.kind for k in kinds] == sorted(k.kind for k in kinds)
    assert paid == [] and next(k for k in kinds if k.kind == "x").paid  # X says what needs a paid plan
    # Every network the product promises is there.
    assert {k.kind for k in kinds} >= {
        "telegram",
        "vk",
        "mastodon",
        "bluesky",
        "email",
        "rss",
        "x",
        "facebook",
        "instagram",
        "webchat",
        "api",
        "fake",
    }


def test_check_ok_records_account(channel):
    checked = actions.check_channel(channel.pk)
    assert checked.status == Status.OK and checked.last_error == ""
    assert (
        checked.account_name == "Fake vk account" and checked.account_url == "https://fake.invalid/salon-vk"
    )
    assert checked.last_checked_at is not None


def test_revoked_token_needs_reconnect_and_warns_once(cast, caplog):
    channel = actions.create_channel(
        cast.workspace, "fake", "TG", {"account_id": "tg", "api_token": "revoked-since-june"}
    )
    caplog.set_level(logging.WARNING, logger="smmdesk.channels.actions")
    assert actions.check_channel(channel.pk).status == Status.NEEDS_RECONNECT
    assert actions.check_channel(channel.pk).status == Status.NEEDS_RECONNECT
    warnings = [r for r in caplog.records if "needs reconnecting" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING and "TG" in warnings[0].getMessage()


def test_adapter_error_is_error_and_recovery_clears_it(channel):
    FakeNetwork.account("salon-vk").check_error = "rate limited, try later"
    checked = actions.check_channel(channel.pk)
    assert checked.status == Status.ERROR and checked.last_error == "rate limited, try later"
    FakeNetwork.account("salon-vk").check_error = None
    checked = actions.check_channel(channel.pk)
    assert checked.status == Status.OK and checked.last_error == ""


def test_disabled_channels_are_not_checked(channel):
    actions.set_enabled(channel, False)
    FakeNetwork.account("salon-vk").revoked = True
    checked = actions.check_channel(channel.pk)
    assert checked.status == Status.DISABLED and checked.last_checked_at is None


def test_missing_channel_is_nothing(db):
    assert actions.check_channel(123456) is None


def test_unreadable_secrets_are_an_error_not_a_crash(channel, settings):
    from cryptography.fernet import Fernet

    settings.SMMDESK_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    checked = actions.check_channel(channel.pk)
    assert checked.status == Status.ERROR and "encryption key" in checked.last_error


def test_unknown_kind_is_an_error(channel):
    Channel.objects.filter(pk=channel.pk).update(kind="gone")
    checked = actions.check_channel(channel.pk)
    assert checked.status == Status.ERROR and "no longer supported" in checked.last_error


def test_verdict_on_replaced_credentials_is_dropped(channel, monkeypatch):
    # The owner enters a new token while a slow check of the old one is running: the old verdict is stale.
    def slow_check(self):
        actions.update_channel(Channel.objects.get(pk=channel.pk), values={"api_token": "brand-new-token"})
        raise AdapterError("the access token was revoked", reconnect=True)

    monkeypatch.setattr(FakeAdapter, "check", slow_check)
    checked = actions.check_channel(channel.pk)
    assert checked.status == Status.NEW and checked.last_checked_at is None


def test_secret_change_audit_names_fields_not_values(cast, channel):
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHANNEL_SECRET_CHANGED)
    assert event.detail["channel"] == "VK group" and event.detail["created"] is True
    assert event.detail["fields"] == ["api_token", "webhook_secret"] and event.actor == cast.users["owner"]
    actions.update_channel(channel, name="Renamed")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CHANNEL_SECRET_CHANGED).count() == 1


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_check_task_runs_from_the_queue_and_is_idempotent(cast, channel, caplog):
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    FakeNetwork.account("salon-vk").revoked = True
    caplog.set_level(logging.WARNING, logger="smmdesk.channels.actions")
    tasks.check_channel_task(channel.pk)
    tasks.check_channel_task(channel.pk)  # delivered twice, as after a worker crash
    assert HUEY.pending_count() == 2
    assert Channel.objects.get(pk=channel.pk).status == Status.NEW  # nothing ran in-process

    HUEY.execute(HUEY.dequeue())
    first = Channel.objects.get(pk=channel.pk)
    assert first.status == Status.NEEDS_RECONNECT and first.last_checked_at is not None
    HUEY.execute(HUEY.dequeue())
    second = Channel.objects.get(pk=channel.pk)
    assert second.status == Status.NEEDS_RECONNECT and second.last_error == first.last_error
    # What is left is one delivery of the owner's notice: the breakage was told once, not twice.
    assert HUEY.pending_count() == 1
    assert Notification.objects.filter(kind="channel").count() == 1
    assert Channel.objects.count() == 1  # nothing was duplicated
    assert len([r for r in caplog.records if "needs reconnecting" in r.getMessage()]) == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CHANNEL_SECRET_CHANGED).count() == 1


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_periodic_recheck_queues_every_enabled_channel(cast, channel):
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    off = actions.create_channel(
        cast.workspace, "fake", "Off", {"account_id": "off", "api_token": "tok-off-1"}
    )
    actions.set_enabled(off, False)
    tasks.recheck_channels.call_local()
    assert HUEY.pending_count() == 1
    HUEY.execute(HUEY.dequeue())
    assert Channel.objects.get(pk=channel.pk).status == Status.OK
    assert Channel.objects.get(pk=off.pk).status == Status.DISABLED
