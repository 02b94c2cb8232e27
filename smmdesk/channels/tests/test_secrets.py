"""Channel secrets are encrypted at rest and never shown back: not in pages, API responses or logs."""

import json
import logging

from django.db import connection

from smmdesk.channels import actions
from smmdesk.channels.fake.adapter import FakeAdapter, FakeNetwork
from smmdesk.channels.models import Channel
from smmdesk.lib import crypto

from .conftest import TOKEN, WEBHOOK

BASE = "/w/salon/settings/channels/"


def test_raw_column_holds_no_plaintext_and_decrypts_back(channel):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets, config FROM channels_channel WHERE id = %s", [channel.pk])
        secrets, config = cursor.fetchone()
    assert secrets and TOKEN not in secrets and WEBHOOK not in secrets
    assert TOKEN not in str(config) and WEBHOOK not in str(config)
    assert json.loads(crypto.decrypt(secrets)) == {"api_token": TOKEN, "webhook_secret": WEBHOOK}
    assert Channel.objects.get(pk=channel.pk).typed_config().api_token.get_secret_value() == TOKEN


def test_pages_never_show_secrets(cast, login, channel):
    client = login(cast.users["owner"])
    FakeNetwork.account("salon-vk").check_error = f"HTTP 401 for https://api.fake.invalid/me?token={TOKEN}"
    pages = [
        client.get(BASE),
        client.get(f"{BASE}{channel.pk}/"),
        client.post(f"{BASE}{channel.pk}/check/", HTTP_HX_REQUEST="true"),
        client.get(BASE),
        client.get(f"{BASE}{channel.pk}/"),
        # A refused edit re-renders the form with what was typed, except the secrets.
        client.post(
            f"{BASE}{channel.pk}/",
            {
                "name": "",
                "account_id": "salon-vk",
                "stands_for": "vk",
                "api_token": "typed-new-secret-1",
                "webhook_secret": WEBHOOK,
            },
        ),
        client.post(
            f"{BASE}add/fake/",
            {"name": "VK group", "account_id": "x", "stands_for": "vk", "api_token": "typed-new-secret-1"},
        ),
    ]
    for response in pages:
        html = response.content.decode()
        assert TOKEN not in html and WEBHOOK not in html and "typed-new-secret-1" not in html
    channel.refresh_from_db()
    assert channel.status == Channel.Status.ERROR
    assert "token=***" in channel.last_error and TOKEN not in channel.last_error
    assert "token=***" in pages[3].content.decode()  # the error is shown, scrubbed


def test_api_responses_never_show_secrets(cast, client, channel):
    from smmdesk.accounts.actions import create_api_token

    _token, raw = create_api_token(cast.users["owner"], "t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    FakeNetwork.account("salon-vk").check_error = f"upstream said: bad token {TOKEN}"
    responses = [
        client.get("/api/w/salon/channels", **auth),
        client.get(f"/api/w/salon/channels/{channel.pk}", **auth),
        client.post(f"/api/w/salon/channels/{channel.pk}/check", **auth),
        client.patch(
            f"/api/w/salon/channels/{channel.pk}",
            json.dumps({"config": {"api_token": 5}}),
            content_type="application/json",
            **auth,
        ),
        client.post(
            "/api/w/salon/channels",
            json.dumps(
                {
                    "kind": "fake",
                    "name": "VK group",
                    "config": {"account_id": "x", "api_token": "fresh-secret-999"},
                }
            ),
            content_type="application/json",
            **auth,
        ),
    ]
    for response in responses:
        body = response.content.decode()
        assert response.status_code != 500
        assert TOKEN not in body and WEBHOOK not in body and "fresh-secret-999" not in body
    detail = responses[1].json()
    assert detail["config"]["api_token"] == {"set": True}
    assert detail["config"]["webhook_secret"] == {"set": True}


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_log_lines_never_contain_secrets(cast, channel, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    # The console handler's RedactSecretsFilter would hide a leak from caplog; a handler on our own
    # logger sees the record first, so this also proves the channel code scrubs by itself.
    own = Lines()
    monkeypatch.setattr(logging.getLogger("smmdesk.channels"), "handlers", [own])
    # An adapter error that quotes the token, then an adapter that crashes with it in the exception.
    FakeNetwork.account("salon-vk").check_error = f"401 Unauthorized: access_token={TOKEN} is invalid"
    actions.check_channel(channel.pk)

    def crash(self):
        raise RuntimeError(f"connection reset while sending {TOKEN} / {WEBHOOK}")

    with monkeypatch.context() as patch:
        patch.setattr(FakeAdapter, "check", crash)
        checked = actions.check_channel(channel.pk)
    assert checked.status == Channel.Status.ERROR and "unexpectedly" in checked.last_error
    FakeNetwork.account("salon-vk").check_error = None
    FakeNetwork.account("salon-vk").revoked = True
    actions.check_channel(channel.pk)  # warns: needs reconnecting

    assert any("check failed" in line for line in own.lines)
    assert not [line for line in own.lines if TOKEN in line or WEBHOOK in line]
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "check crashed" in text and "RuntimeError" in text  # the crash is logged, for the operator
    assert "needs reconnecting" in text
    assert TOKEN not in text and WEBHOOK not in text
    assert TOKEN not in caplog.text and WEBHOOK not in caplog.text


def test_redact_filter_removes_known_secrets(channel):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "calling with %s and %s", (TOKEN, "ok"), None)
    assert crypto.RedactSecretsFilter().filter(record) is True
    assert record.getMessage() == "calling with *** and ok"
    crypto.remember_secret("qq7")  # too short to redact: it would blank out ordinary words
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "qq7 and qq7qq7", (), None)
    crypto.RedactSecretsFilter().filter(record)
    assert record.getMessage() == "qq7 and qq7qq7"
