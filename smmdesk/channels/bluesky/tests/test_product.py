"""The Bluesky adapter inside the product: a channel row, health, polling into the inbox, replies from the
inbox, the publish ledger, and the webhook address (which Bluesky does not use)."""

from __future__ import annotations

import logging

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.channels import actions as channel_actions
from smmdesk.channels import health, ledger
from smmdesk.channels.base import AdapterError, PostVariant
from smmdesk.channels.bluesky.adapter import BlueskyAdapter
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.models import Channel, PublishRecord
from smmdesk.inbox import actions as inbox_actions
from smmdesk.inbox.ingest_tasks import poll_channel
from smmdesk.inbox.models import Conversation, Message, Notification, RawEvent
from smmdesk.inbox.reply_tasks import deliver

from .conftest import DID, HANDLE, PASSWORD


@pytest.fixture
def channel(cast, pds):
    created = channel_actions.create_channel(
        cast.workspace,
        "bluesky",
        "Bluesky",
        {"identifier": HANDLE, "app_password": PASSWORD, "pds_url": pds.base, "appview_url": pds.base},
    )
    return channel_actions.check_channel(created.pk)


def test_kind_is_listed_and_its_form_builds():
    [info] = [k for k in channel_actions.describe_kinds() if k.kind == "bluesky"]
    assert set(info.capabilities) == {"inbox", "reply", "publish", "moderate", "metrics", "entries", "search"}
    assert info.limits.max_text == 300 and info.limits.max_media == 4
    form = build_form_class(BlueskyAdapter)()
    assert {"identifier", "app_password", "pds_url", "appview_url"} <= set(form.fields)


def test_check_stores_the_account_for_the_echo_guard(channel):
    assert channel.status == Channel.Status.OK and channel.account_id == DID
    assert channel.account_url == f"https://bsky.app/profile/{HANDLE}"


def test_revoked_app_password_sets_needs_reconnect_and_tells_the_owner(
    cast, channel, pds, django_capture_on_commit_callbacks, caplog
):
    pds.revoke_all()
    pds.password = "a-new-one-0000"
    with caplog.at_level(logging.DEBUG), pytest.raises(AdapterError) as caught:
        channel.adapter().poll(None)
    assert caught.value.reconnect
    with django_capture_on_commit_callbacks(execute=True):
        health.record_failure(channel, caught.value)
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    [notice] = Notification.objects.filter(membership__user=cast.users["owner"])
    assert "Bluesky" in notice.text
    # No credential in the error, the channel page or any log line.
    for text in (caught.value.message, channel.last_error, caplog.text):
        assert PASSWORD not in text and "access-jwt" not in text and "refresh-jwt" not in text


def test_polling_brings_mentions_into_the_inbox_once(channel, pds):
    assert len(poll_channel(channel.pk).created) == 3
    channel.refresh_from_db()
    assert channel.cursor == '{"mark":"2024-03-01T10:40:01+00:00"}'
    assert poll_channel(channel.pk).created == []
    kinds = sorted(Conversation.objects.values_list("kind", flat=True))
    assert kinds == ["comment", "mention", "mention"]
    reply = Message.objects.get(external_id__endswith="3kreply1")
    assert reply.conversation.thread_key == f"post:at://{DID}/app.bsky.feed.post/3kabc2salonpost"


def test_reply_from_the_inbox(cast, channel, pds):
    poll_channel(channel.pk)
    conversation = Message.objects.get(external_id__endswith="3kreply1").conversation
    owner = Membership.objects.get(user=cast.users["owner"], workspace=cast.workspace)
    sent = inbox_actions.reply(conversation, owner, "Да, с 10 до 18 🌸")
    assert deliver(sent.pk) == "sent"
    sent.refresh_from_db()
    [post] = pds.posts()
    assert sent.external_id == post["uri"]
    assert post["value"]["reply"]["parent"]["uri"] == "at://did:plc:anna7customer/app.bsky.feed.post/3kreply1"
    assert post["value"]["reply"]["root"]["uri"] == f"at://{DID}/app.bsky.feed.post/3kabc2salonpost"


def test_ledger_publishes_once_and_reconciles_after_a_crash(channel, pds):
    first = ledger.publish_once(channel, PostVariant(text="Весна"), "calendar-1")
    assert ledger.publish_once(channel, PostVariant(text="Весна"), "calendar-1") == first
    assert len(pds.posts()) == 1
    # A worker died after the network made the post, before the ledger knew: the key finds it.
    channel.adapter().publish(PostVariant(text="Лето"), "calendar-2")
    PublishRecord.objects.create(channel=channel, idempotency_key="calendar-2")
    found = ledger.publish_once(channel, PostVariant(text="Лето"), "calendar-2")
    assert found.external_id.endswith(pds.posts()[1]["uri"].rsplit("/", 1)[1])
    assert len(pds.posts()) == 2
    assert len(pds.api.calls("POST", "/xrpc/com.atproto.repo.createRecord")) == 2


def test_webhook_address_refuses_and_stores_nothing(client, channel):
    response = client.post(f"/hooks/{channel.pk}/", data=b'{"forged": true}', content_type="application/json")
    assert response.status_code == 404
    assert RawEvent.objects.count() == 0 and Message.objects.count() == 0
