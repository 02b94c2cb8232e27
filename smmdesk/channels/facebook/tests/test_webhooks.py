"""Meta webhooks through the real endpoint (/hooks/<channel id>/) for Facebook Page and Instagram channels:
the subscription handshake, X-Hub-Signature-256 (bad or missing: 403 and nothing stored), and a signed
delivery taken into the inbox by the worker."""

import pytest
from huey.contrib.djhuey import HUEY

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.facebook.tests.conftest import (
    APP_SECRET,
    IG_ID,
    IG_TOKEN,
    PAGE_ID,
    PAGE_TOKEN,
    VERIFY,
    raw,
    sign,
)
from smmdesk.inbox.models import Conversation, Message, RawEvent


@pytest.fixture
def run_tasks():
    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


@pytest.fixture
def page_channel(cast, mock_api):
    values = {
        "page_id": PAGE_ID,
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY,
        "graph_url": mock_api.base,
    }
    channel = channel_actions.create_channel(cast.workspace, "facebook", "Salon Page", values)
    # The check stores the Page id as the account, which is how the Page's own messages are recognised.
    channel.account_id = PAGE_ID
    channel.save(update_fields=["account_id"])
    return channel


@pytest.fixture
def ig_channel(cast, mock_api):
    values = {
        "ig_user_id": IG_ID,
        "access_token": IG_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY,
        "graph_url": mock_api.base,
    }
    return channel_actions.create_channel(cast.workspace, "instagram", "Salon Instagram", values)


def counts():
    return RawEvent.objects.count(), Message.objects.count()


@pytest.mark.parametrize("which", ["page_channel", "ig_channel"])
def test_the_subscription_handshake_answers_the_challenge(client, request, which):
    channel = request.getfixturevalue(which)
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = client.get(f"/hooks/{channel.pk}/", query)
    assert response.status_code == 200
    assert response.content == b"1158201444" and response["Content-Type"].startswith("text/plain")
    wrong = client.get(f"/hooks/{channel.pk}/", dict(query, **{"hub.verify_token": "guess"}))
    assert wrong.status_code == 403
    assert b"1158201444" not in wrong.content


def test_a_channel_without_a_verify_token_refuses_the_handshake(client, cast, mock_api):
    values = {
        "page_id": PAGE_ID,
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "graph_url": mock_api.base,
    }
    channel = channel_actions.create_channel(cast.workspace, "facebook", "No token", values)
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "42"}
    assert client.get(f"/hooks/{channel.pk}/", query).status_code == 403


@pytest.mark.parametrize(
    "which, fixture_name", [("page_channel", "webhook_messages"), ("ig_channel", "ig_webhook_comments")]
)
@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda body: sign(body, "another-apps-secret-000"), id="wrong-secret"),
        pytest.param(lambda body: sign(body + b" "), id="other-body"),
        pytest.param(lambda body: "sha1=" + sign(body)[7:], id="wrong-scheme"),
        pytest.param(None, id="missing"),
    ],
)
def test_a_bad_signature_is_403_and_nothing_is_stored(client, request, which, fixture_name, signature):
    channel = request.getfixturevalue(which)
    body = raw(fixture_name)
    headers = {"X-Hub-Signature-256": signature(body)} if signature else {}
    response = client.post(
        f"/hooks/{channel.pk}/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 403
    assert counts() == (0, 0)


def test_a_signed_page_delivery_reaches_the_inbox(
    client, page_channel, run_tasks, django_capture_on_commit_callbacks
):
    body = raw("webhook_messages")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/hooks/{page_channel.pk}/",
            data=body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": sign(body)},
        )
    assert response.status_code == 200 and response.json() == {"accepted": 3}
    [raw_event] = RawEvent.objects.all()
    assert raw_event.processed_at is not None and raw_event.error == ""
    texts = set(Message.objects.values_list("text", flat=True))
    assert {"Hello! How much is a manicure?", "Book a visit"} <= texts
    # Two people wrote: two Messenger conversations, keyed by their PSIDs.
    assert Conversation.objects.filter(channel=page_channel).count() == 2
    # Delivered again (Meta retries): nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/hooks/{page_channel.pk}/",
            data=body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": sign(body)},
        )
    assert Message.objects.count() == 3


def test_a_signed_instagram_delivery_reaches_the_inbox(
    client, ig_channel, run_tasks, django_capture_on_commit_callbacks
):
    body = raw("ig_webhook_comments")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/hooks/{ig_channel.pk}/",
            data=body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": sign(body)},
        )
    assert response.status_code == 200 and response.json() == {"accepted": 3}
    assert Message.objects.filter(channel=ig_channel).count() == 3
    reply = Message.objects.get(external_id="17860000000000002")
    assert reply.reply_to_external_id == "17860000000000001"
