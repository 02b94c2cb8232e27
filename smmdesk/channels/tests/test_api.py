"""Channels over the HTTP API: CRUD, checks, and bad input that always gets a named-field answer."""

import json

import pytest

from smmdesk.accounts.actions import create_api_token
from smmdesk.accounts.models import AuditEvent
from smmdesk.channels.models import Channel

from .conftest import TOKEN


@pytest.fixture
def api(cast, client):
    def call(method, path, body=None, role="owner", raw=None, user=None):
        _token, secret = create_api_token(user or cast.users[role], "t")
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return client.generic(
            method,
            "/api" + path,
            data,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )

    return call


def fields(response):
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_channel_kinds(api):
    response = api("GET", "/channel-kinds")
    assert response.status_code == 200
    fake = next(k for k in response.json() if k["kind"] == "fake")
    assert fake["capabilities"] == sorted(fake["capabilities"]) and "publish" in fake["capabilities"]
    assert fake["limits"]["max_text"] == 2000
    assert fake["config_schema"]["secret"] == ["api_token", "webhook_secret"]
    # What a client needs to refuse a post before the network does: Instagram's picture, Telegram's caption.
    limits = {k["kind"]: k["limits"] for k in response.json()}
    assert (limits["instagram"]["media_required"], limits["fake"]["media_required"]) == (True, False)
    assert (limits["telegram"]["max_caption"], limits["telegram"]["max_text"]) == (1024, 4096)


def test_channel_kinds_needs_a_user(client):
    assert client.get("/api/channel-kinds").status_code == 401


def test_create_list_get_patch_check_delete(cast, api):
    response = api(
        "POST",
        "/w/salon/channels",
        {
            "kind": "fake",
            "name": "VK",
            "config": {"account_id": "salon-vk", "stands_for": "vk", "api_token": TOKEN},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["config"] == {
        "account_id": "salon-vk",
        "stands_for": "vk",
        "api_token": {"set": True},
        "webhook_secret": {"set": False},
    }
    pk = body["id"]
    assert [c["id"] for c in api("GET", "/w/salon/channels", role="content_manager").json()] == [pk]
    assert api("GET", f"/w/salon/channels/{pk}").json()["status"] == "new"

    response = api("POST", f"/w/salon/channels/{pk}/check")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.json()["account_name"] == "Fake vk account"

    # A PATCH without secrets keeps them; a new one is stored and audited.
    response = api(
        "PATCH", f"/w/salon/channels/{pk}", {"name": "VK group", "config": {"stands_for": "other"}}
    )
    assert response.status_code == 200 and response.json()["config"]["stands_for"] == "other"
    assert Channel.objects.get(pk=pk).secret_values() == {"api_token": TOKEN}
    audits = AuditEvent.objects.filter(action=AuditEvent.Action.CHANNEL_SECRET_CHANGED)
    assert audits.count() == 1
    response = api("PATCH", f"/w/salon/channels/{pk}", {"config": {"webhook_secret": "hook-secret-42"}})
    assert response.json()["config"]["webhook_secret"] == {"set": True}
    assert audits.count() == 2 and audits.first().detail["fields"] == ["webhook_secret"]
    # What a client read can be sent back unchanged: {"set": true} keeps the stored secret.
    read_back = api("GET", f"/w/salon/channels/{pk}").json()["config"]
    assert api("PATCH", f"/w/salon/channels/{pk}", {"config": read_back}).status_code == 200
    assert audits.count() == 2
    assert Channel.objects.get(pk=pk).secret_values() == {
        "api_token": TOKEN,
        "webhook_secret": "hook-secret-42",
    }
    response = api("PATCH", f"/w/salon/channels/{pk}", {"config": {"webhook_secret": None}})
    assert response.json()["config"]["webhook_secret"] == {"set": False}

    response = api("PATCH", f"/w/salon/channels/{pk}", {"enabled": False})
    assert response.json()["enabled"] is False and response.json()["status"] == "disabled"
    assert api("POST", f"/w/salon/channels/{pk}/check").status_code == 409
    assert api("PATCH", f"/w/salon/channels/{pk}", {"enabled": True}).json()["status"] == "new"

    assert api("DELETE", f"/w/salon/channels/{pk}").status_code == 204
    assert not Channel.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CHANNEL_DELETED).count() == 1
    assert api("DELETE", f"/w/salon/channels/{pk}").status_code == 404


@pytest.mark.parametrize(
    "raw,field",
    [
        ('{"kind": "fake", "name": "x", "config": {"account_id": "ok", "api_token": 5}}', "config.api_token"),
        (
            '{"kind": "fake", "name": "x", "config": {"account_id": "no spaces", "api_token": "t"}}',
            "config.account_id",
        ),
        ('{"kind": "fake", "name": "x", "config": {"api_token": "t"}}', "config.account_id"),
        (
            '{"kind": "fake", "name": "x", "config": {"account_id": "a", "api_token": "t", "extra": 1}}',
            "config.extra",
        ),
        (
            '{"kind": "fake", "name": "x", "config": {"account_id": "a", "api_token": "t", "stands_for": "x"}}',
            "config.stands_for",
        ),
        (
            '{"kind": "fake", "name": "x", "config": {"account_id": ["a"], "api_token": "t"}}',
            "config.account_id",
        ),
        ('{"kind": "fake", "name": "x", "config": "nope"}', "config"),
        ('{"kind": "fake", "name": "", "config": {"account_id": "a", "api_token": "t"}}', "name"),
        (
            '{"kind": "fake", "name": "' + "n" * 200 + '", "config": {"account_id": "a", "api_token": "t"}}',
            "name",
        ),
        ('{"kind": "myspace", "name": "x", "config": {}}', "kind"),
        ('{"kind": 5, "name": "x"}', "kind"),
        ('{"kind": null, "name": "x"}', "kind"),
        ("{}", "kind"),
    ],
)
def test_bad_create_input_is_422_naming_the_field(cast, api, raw, field):
    response = api("POST", "/w/salon/channels", raw=raw)
    assert response.status_code == 422, response.content
    assert response.json()["detail"] == "invalid input"
    assert field in fields(response), response.json()
    assert not Channel.objects.exists()


@pytest.mark.parametrize("raw", ["{bad json", "[1, 2]", '"text"', "null", "\xff"])
def test_malformed_bodies_are_client_errors(cast, api, raw):
    response = api("POST", "/w/salon/channels", raw=raw)
    assert 400 <= response.status_code < 500, response.content


def test_duplicate_name_is_a_field_error(cast, api, channel):
    response = api(
        "POST",
        "/w/salon/channels",
        {"kind": "fake", "name": "vk group", "config": {"account_id": "a", "api_token": "t"}},
    )
    assert response.status_code == 422 and "already exists" in fields(response)["name"]
    other = api(
        "POST",
        "/w/salon/channels",
        {"kind": "fake", "name": "Other", "config": {"account_id": "a", "api_token": "t"}},
    ).json()["id"]
    response = api("PATCH", f"/w/salon/channels/{other}", {"name": "VK GROUP"})
    assert response.status_code == 422 and "name" in fields(response)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"config": {"account_id": "bad id"}}, "config.account_id"),
        ({"config": {"nope": 1}}, "config.nope"),
        ({"name": ""}, "name"),
        ({"enabled": "sometimes"}, "enabled"),
        ({"config": [1]}, "config"),
    ],
)
def test_bad_patch_is_422(cast, api, channel, body, field):
    response = api("PATCH", f"/w/salon/channels/{channel.pk}", body)
    assert response.status_code == 422, response.content
    assert field in fields(response)
    channel.refresh_from_db()
    assert channel.name == "VK group" and channel.config["account_id"] == "salon-vk"


def test_other_workspace_ids_are_404(cast, api, foreign_channel):
    pk = foreign_channel.pk
    for method, path, body in [
        ("GET", f"/w/salon/channels/{pk}", None),
        ("PATCH", f"/w/salon/channels/{pk}", {"name": "mine now"}),
        ("POST", f"/w/salon/channels/{pk}/check", None),
        ("DELETE", f"/w/salon/channels/{pk}", None),
        ("GET", "/w/salon/channels/99999999999999999999999", None),
        ("GET", "/w/salon/channels/0", None),
    ]:
        assert api(method, path, body).status_code == 404, (method, path)
    response = api("GET", "/w/salon/channels/abc")
    assert response.status_code == 422 and "channel_id" in fields(response)
    foreign_channel.refresh_from_db()
    assert foreign_channel.name == "Rival VK"
    # And the other workspace itself is not there for a non-member.
    assert api("GET", "/w/rival/channels").status_code == 404


@pytest.mark.parametrize(
    "role,status", [("content_manager", 403), ("agent", 403), ("viewer", 403), ("smm_manager", 201)]
)
def test_create_needs_manage(cast, api, role, status):
    response = api(
        "POST",
        "/w/salon/channels",
        {"kind": "fake", "name": "VK", "config": {"account_id": "a", "api_token": "tok-1234"}},
        role=role,
    )
    assert response.status_code == status


def test_views_declare_permissions():
    from smmdesk.channels import api as channels_api

    assert channels_api.create_channel.access == "channels.manage"
    assert channels_api.list_channels.access == "channels.view"
    assert channels_api.channel_kinds.access == "user"
