"""The Mastodon adapter inside the product: a channel row, the publish ledger, health, polling into the inbox,
and the webhook endpoint, against the scripted local server."""

from __future__ import annotations

import json
import logging

import pytest
from huey.contrib.djhuey import HUEY

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import health, ledger
from smmdesk.channels.base import AdapterError, PostVariant
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.mastodon.adapter import MastodonAdapter, sign
from smmdesk.channels.models import Channel, PublishRecord
from smmdesk.inbox.ingest_tasks import poll_channel
from smmdesk.inbox.models import Conversation, Message, Notification, RawEvent

from .conftest import SHOP_ID, TOKEN, answer, load

HOOK_SECRET = "hook-secret-0123456789"


@pytest.fixture
def channel(cast, masto):
    return channel_actions.create_channel(
        cast.workspace,
        "mastodon",
        "Mastodon",
        {"instance_url": masto.base, "access_token": TOKEN, "webhook_secret": HOOK_SECRET},
    )


@pytest.fixture
def run_tasks():
    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def test_kind_is_listed_and_its_form_builds():
    [info] = [k for k in channel_actions.describe_kinds() if k.kind == "mastodon"]
    assert set(info.capabilities) == {"inbox", "reply", "publish", "moderate", "metrics", "entries", "search"}
    assert info.limits.max_text == 500 and info.limits.max_media == 4
    form = build_form_class(MastodonAdapter)()
    assert {"instance_url", "access_token", "visibility", "webhook_secret"} <= set(form.fields)


def test_check_stores_the_account_for_the_echo_guard(channel):
    checked = channel_actions.check_channel(channel.pk)
    assert checked.status == Channel.Status.OK and checked.account_id == SHOP_ID
    assert checked.account_name.startswith("Салон «Ленинский» (@salon@")


def test_revoked_token_sets_needs_reconnect_and_tells_the_owner(
    cast, channel, mock_api, django_capture_on_commit_callbacks, caplog
):
    mock_api.routes[("GET", "/api/v1/notifications")] = answer({"error": "The access token was revoked"}, 401)
    with caplog.at_level(logging.DEBUG), pytest.raises(AdapterError) as caught:
        channel.adapter().poll(None)
    assert caught.value.reconnect
    with django_capture_on_commit_callbacks(execute=True):
        assert health.record_failure(channel, caught.value) == "reconnect"
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT and TOKEN not in channel.last_error
    [notice] = Notification.objects.filter(membership__user=cast.users["owner"])
    assert notice.kind == "channel" and "Mastodon" in notice.text
    assert not Notification.objects.exclude(membership__user=cast.users["owner"]).exists()
    assert TOKEN not in caught.value.message and TOKEN not in caplog.text


def test_polling_brings_mentions_into_the_inbox_once(channel, masto):
    masto.route("GET", "/api/v1/notifications")(answer(load("notifications_mentions.json")))
    Channel.objects.filter(pk=channel.pk).update(account_id=SHOP_ID)
    first = poll_channel(channel.pk)
    assert len(first.created) == 3
    channel.refresh_from_db()
    assert channel.cursor == "4003"
    assert sorted(Conversation.objects.values_list("kind", flat=True)) == ["dm", "mention", "mention"]
    again = poll_channel(channel.pk)
    assert again.created == [] and Message.objects.count() == 3
    assert masto.calls("GET", "/api/v1/notifications")[-1].query["min_id"] == ["4003"]


def test_ledger_publishes_once_per_key(channel, masto):
    posted = []

    @masto.route("POST", "/api/v1/statuses")
    def create(request):
        posted.append(request.json())
        return 200, {}, load("status_ours.json")

    variant = PostVariant(text="Весенние скидки")
    first = ledger.publish_once(channel, variant, "calendar-7")
    second = ledger.publish_once(channel, variant, "calendar-7")
    assert first.external_id == second.external_id == "111000000000000050"
    assert len(posted) == 1
    assert PublishRecord.objects.get(channel=channel).state == PublishRecord.State.SENT


def test_ledger_after_a_crash_relies_on_the_idempotency_key(channel, masto):
    made = {}

    @masto.route("POST", "/api/v1/statuses")
    def create(request):
        key = request.headers["idempotency-key"]
        made.setdefault(key, load("status_ours.json"))
        return 200, {}, made[key]

    channel.adapter().publish(PostVariant(text="Весенние скидки"), "calendar-8")
    # The worker died after the network made the post and before the ledger recorded it.
    PublishRecord.objects.create(channel=channel, idempotency_key="calendar-8")
    ref = ledger.publish_once(channel, PostVariant(text="Весенние скидки"), "calendar-8")
    assert ref.external_id == "111000000000000050" and len(made) == 1


# --- the webhook endpoint -------------------------------------------------------------------------


def _post(client, channel, payload: dict, secret: str | None):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"X-Hub-Signature": sign(secret, body)} if secret else {}
    return client.post(f"/hooks/{channel.pk}/", data=body, content_type="application/json", headers=headers)


def counts():
    return RawEvent.objects.count(), Message.objects.count()


@pytest.mark.parametrize("secret", [None, "another-secret-0123456"])
def test_webhook_with_a_bad_signature_is_403_and_stores_nothing(client, channel, secret):
    response = _post(client, channel, load("webhook_status_created.json"), secret)
    assert response.status_code == 403
    assert counts() == (0, 0)


def test_signed_webhook_ends_in_the_inbox(
    client, channel, masto, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, channel, load("webhook_status_created.json"), HOOK_SECRET)
        unrelated = _post(client, channel, load("webhook_status_unrelated.json"), HOOK_SECRET)
    assert response.status_code == 200 and response.json() == {"accepted": 1}
    assert unrelated.json() == {"accepted": 0}
    [message] = Message.objects.all()
    assert message.external_id == "111000000000000401" and message.text == "@salon вы работаете сегодня?"
    assert RawEvent.objects.get().processed_at is not None
