"""The Mastodon adapter against mastodon-mock, a Mastodon REST API server running here on loopback: publish,
a mention into the inbox, a reply to it, delete (issue 5's acceptance), and the rest end to end."""

from __future__ import annotations

import httpx
import pytest

from smmdesk.accounts.models import Membership
from smmdesk.channels import actions as channel_actions
from smmdesk.channels import ledger
from smmdesk.channels.base import AdapterError, ExternalRef, PostVariant
from smmdesk.channels.mastodon.adapter import MastodonAdapter, MastodonConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import actions as inbox_actions
from smmdesk.inbox.ingest_tasks import poll_channel
from smmdesk.inbox.models import Conversation, Message
from smmdesk.inbox.reply_tasks import deliver

SHOP, ANNA, FAN = "shop-token-123456", "anna-token-123456", "fan-token-123456"


def as_user(server: str, token: str, method: str, path: str, **kwargs):
    """What another person does on the server, through its API like any client."""
    response = httpx.request(method, server + path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    response.raise_for_status()
    return response.json()


def adapter(server: str, token: str = SHOP, **extra) -> MastodonAdapter:
    return MastodonAdapter(MastodonConfig(instance_url=server, access_token=token, **extra), channel_id=1)


@pytest.fixture
def channel(cast, mastodon_server):
    created = channel_actions.create_channel(
        cast.workspace, "mastodon", "Mastodon", {"instance_url": mastodon_server, "access_token": SHOP}
    )
    return channel_actions.check_channel(created.pk)


def test_check_names_the_account(mastodon_server):
    info = adapter(mastodon_server).check()
    me = as_user(mastodon_server, SHOP, "GET", "/api/v1/accounts/verify_credentials")
    assert info.external_id == me["id"] and info.name == "Салон (@shop@127.0.0.1)"


def test_unknown_token_asks_for_reconnect(mastodon_server):
    with pytest.raises(AdapterError) as caught:
        adapter(mastodon_server, token="revoked-token-000000").check()
    assert caught.value.reconnect


def test_publish_with_media_and_visibility_once_per_key(mastodon_server):
    shop = adapter(mastodon_server, visibility="unlisted")
    # The media file comes from an address like any other (here the mock's own placeholder image).
    variant = PostVariant(
        text="Весенние скидки 🌸 #стрижка", media=[f"{mastodon_server}/avatars/original/missing.png"]
    )
    first = shop.publish(variant, "spring-sale")
    again = shop.publish(variant, "spring-sale")
    assert again.external_id == first.external_id
    status = as_user(mastodon_server, ANNA, "GET", f"/api/v1/statuses/{first.external_id}")
    assert status["visibility"] == "unlisted" and "Весенние скидки" in status["content"]
    assert [m["type"] for m in status["media_attachments"]] == ["image"]
    me = as_user(mastodon_server, SHOP, "GET", "/api/v1/accounts/verify_credentials")
    assert me["statuses_count"] == 1


def test_ledger_publishes_once(channel, mastodon_server):
    first = ledger.publish_once(channel, PostVariant(text="Один раз"), "calendar-1")
    second = ledger.publish_once(channel, PostVariant(text="Один раз"), "calendar-1")
    assert first == second
    me = as_user(mastodon_server, SHOP, "GET", "/api/v1/accounts/verify_credentials")
    assert me["statuses_count"] == 1


def test_mention_reaches_the_inbox_and_the_reply_reaches_the_customer(cast, channel, mastodon_server):
    assert channel.status == Channel.Status.OK and channel.account_id
    public = as_user(
        mastodon_server,
        ANNA,
        "POST",
        "/api/v1/statuses",
        json={"status": "@shop Можно записаться на субботу?"},
    )
    private = as_user(
        mastodon_server,
        ANNA,
        "POST",
        "/api/v1/statuses",
        json={"status": "@shop Мой телефон 8-900", "visibility": "direct"},
    )
    result = poll_channel(channel.pk)
    assert len(result.created) == 2
    mention = Message.objects.get(external_id=public["id"])
    assert mention.text == "@shop Можно записаться на субботу?" and mention.conversation.kind == "mention"
    assert mention.author_name == "Анна"
    assert Message.objects.get(external_id=private["id"]).conversation.kind == "dm"
    assert poll_channel(channel.pk).created == []  # the cursor moved on; nothing twice

    owner = Membership.objects.get(user=cast.users["owner"], workspace=cast.workspace)
    sent = inbox_actions.reply(mention.conversation, owner, "Да, ждём в 12:00")
    assert deliver(sent.pk) == "sent"
    sent.refresh_from_db()
    answer = as_user(mastodon_server, ANNA, "GET", f"/api/v1/statuses/{sent.external_id}")
    assert answer["in_reply_to_id"] == public["id"] and "Да, ждём в 12:00" in answer["content"]
    notified = as_user(mastodon_server, ANNA, "GET", "/api/v1/notifications", params={"types[]": "mention"})
    assert [n["status"]["id"] for n in notified] == [sent.external_id]
    # Our own reply is not taken in as a customer message.
    poll_channel(channel.pk)
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 2
    assert Conversation.objects.count() == 2


def test_private_reply_stays_private(channel, mastodon_server):
    private = as_user(
        mastodon_server,
        ANNA,
        "POST",
        "/api/v1/statuses",
        json={"status": "@shop секрет", "visibility": "direct"},
    )
    poll_channel(channel.pk)
    from smmdesk.channels.base import OutboundReply

    ref = channel.adapter().send_reply(OutboundReply(text="Понятно", thread_id="", reply_to_id=private["id"]))
    answer = as_user(mastodon_server, ANNA, "GET", f"/api/v1/statuses/{ref.external_id}")
    assert answer["visibility"] == "direct" and answer["in_reply_to_id"] == private["id"]


def test_delete_removes_the_post(mastodon_server):
    shop = adapter(mastodon_server)
    ref = shop.publish(PostVariant(text="Ошибка"), "oops")
    shop.moderate(ref, "delete")
    response = httpx.get(f"{mastodon_server}/api/v1/statuses/{ref.external_id}")
    assert response.status_code == 404
    shop.moderate(ref, "delete")  # again: nothing left to do, no error


def test_metrics_entries_and_search(mastodon_server):
    shop = adapter(mastodon_server)
    ref = shop.publish(PostVariant(text="Конкурс! #gift"), "contest")
    as_user(mastodon_server, FAN, "POST", f"/api/v1/statuses/{ref.external_id}/favourite")
    as_user(mastodon_server, FAN, "POST", f"/api/v1/statuses/{ref.external_id}/reblog")
    as_user(
        mastodon_server,
        ANNA,
        "POST",
        "/api/v1/statuses",
        json={"status": "@shop участвую!", "in_reply_to_id": ref.external_id},
    )
    values = {p.name: p.value for p in shop.metrics([ref, ExternalRef("999999")])}
    assert values == {"likes": 1.0, "reposts": 1.0, "comments": 1.0}
    entries = {e.author_name: e for e in shop.entries(ref)}
    assert entries["@fan@127.0.0.1"].kinds == {"like", "repost"}
    assert (
        entries["@anna@127.0.0.1"].kinds == {"comment"}
        and entries["@anna@127.0.0.1"].text == "@shop участвую!"
    )
    assert [e.external_id for e in shop.search("#gift", None)] == [ref.external_id]
    assert [e.external_id for e in shop.search("участвую", None)] != []
