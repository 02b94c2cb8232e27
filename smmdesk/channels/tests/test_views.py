"""Settings → Channels pages: the add → check → disable → delete flow, permissions and bad input."""

import pytest

from smmdesk.accounts.models import AuditEvent
from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.channels.models import Channel

from .conftest import TOKEN

Action = AuditEvent.Action
BASE = "/w/salon/settings/channels/"


def url(suffix=""):
    return BASE + suffix


@pytest.mark.parametrize("role", ["owner", "smm_manager"])
def test_add_check_disable_delete(cast, login, role):
    client = login(cast.users[role])
    page = client.get(url("add/"))
    assert page.status_code == 200 and 'href="/w/salon/settings/channels/add/fake/"' in page.content.decode()
    assert "Publishes posts" in page.content.decode()  # capabilities are shown

    form = client.get(url("add/fake/"))
    assert 'data-testid="channel-form"' in form.content.decode()
    response = client.post(
        url("add/fake/"),
        {"name": "Telegram bot", "account_id": "salon-tg", "stands_for": "telegram", "api_token": TOKEN},
    )
    assert response.status_code == 302 and response["Location"] == url()
    channel = Channel.objects.get(workspace=cast.workspace, name="Telegram bot")
    assert channel.status == Channel.Status.NEW and channel.config["account_id"] == "salon-tg"

    listing = client.get(url()).content.decode()
    assert 'data-testid="channel-status"' in listing and "Not checked yet" in listing

    response = client.post(url(f"{channel.pk}/check/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith("<tr") and "<html" not in row  # an HTMX partial: just the row
    assert 'class="badge ok"' in row and "Fake telegram account" in row
    channel.refresh_from_db()
    assert channel.status == Channel.Status.OK and channel.last_checked_at is not None

    response = client.post(url(f"{channel.pk}/toggle/"))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.status == Channel.Status.DISABLED
    # A disabled channel is not checked.
    client.post(url(f"{channel.pk}/check/"))
    channel.refresh_from_db()
    assert channel.status == Channel.Status.DISABLED
    response = client.post(url(f"{channel.pk}/toggle/"), HTTP_HX_REQUEST="true")
    assert 'data-testid="channel-check"' in response.content.decode()
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEW

    response = client.post(url(f"{channel.pk}/delete/"))
    assert response.status_code == 302
    assert not Channel.objects.filter(pk=channel.pk).exists()
    actions = list(AuditEvent.objects.filter(workspace=cast.workspace).values_list("action", flat=True))
    assert Action.CHANNEL_DELETED in actions and Action.CHANNEL_SECRET_CHANGED in actions


def test_check_of_revoked_token_needs_reconnect(cast, login):
    client = login(cast.users["owner"])
    client.post(
        url("add/fake/"),
        {"name": "VK", "account_id": "vk", "stands_for": "vk", "api_token": "revoked-old-token-1"},
    )
    channel = Channel.objects.get(name="VK")
    response = client.post(url(f"{channel.pk}/check/"))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    assert "revoked" in channel.last_error
    page = client.get(url()).content.decode()
    assert 'class="badge needs_reconnect"' in page and "Needs reconnecting" in page


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_manage_views_refuse_other_roles(cast, login, channel, role):
    client = login(cast.users[role])
    for path in ("add/", "add/fake/", f"{channel.pk}/"):
        assert client.get(url(path)).status_code == 403, path
    for path in (
        "add/fake/",
        f"{channel.pk}/",
        f"{channel.pk}/check/",
        f"{channel.pk}/toggle/",
        f"{channel.pk}/delete/",
    ):
        assert client.post(url(path), {"name": "x"}).status_code == 403, path
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEW and Channel.objects.filter(pk=channel.pk).exists()


def test_content_manager_sees_list_without_buttons(cast, login, channel):
    page = login(cast.users["content_manager"]).get(url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "VK group" in html and 'data-testid="channel-check"' not in html and "channel-delete" not in html


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_list_refuses_roles_without_view(cast, login, role):
    assert login(cast.users[role]).get(url()).status_code == 403


def test_outsider_gets_404(cast, login, channel):
    client = login(cast.outsider)
    for path in ("", "add/", "add/fake/", f"{channel.pk}/"):
        assert client.get(url(path)).status_code == 404, path
    for path in (f"{channel.pk}/check/", f"{channel.pk}/toggle/", f"{channel.pk}/delete/"):
        assert client.post(url(path)).status_code == 404, path
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_other_workspace_channel_is_not_found(cast, login, foreign_channel):
    client = login(cast.users["owner"])
    pk = foreign_channel.pk
    assert client.get(url(f"{pk}/")).status_code == 404
    for path in (f"{pk}/", f"{pk}/check/", f"{pk}/toggle/", f"{pk}/delete/"):
        assert client.post(url(path), {"name": "stolen"}).status_code == 404, path
    foreign_channel.refresh_from_db()
    assert foreign_channel.name == "Rival VK" and foreign_channel.status == Channel.Status.NEW


def test_post_only_views_refuse_get(cast, login, channel):
    client = login(cast.users["owner"])
    for path in ("check/", "toggle/", "delete/"):
        assert client.get(url(f"{channel.pk}/{path}")).status_code == 405


def test_unknown_kind_is_404(cast, login):
    client = login(cast.users["owner"])
    assert client.get(url("add/nope/")).status_code == 404
    assert client.post(url("add/nope/"), {"name": "x"}).status_code == 404


def test_bad_input_names_the_field(cast, login, channel):
    client = login(cast.users["owner"])
    response = client.post(
        url("add/fake/"),
        {"name": "vk GROUP", "account_id": "has spaces!", "stands_for": "myspace", "api_token": ""},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) >= {"stands_for", "api_token"}
    # Pydantic's verdicts come back on the field they name, once the form's own checks pass.
    response = client.post(
        url("add/fake/"),
        {"name": "vk GROUP", "account_id": "has spaces!", "stands_for": "vk", "api_token": "abc-def-123"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "account_id" in errors and "already exists" in errors["name"][0]
    assert Channel.objects.filter(workspace=cast.workspace).count() == 1
    # Empty POST: every required field is named, nothing crashes.
    response = client.post(url("add/fake/"), {})
    assert response.status_code == 400 and {"name", "account_id", "api_token"} <= set(
        response.context["form"].errors
    )


def test_same_name_in_another_workspace_is_fine(cast, login, foreign_channel):
    client = login(cast.users["owner"])
    response = client.post(
        url("add/fake/"),
        {"name": "Rival VK", "account_id": "x", "stands_for": "vk", "api_token": "abc-def-123"},
    )
    assert response.status_code == 302


def test_edit_keeps_blank_secret_and_audits_only_real_changes(cast, login, channel):
    client = login(cast.users["smm_manager"])
    audits = AuditEvent.objects.filter(action=Action.CHANNEL_SECRET_CHANGED, workspace=cast.workspace)
    assert audits.count() == 1  # the creation
    page = client.get(url(f"{channel.pk}/"))
    assert page.status_code == 200 and "leave blank to keep it" in page.content.decode()

    response = client.post(
        url(f"{channel.pk}/"),
        {"name": "VK main", "account_id": "salon-vk2", "stands_for": "vk", "api_token": ""},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "VK main" and channel.config["account_id"] == "salon-vk2"
    assert channel.secret_values()["api_token"] == TOKEN
    assert audits.count() == 1  # no secret changed

    # Entering the same value again is not a change either.
    client.post(
        url(f"{channel.pk}/"),
        {"name": "VK main", "account_id": "salon-vk2", "stands_for": "vk", "api_token": TOKEN},
    )
    assert audits.count() == 1

    client.post(
        url(f"{channel.pk}/"),
        {"name": "VK main", "account_id": "salon-vk2", "stands_for": "vk", "api_token": "new-token-abcdef"},
    )
    assert audits.count() == 2
    event = audits.first()
    assert event.actor == cast.users["smm_manager"] and event.detail["channel"] == "VK main"
    assert event.detail["fields"] == ["api_token"] and "new-token-abcdef" not in str(event.detail)
    assert channel.__class__.objects.get(pk=channel.pk).secret_values()["api_token"] == "new-token-abcdef"

    client.post(
        url(f"{channel.pk}/"),
        {"name": "VK main", "account_id": "salon-vk2", "stands_for": "vk", "webhook_secret__clear": "on"},
    )
    assert "webhook_secret" not in Channel.objects.get(pk=channel.pk).secret_values()
    assert audits.count() == 3 and audits.first().detail["fields"] == ["webhook_secret"]


def test_changing_credentials_asks_for_a_new_check(cast, login, channel):
    client = login(cast.users["owner"])
    client.post(url(f"{channel.pk}/check/"))
    channel.refresh_from_db()
    assert channel.status == Channel.Status.OK
    client.post(
        url(f"{channel.pk}/"),
        {"name": "VK group", "account_id": "salon-vk", "stands_for": "vk", "api_token": "another-token-1"},
    )
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEW


def test_edit_bad_input_is_400_with_field_errors(cast, login, channel, foreign_channel):
    client = login(cast.users["owner"])
    Channel.objects.create(workspace=cast.workspace, kind="fake", name="Other")
    response = client.post(url(f"{channel.pk}/"), {"name": "other", "account_id": "", "stands_for": "vk"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "already exists" in errors["name"][0] and "account_id" in errors


def test_account_revoked_on_the_network(cast, login, channel):
    FakeNetwork.account("salon-vk").revoked = True
    client = login(cast.users["owner"])
    row = client.post(url(f"{channel.pk}/check/"), HTTP_HX_REQUEST="true").content.decode()
    assert 'class="badge needs_reconnect"' in row
