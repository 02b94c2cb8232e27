"""The generic inbound webhook adapter (kind "api"): signature, payload shape, errors naming the field."""

import json
from datetime import UTC, datetime

import pytest

from smmdesk.channels import actions
from smmdesk.channels.base import AdapterError, Capability, OutboundReply
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.webhook.adapter import (
    SIGNATURE_HEADER,
    SignatureError,
    WebhookAdapter,
    WebhookConfig,
    sign,
)

SECRET = "crm-secret-Xy71-0123456789"


def adapter(**config):
    return WebhookAdapter(WebhookConfig(secret=SECRET, **config))


def signed(data, secret=SECRET):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return body, {SIGNATURE_HEADER: sign(secret, body)}


def message(**over):
    item = {"id": "crm-123", "author": {"id": "client-7", "name": "Анна"}, "text": "Хочу записаться"}
    item.update(over)
    return item


def test_signed_message_becomes_event():
    body, headers = signed(
        {
            "messages": [
                message(
                    kind="email",
                    thread="deal-5",
                    reply_to="crm-100",
                    subject="Запись",
                    date="2026-03-01T10:00:00+05:00",
                    author={"id": 42, "name": "Анна", "handle": "anna", "url": "https://crm.example/42"},
                )
            ]
        }
    )
    [event] = adapter().parse_webhook(body, headers)
    assert event.external_id == "crm-123"
    assert event.kind == "email"
    assert event.author_id == "42"  # a CRM's numeric id is the same id as text
    assert (event.author_name, event.author_handle, event.author_url) == (
        "Анна",
        "anna",
        "https://crm.example/42",
    )
    assert (event.thread_id, event.reply_to_id) == ("deal-5", "crm-100")
    assert event.created_at == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    assert event.raw["subject"] == "Запись"


def test_single_object_and_defaults(time_machine):
    time_machine.move_to(datetime(2026, 5, 4, 12, 0, tzinfo=UTC), tick=False)
    body, headers = signed(message())
    [event] = adapter().parse_webhook(body, headers)
    assert event.kind == "dm"
    assert event.created_at == datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    # A date without a zone is UTC, not the server's zone.
    body, headers = signed(message(date="2026-01-02T03:04:05"))
    assert adapter().parse_webhook(body, headers)[0].created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_header_lookup_ignores_case():
    body, headers = signed(message())
    lower = {SIGNATURE_HEADER.lower(): headers[SIGNATURE_HEADER]}
    assert len(adapter().parse_webhook(body, lower)) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: ""},
        {SIGNATURE_HEADER: "sha256=" + "0" * 64},
        {SIGNATURE_HEADER: sign("another-secret-0123456789", b"{}")},
        {SIGNATURE_HEADER: "sha256=ünïcode"},
    ],
    ids=["missing", "empty", "zeros", "other-secret", "non-ascii"],
)
def test_wrong_or_missing_signature_is_refused(headers):
    body = json.dumps(message()).encode()
    with pytest.raises(SignatureError) as caught:
        adapter().parse_webhook(body, headers)
    assert caught.value.permanent
    assert SIGNATURE_HEADER in caught.value.message
    assert SECRET not in caught.value.message


def test_signature_covers_the_exact_body():
    body, headers = signed(message())
    with pytest.raises(SignatureError):
        adapter().parse_webhook(body + b" ", headers)


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"{not json", "body: malformed JSON"),
        (b"\xff\xfe\x00", "body:"),
        (b"[" * 100_000, "body:"),
        (b"[]", "body: expected a JSON object"),
        (b'"text"', "body: expected a JSON object"),
        ({"messages": []}, "messages: list should have at least 1 item"),
        ({"messages": {"id": 1}}, "messages: input should be a valid list"),
        ({"messages": [message(author={})]}, "messages[0].author.id: field required"),
        ({"messages": [message(), {"id": "x", "text": "y"}]}, "messages[1].author: field required"),
        ({"messages": [message(text="   ")]}, "messages[0].text: string should have at least 1 character"),
        (message(kind="fax"), "kind: input should be 'dm', 'comment', 'mention', 'email' or 'chat'"),
        (message(date="yesterday"), "date: input should be a valid datetime"),
        (message(author={"id": "a", "url": "javascript:alert(1)"}), "author.url: must start with https://"),
        (message(text="a\u0000b"), "text: contains characters that are not allowed"),
        (message(text="\ud800"), "text: contains characters that are not allowed"),
        (message(id=True), "id: input should be a valid string"),
        (message(text="x" * 20001), "text: string should have at most 20000 characters"),
        ({"messages": [message(id=str(i)) for i in range(101)]}, "messages: list should have at most 100"),
    ],
    ids=[
        "malformed",
        "not-utf8",
        "deep",
        "list",
        "string",
        "empty-list",
        "not-list",
        "author-id",
        "second-author",
        "blank-text",
        "kind",
        "date",
        "js-url",
        "nul",
        "surrogate",
        "bool-id",
        "long-text",
        "too-many",
    ],
)
def test_bad_body_names_the_field(data, expected):
    body, headers = signed(data)
    with pytest.raises(AdapterError) as caught:
        adapter().parse_webhook(body, headers)
    assert not isinstance(caught.value, SignatureError)
    assert caught.value.permanent
    assert caught.value.message.startswith(expected), caught.value.message


def test_lone_surrogate_escape_in_json_is_refused():
    body, headers = signed(b'{"id": "1", "author": {"id": "a"}, "text": "\\ud800"}')
    with pytest.raises(AdapterError, match="text: contains characters"):
        adapter().parse_webhook(body, headers)


def test_allowed_kinds():
    config = {"allowed_kinds": " DM, email ,dm"}
    assert WebhookConfig(secret=SECRET, **config).allowed_kinds == "dm,email"
    body, headers = signed({"messages": [message(kind="email"), message(id="2", kind="comment")]})
    with pytest.raises(AdapterError, match=r"messages\[1\]\.kind: 'comment' is not allowed"):
        adapter(**config).parse_webhook(body, headers)
    body, headers = signed(message(kind="mention"))
    with pytest.raises(AdapterError, match=r"^kind: 'mention' is not allowed"):
        adapter(**config).parse_webhook(body, headers)


def test_config_validation():
    with pytest.raises(ValueError, match="at least 16"):
        WebhookConfig(secret="short")
    with pytest.raises(ValueError, match="Unknown kind: fax"):
        WebhookConfig(secret=SECRET, allowed_kinds="dm,fax")


def test_only_receives():
    assert WebhookAdapter.capabilities == frozenset({Capability.INBOX})
    with pytest.raises(AdapterError) as caught:
        adapter().send_reply(OutboundReply(text="hi", thread_id="t"))
    assert caught.value.permanent
    assert adapter().check().name


def test_registered_with_a_generated_form(cast):
    assert "api" in [k.kind for k in actions.describe_kinds()]
    form_class = build_form_class(WebhookAdapter)
    assert {"name", "secret", "allowed_kinds"} <= set(form_class.base_fields)
    channel = actions.create_channel(cast.workspace, "api", "CRM", {"secret": SECRET})
    assert channel.config == {"allowed_kinds": ""}  # the secret is stored encrypted, not in config
    assert SECRET not in channel.secrets
    with pytest.raises(actions.ChannelInputError) as caught:
        actions.create_channel(cast.workspace, "api", "CRM 2", {"secret": "short"})
    assert caught.value.errors[0][0] == "secret"
