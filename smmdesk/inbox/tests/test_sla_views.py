"""SLA policy settings pages and the notices endpoint the inbox script polls."""

import json

import pytest
from django.urls import reverse

from smmdesk.business.actions import InvalidInput
from smmdesk.business.models import Department
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import notify, sla_views
from smmdesk.inbox.models import Conversation, Notification, Priority, SlaPolicy


def url(name, cast, **kwargs):
    return reverse(f"inbox:{name}", kwargs={"slug": cast.workspace.slug, **kwargs})


def channel_in(workspace, name="VK"):
    channel = Channel(workspace=workspace, kind="fake", name=name)
    channel.store_config(FakeConfig(account_id=f"acc-{workspace.slug}", api_token="token-123456"))
    channel.save()
    return channel


def valid(**changes):
    data = {
        "name": "Instagram complaints",
        "channel": "",
        "priority": "",
        "department": "",
        "first_response_minutes": "5",
        "next_response_minutes": "20",
        "resolution_minutes": "480",
        "business_hours": "on",
    }
    data.update(changes)
    return data


def test_everyone_sees_the_policies_but_only_managers_get_the_form(cast, login):
    SlaPolicy.objects.create(workspace=cast.workspace, name="VIP", first_response_minutes=3)
    SlaPolicy.objects.create(workspace=cast.other, name="Rival policy")
    viewer = login(cast.users["viewer"]).get(url("sla_policies", cast))
    assert viewer.status_code == 200
    page = viewer.content.decode()
    assert "VIP" in page and "Rival policy" not in page
    assert "Add policy" not in page and "can view these settings but not change them" in page
    manager = login(cast.users["smm_manager"]).get(url("sla_policies", cast)).content.decode()
    assert "Add policy" in manager and 'name="first_response_minutes"' in manager


def test_manager_adds_a_policy_scoped_to_channel_priority_and_department(cast, login):
    channel = channel_in(cast.workspace)
    department = Department.objects.create(workspace=cast.workspace, name="Complaints")
    response = login(cast.users["smm_manager"]).post(
        url("sla_policies", cast),
        valid(
            channel=channel.pk,
            priority=Priority.URGENT,
            department=department.pk,
            auto_acknowledge="on",
        ),
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(workspace=cast.workspace)
    assert (policy.channel, policy.priority, policy.department) == (channel, Priority.URGENT, department)
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes) == (
        5,
        20,
        480,
    )
    assert policy.business_hours and policy.auto_acknowledge


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"first_response_minutes": "0"}, "first_response_minutes"),
        ({"next_response_minutes": "525601"}, "next_response_minutes"),
        ({"resolution_minutes": "soon"}, "resolution_minutes"),
        ({"resolution_minutes": ""}, "resolution_minutes"),
        ({"name": "   "}, "name"),
        ({"priority": "9"}, "priority"),
        ({"name": "x" * 121}, "name"),
    ],
)
def test_bad_input_is_refused_naming_the_field(cast, login, changes, field):
    response = login(cast.users["owner"]).post(url("sla_policies", cast), valid(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not SlaPolicy.objects.exists()


def test_the_form_refuses_text_no_database_can_store(cast):
    # JSON (the API) can carry a lone surrogate; a form POST cannot, so the form is fed directly.
    form = sla_views.policy_form(cast.workspace, valid(name="bad \ud800"))
    assert not form.is_valid() and "name" in form.errors
    with pytest.raises(InvalidInput):
        sla_views.save_policy(cast.workspace, valid(name="bad \ud800"))


def test_another_workspaces_channel_or_department_is_refused(cast, login):
    foreign_channel = channel_in(cast.other)
    foreign_department = Department.objects.create(workspace=cast.other, name="Theirs")
    client = login(cast.users["owner"])
    response = client.post(url("sla_policies", cast), valid(channel=foreign_channel.pk))
    assert response.context["form"].errors["channel"] == [
        "Choose a channel of this workspace, or any channel."
    ]
    response = client.post(url("sla_policies", cast), valid(department=foreign_department.pk))
    assert "department" in response.context["form"].errors
    assert not SlaPolicy.objects.exists()


def test_names_and_scopes_are_unique_in_the_workspace(cast, login):
    SlaPolicy.objects.create(workspace=cast.workspace, name="Instagram complaints", priority=Priority.HIGH)
    SlaPolicy.objects.create(workspace=cast.other, name="Everywhere")
    client = login(cast.users["owner"])
    response = client.post(url("sla_policies", cast), valid(name="instagram COMPLAINTS"))
    assert response.context["form"].errors["name"] == ["A policy with this name already exists."]
    response = client.post(url("sla_policies", cast), valid(name="High", priority=Priority.HIGH))
    assert "already covers this channel" in response.context["form"].non_field_errors()[0]
    # The same name in another workspace is fine.
    assert client.post(url("sla_policies", cast), valid(name="Everywhere")).status_code == 302


def test_edit_and_delete(cast, login):
    policy = SlaPolicy.objects.create(workspace=cast.workspace, name="VIP")
    client = login(cast.users["smm_manager"])
    page = client.get(url("sla_policy_edit", cast, policy_id=policy.pk))
    assert page.status_code == 200 and "Save policy" in page.content.decode()
    response = client.post(
        url("sla_policy_edit", cast, policy_id=policy.pk), valid(name="VIP", resolution_minutes="60")
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.resolution_minutes == 60
    # Saving without changing the scope does not clash with the policy itself.
    assert (
        client.post(url("sla_policy_edit", cast, policy_id=policy.pk), valid(name="VIP")).status_code == 302
    )
    response = client.post(url("sla_policy_delete", cast, policy_id=policy.pk))
    assert response.status_code == 302 and not SlaPolicy.objects.exists()


def test_roles_and_foreign_policies(cast, login):
    mine = SlaPolicy.objects.create(workspace=cast.workspace, name="Mine")
    theirs = SlaPolicy.objects.create(workspace=cast.other, name="Theirs")
    agent = login(cast.users["agent"])
    assert agent.get(url("sla_policy_edit", cast, policy_id=mine.pk)).status_code == 200
    assert agent.post(url("sla_policy_edit", cast, policy_id=mine.pk), valid()).status_code == 403
    assert agent.post(url("sla_policy_delete", cast, policy_id=mine.pk)).status_code == 403
    assert agent.post(url("sla_policies", cast), valid()).status_code == 403
    owner = login(cast.users["owner"])
    assert owner.get(url("sla_policy_edit", cast, policy_id=theirs.pk)).status_code == 404
    assert owner.post(url("sla_policy_delete", cast, policy_id=theirs.pk)).status_code == 404
    assert SlaPolicy.objects.count() == 2


# ---- the notices endpoint ----


@pytest.fixture
def notices(cast):
    channel = channel_in(cast.workspace)
    conversation = Conversation.objects.create(
        workspace=cast.workspace, channel=channel, kind="dm", thread_key="dm:1"
    )
    agent = cast.users["agent"].memberships.get()
    owner = cast.users["owner"].memberships.get()
    first = notify.notify([agent], conversation, "sla_warning", "Deadline near <script>", "k:1", email=False)
    second = notify.notify([agent], conversation, "sla_breach", "Deadline missed", "k:2", email=False)
    theirs = notify.notify([owner], conversation, "sla_breach", "Deadline missed", "k:2", email=False)
    return first[0], second[0], theirs[0], conversation


def test_unread_notices_as_json(cast, login, notices):
    first, second, _theirs, conversation = notices
    response = login(cast.users["agent"]).get(url("notifications", cast))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["unread"] == 2
    assert [n["id"] for n in body["notifications"]] == [second.pk, first.pk]
    item = body["notifications"][1]
    assert item["kind"] == "sla_warning" and item["text"] == "Deadline near <script>"
    assert item["conversation_id"] == conversation.pk and item["created_at"]
    assert item["url"] == f"/w/salon/inbox/c/{conversation.pk}/"
    assert login(cast.users["viewer"]).get(url("notifications", cast)).json() == {
        "notifications": [],
        "unread": 0,
    }


def test_mark_read_by_form_json_or_all(cast, login, notices):
    first, second, theirs, _conversation = notices
    client = login(cast.users["agent"])
    response = client.post(url("notifications_read", cast), {"ids": [first.pk, theirs.pk]})
    assert response.json() == {"marked": 1}
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    response = client.post(
        url("notifications_read", cast), json.dumps({"all": True}), content_type="application/json"
    )
    assert response.json() == {"marked": 1}
    assert client.get(url("notifications", cast)).json()["unread"] == 0


@pytest.mark.parametrize(
    "body,content_type",
    [
        ("", "application/x-www-form-urlencoded"),
        ("ids=abc", "application/x-www-form-urlencoded"),
        ("ids=-1", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"ids": "1"}', "application/json"),
        ('{"ids": [true]}', "application/json"),
        ('{"ids": [1.5]}', "application/json"),
        ('{"ids": [99999999999999999999999]}', "application/json"),
        (json.dumps({"ids": list(range(1, 502))}), "application/json"),
    ],
)
def test_bad_mark_read_requests_are_a_clear_400(cast, login, notices, body, content_type):
    response = login(cast.users["agent"]).post(
        url("notifications_read", cast), body, content_type=content_type
    )
    assert response.status_code == 400
    assert response.json()["field"] == "ids"
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_notices_need_membership(cast, login, notices):
    outsider = login(cast.outsider)
    assert outsider.get(url("notifications", cast)).status_code == 404
    assert outsider.post(url("notifications_read", cast), {"all": "1"}).status_code == 404
    assert not Notification.objects.filter(read_at__isnull=False).exists()
