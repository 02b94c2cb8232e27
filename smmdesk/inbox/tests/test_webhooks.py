"""POST /hooks/<channel id>/: verified and parsed at once, stored, queued, answered 200; any bad input is a
4xx naming the problem, with nothing stored, and never a 500."""

import hashlib
import hmac
import json

import pytest
from huey.contrib.djhuey import HUEY

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.models import Channel
from smmdesk.channels.webhook.adapter import SIGNATURE_HEADER, sign
from smmdesk.inbox.models import Conversation, Customer, Message, RawEvent
from smmdesk.inbox.webhook_views import MAX_BODY

SECRET = "crm-secret-Xy71-0123456789"


@pytest.fixture
def api_channel(cast):
    return channel_actions.create_channel(cast.workspace, "api", "CRM", {"secret": SECRET})


@pytest.fixture
def run_tasks():
    """Queued tasks run in the test's own thread, as soon as they are queued."""
    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def item(external_id="crm-1", text="Можно записаться на стрижку в субботу?", **over):
    data = {"id": external_id, "author": {"id": "client-7", "name": "Анна"}, "text": text}
    data.update(over)
    return data


def post(client, channel_id, data, *, secret=SECRET, headers=None):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    sent = {SIGNATURE_HEADER: sign(secret, body)} if secret else {}
    sent.update(headers or {})
    return client.post(f"/hooks/{channel_id}/", data=body, content_type="application/json", headers=sent)


def counts():
    return RawEvent.objects.count(), Message.objects.count(), Conversation.objects.count()


def test_signed_message_is_stored_queued_and_answered_at_once(
    client, api_channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, api_channel.pk, {"messages": [item(), item("crm-2", text="И ещё вопрос")]})
    assert response.status_code == 200
    assert response.json() == {"accepted": 2}
    [raw] = RawEvent.objects.all()
    assert raw.channel_id == api_channel.pk and raw.processed_at is None
    assert json.loads(bytes(raw.body))["messages"][0]["id"] == "crm-1"
    # Enough to verify the signature again in the worker; nothing the worker does not need.
    assert raw.headers[SIGNATURE_HEADER].startswith("sha256=")
    assert "Cookie" not in raw.headers
    # Answered before any ingestion: the work is queued for after the commit.
    assert Message.objects.count() == 0
    assert len(callbacks) == 1


def test_worker_turns_the_stored_event_into_messages(
    client, api_channel, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            api_channel.pk,
            item(
                author={"id": "client-7", "name": "<script>alert(1)</script>"}, text="<img src=x onerror=1>"
            ),
        )
    assert response.status_code == 200
    [message] = Message.objects.all()
    assert message.channel_id == api_channel.pk
    assert message.external_id == "crm-1"
    assert message.text == "<img src=x onerror=1>"  # stored as text; the pages escape it
    assert message.author_name == "<script>alert(1)</script>"
    assert message.conversation.kind == "dm"
    assert Customer.objects.get().identities.get().network_id == "client-7"
    assert RawEvent.objects.get().processed_at is not None


def test_same_delivery_three_times_gives_one_message(
    client, api_channel, run_tasks, django_capture_on_commit_callbacks
):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, api_channel.pk, item()).status_code == 200
    assert RawEvent.objects.count() == 3
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1


def test_reply_chain_threads_into_one_conversation(
    client, api_channel, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, api_channel.pk, item("a", kind="comment", thread="post-1"))
        post(client, api_channel.pk, item("b", kind="comment", thread="post-1", reply_to="a"))
        post(client, api_channel.pk, item("c", kind="comment", thread="post-2"))
    assert Conversation.objects.count() == 2
    assert (
        Message.objects.get(external_id="b").conversation == Message.objects.get(external_id="a").conversation
    )


@pytest.mark.parametrize(
    "secret,headers",
    [
        (None, {}),
        ("not-the-channel-secret-123", {}),
        (None, {SIGNATURE_HEADER: "sha256=" + "ab" * 32}),
        (None, {SIGNATURE_HEADER: "md5=abc"}),
    ],
    ids=["missing", "other-secret", "wrong-hex", "wrong-scheme"],
)
def test_bad_signature_is_403_and_stores_nothing(client, api_channel, secret, headers):
    before = counts()
    response = post(client, api_channel.pk, item(), secret=secret, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"].startswith(SIGNATURE_HEADER)
    assert counts() == before


@pytest.mark.parametrize(
    "data,field",
    [
        (b"{oops", "body: malformed JSON"),
        (b"", "body: malformed JSON"),
        (b"\xff\xfe", "body:"),
        (b"[" * 50_000, "body:"),
        (b"null", "body: expected a JSON object"),
        ({"messages": [item(author={})]}, "messages[0].author.id: field required"),
        ({"messages": [item(), item(text="")]}, "messages[1].text:"),
        (item(kind="telegram"), "kind:"),
        (item(text="nul \u0000 here"), "text: contains characters that are not allowed"),
        (b'{"id": "1", "author": {"id": "a"}, "text": "\\udc00"}', "text: contains characters"),
        (item(date="31.12.2025"), "date:"),
    ],
    ids=[
        "malformed",
        "empty",
        "not-utf8",
        "deep",
        "null",
        "author-id",
        "second-text",
        "kind",
        "nul",
        "surrogate",
        "date",
    ],
)
def test_bad_body_is_400_naming_the_field_and_stores_nothing(client, api_channel, data, field):
    before = counts()
    response = post(client, api_channel.pk, data)
    assert response.status_code == 400, response.content
    assert response.json()["error"].startswith(field), response.json()
    assert counts() == before


def test_oversized_body_is_413(client, api_channel):
    before = counts()
    big = item(text="x" * 10)
    body = json.dumps(big).encode() + b" " * (MAX_BODY + 1)
    response = post(client, api_channel.pk, body)
    assert response.status_code == 413
    assert "body" in response.json()["error"]
    assert counts() == before


def test_body_over_limit_without_content_length_is_413(rf, api_channel):
    from smmdesk.inbox.webhook_views import receive

    body = b" " * (MAX_BODY + 10)
    request = rf.post(f"/hooks/{api_channel.pk}/", data=body, content_type="application/json")
    del request.META["CONTENT_LENGTH"]
    request._stream = __import__("io").BytesIO(body)
    assert receive(request, api_channel.pk).status_code == 413
    assert RawEvent.objects.count() == 0


def test_unknown_channel_is_404(client, api_channel):
    before = counts()
    response = post(client, api_channel.pk + 1000, item())
    assert response.status_code == 404
    assert response.json()["error"].startswith("channel:")
    assert counts() == before


def test_disabled_channel_is_404(client, api_channel):
    Channel.objects.filter(pk=api_channel.pk).update(status=Channel.Status.DISABLED)
    response = post(client, api_channel.pk, item())
    assert response.status_code == 404
    assert counts() == (0, 0, 0)


def test_channel_without_webhooks_is_404(client, cast):
    chat = channel_actions.create_channel(cast.workspace, "webchat", "Site chat", {})
    assert post(client, chat.pk, item()).status_code == 404


def test_only_post(client, api_channel):
    response = client.get(f"/hooks/{api_channel.pk}/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_unreadable_channel_secrets_are_not_a_500(client, api_channel):
    Channel.objects.filter(pk=api_channel.pk).update(secrets="gAAAAA-not-a-fernet-token")
    response = post(client, api_channel.pk, item())
    assert response.status_code == 503
    assert counts() == (0, 0, 0)


def test_other_networks_use_the_same_address(client, cast, run_tasks, django_capture_on_commit_callbacks):
    """The endpoint is generic: any adapter with parse_webhook (here the fake network) is served."""
    secret = "hook-Kp22-secret-value-77ab"
    channel = channel_actions.create_channel(
        cast.workspace,
        "fake",
        "VK",
        {"account_id": "salon-vk", "api_token": "tok-123456", "webhook_secret": secret},
    )
    body = json.dumps(
        [{"id": "vk-1", "from": "u1", "name": "Oleg", "text": "hi", "date": "2026-01-01T10:00:00+00:00"}]
    ).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/hooks/{channel.pk}/",
            data=body,
            content_type="application/json",
            headers={"X-Fake-Signature": signature},
        )
    assert response.status_code == 200
    assert Message.objects.get().external_id == "vk-1"
    # Its own missing signature is refused like any other: 403, nothing stored.
    response = client.post(f"/hooks/{channel.pk}/", data=body, content_type="application/json")
    assert response.status_code == 403 and Message.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"\x00" * 100,
        b'{"messages": [null]}',
        b'{"messages": [{"id": 1e400, "author": {"id": []}, "text": {}}]}',
        b'{"id": "' + b"9" * 5000 + b'", "author": {"id": "a"}, "text": "x"}',
        b'{"messages": "' + "ж".encode() * 1000 + b'"}',
        b'{"id": 1' + b"0" * 5000 + b', "author": {"id": "a"}, "text": "x"}',
    ],
)
def test_hostile_bodies_are_refused_never_500(client, api_channel, body):
    response = post(client, api_channel.pk, body)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()
    assert counts() == (0, 0, 0)
