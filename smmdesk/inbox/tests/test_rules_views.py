"""Settings pages for routing rules: roles, saving, refusals that name the field, order and deletion."""

import pytest
from django.urls import reverse

from smmdesk.accounts.models import Membership
from smmdesk.business.models import Department
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import routing, rules_views
from smmdesk.inbox.models import Customer, RoutingRule

pytestmark = pytest.mark.django_db
ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
MANAGERS = {"owner", "smm_manager"}


def url(name, slug="salon", **kwargs):
    return reverse(f"inbox:{name}", kwargs={"slug": slug, **kwargs})


@pytest.fixture
def quality(cast):
    return Department.objects.create(workspace=cast.workspace, name="Quality")


@pytest.fixture
def a_rule(cast, quality):
    return RoutingRule.objects.create(
        workspace=cast.workspace, name="Complaints", words=["жалоба"], set_department=quality
    )


def rule_data(**changes):
    data = {"name": "Complaints", "words": "жалоба\nsťažnosť, complaint", "enabled": "on", "stop": "on"}
    data.update(changes)
    return data


def test_every_rules_view_declares_access():
    access = {p.name: (p.callback.access, p.callback.write_access) for p in rules_views.urlpatterns}
    assert access == {
        "rules": ("inbox.manage", "inbox.manage"),
        "rule_edit": ("inbox.manage", "inbox.manage"),
        "rule_delete": ("inbox.manage", "inbox.manage"),
        "rule_move": ("inbox.manage", "inbox.manage"),
        "canned_replies": ("inbox.view", "inbox.manage"),
        "canned_reply_edit": ("inbox.view", "inbox.manage"),
        "canned_reply_delete": ("inbox.manage", "inbox.manage"),
    }


@pytest.mark.parametrize("role", ROLES)
def test_rules_pages_are_for_managers(cast, login, a_rule, role):
    client = login(cast.users[role])
    expected = 200 if role in MANAGERS else 403
    assert client.get(url("rules")).status_code == expected
    assert client.get(url("rule_edit", rule_id=a_rule.pk)).status_code == expected
    if role not in MANAGERS:
        assert client.post(url("rules"), rule_data(name="Sneaky")).status_code == 403
        assert client.post(url("rule_delete", rule_id=a_rule.pk)).status_code == 403
        assert client.post(url("rule_move", rule_id=a_rule.pk), {"direction": "up"}).status_code == 403
        assert client.post(url("rule_edit", rule_id=a_rule.pk), rule_data(name="X")).status_code == 403
        assert list(RoutingRule.objects.values_list("name", flat=True)) == ["Complaints"]


def test_outsider_gets_404(cast, login, a_rule):
    client = login(cast.outsider)
    for address in (url("rules"), url("rule_edit", rule_id=a_rule.pk), url("canned_replies")):
        assert client.get(address).status_code == 404
    assert client.post(url("rule_delete", rule_id=a_rule.pk)).status_code == 404
    assert RoutingRule.objects.filter(pk=a_rule.pk).exists()


def test_another_workspaces_rule_is_not_found(cast, login):
    theirs = RoutingRule.objects.create(workspace=cast.other, name="Theirs", words=["x"])
    client = login(cast.users["owner"])
    assert client.get(url("rule_edit", rule_id=theirs.pk)).status_code == 404
    assert client.post(url("rule_delete", rule_id=theirs.pk)).status_code == 404
    assert client.post(url("rule_move", rule_id=theirs.pk), {"direction": "up"}).status_code == 404
    assert RoutingRule.objects.filter(pk=theirs.pk).exists()


def test_list_shows_rules_in_order(cast, login, a_rule):
    RoutingRule.objects.create(workspace=cast.workspace, name="VIP first", position=0, words=["vip"])
    a_rule.position = 5
    a_rule.save()
    page = login(cast.users["smm_manager"]).get(url("rules")).content.decode()
    assert page.index("VIP first") < page.index("Complaints")
    assert "жалоба" in page and "Quality" in page


def test_manager_adds_a_rule_with_every_field(cast, login, quality):
    channel = Channel(workspace=cast.workspace, kind="fake", name="VK")
    channel.store_config(FakeConfig(account_id="acc", api_token="token-123456"))
    channel.save()
    customer = Customer.objects.create(workspace=cast.workspace, name="Anna")
    agent = Membership.objects.get(workspace=cast.workspace, role="agent")
    RoutingRule.objects.create(workspace=cast.workspace, name="Existing", position=3, words=["a"])
    data = rule_data(
        channel=channel.pk,
        sentiment="negative",
        language="ru",
        customer=str(customer.pk),
        set_department=quality.pk,
        set_priority="2",
        set_assignee=agent.pk,
        add_tags="complaint, vip\ncomplaint",
    )
    response = login(cast.users["smm_manager"]).post(url("rules"), data)
    assert response.status_code == 302 and response["Location"] == url("rules")
    rule = RoutingRule.objects.get(name="Complaints")
    assert rule.workspace == cast.workspace
    assert rule.words == ["жалоба", "sťažnosť", "complaint"]
    assert (rule.channel, rule.sentiment, rule.language, rule.customer) == (
        channel,
        "negative",
        "ru",
        customer,
    )
    assert (rule.set_department, rule.set_priority, rule.set_assignee) == (quality, 2, agent)
    assert rule.add_tags == ["complaint", "vip"]
    assert rule.stop and rule.enabled
    assert rule.position == 4  # after the existing rules


def errors(response):
    return response.context["form"].errors


def test_a_rule_without_any_condition_is_refused_on_words(cast, login, quality):
    response = login(cast.users["owner"]).post(
        url("rules"), {"name": "Everything", "set_department": quality.pk, "stop": "on"}
    )
    assert response.status_code == 200
    assert "at least one condition" in errors(response)["words"][0]
    assert not RoutingRule.objects.exists()


def test_a_rule_that_does_nothing_is_refused(cast, login):
    response = login(cast.users["owner"]).post(url("rules"), {"name": "Idle", "words": "жалоба"})
    assert "Choose what the rule does" in errors(response)["set_department"][0]


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"name": "  "}, "name"),
        ({"words": "123, !!!"}, "words"),
        ({"words": "x" * 101}, "words"),
        ({"sentiment": "furious"}, "sentiment"),
        ({"language": "de"}, "language"),
        ({"set_priority": "9"}, "set_priority"),
        ({"set_priority": "high"}, "set_priority"),
        ({"customer": "abc"}, "customer"),
        ({"customer": "99999999999999999999999"}, "customer"),
        ({"channel": "-1"}, "channel"),
        ({"set_department": "999999"}, "set_department"),
        ({"add_tags": ", ".join(f"t{n}" for n in range(21))}, "add_tags"),
    ],
)
def test_bad_input_is_refused_by_field(cast, login, changes, field):
    response = login(cast.users["owner"]).post(url("rules"), rule_data(**changes))
    assert response.status_code == 200
    assert field in errors(response), errors(response)
    assert not RoutingRule.objects.exists()


def test_choices_are_limited_to_this_workspace(cast, login):
    their_department = Department.objects.create(workspace=cast.other, name="Theirs")
    their_customer = Customer.objects.create(workspace=cast.other, name="Boris")
    their_member = Membership.objects.get(workspace=cast.other)
    response = login(cast.users["owner"]).post(
        url("rules"),
        rule_data(
            set_department=their_department.pk, customer=their_customer.pk, set_assignee=their_member.pk
        ),
    )
    assert {"set_department", "customer", "set_assignee"} <= set(errors(response))
    page = login(cast.users["owner"]).get(url("rules")).content.decode()
    assert "Theirs" not in page and "rival" not in page


def test_manager_edits_a_rule(cast, login, a_rule):
    response = login(cast.users["owner"]).post(
        url("rule_edit", rule_id=a_rule.pk),
        rule_data(name="Renamed", words="претензия", stop="", add_tags="claim"),
    )
    assert response.status_code == 302
    a_rule.refresh_from_db()
    assert (a_rule.name, a_rule.words, a_rule.set_department, a_rule.stop, a_rule.add_tags) == (
        "Renamed",
        ["претензия"],
        None,
        False,
        ["claim"],
    )


def test_text_no_database_can_store_is_refused_by_field(cast):
    form = routing.rule_form(cast.workspace, rule_data(name="bad \ud800 text"))
    assert not form.is_valid() and "name" in form.errors


def test_editing_keeps_the_position(cast, login, a_rule, quality):
    a_rule.position = 7
    a_rule.save()
    login(cast.users["owner"]).post(
        url("rule_edit", rule_id=a_rule.pk), rule_data(set_department=quality.pk, enabled="")
    )
    a_rule.refresh_from_db()
    assert (a_rule.position, a_rule.enabled, a_rule.set_department) == (7, False, quality)


def test_edit_refusal_names_the_field_and_changes_nothing(cast, login, a_rule):
    response = login(cast.users["owner"]).post(url("rule_edit", rule_id=a_rule.pk), rule_data(words=""))
    assert "words" in errors(response)
    a_rule.refresh_from_db()
    assert a_rule.words == ["жалоба"]


def test_manager_deletes_a_rule(cast, login, a_rule):
    response = login(cast.users["smm_manager"]).post(url("rule_delete", rule_id=a_rule.pk))
    assert response.status_code == 302
    assert not RoutingRule.objects.exists()


def test_move_up_and_down(cast, login):
    a, b, c = (
        RoutingRule.objects.create(workspace=cast.workspace, name=name, position=0, words=[name])
        for name in "abc"
    )
    client = login(cast.users["owner"])

    def order():
        return list(
            RoutingRule.objects.filter(workspace=cast.workspace)
            .order_by("position", "pk")
            .values_list("name", flat=True)
        )

    assert client.post(url("rule_move", rule_id=c.pk), {"direction": "up"}).status_code == 302
    assert order() == ["a", "c", "b"]
    client.post(url("rule_move", rule_id=a.pk), {"direction": "down"})
    assert order() == ["c", "a", "b"]
    client.post(url("rule_move", rule_id=c.pk), {"direction": "up"})  # already first
    assert order() == ["c", "a", "b"]
    client.post(url("rule_move", rule_id=b.pk), {"direction": "down"})  # already last
    assert order() == ["c", "a", "b"]
    assert list(RoutingRule.objects.order_by("position").values_list("position", flat=True)) == [0, 1, 2]


def test_move_without_a_direction_is_a_clear_400(cast, login, a_rule):
    client = login(cast.users["owner"])
    response = client.post(url("rule_move", rule_id=a_rule.pk), {"direction": "sideways"})
    assert response.status_code == 400 and b"direction" in response.content
    assert client.get(url("rule_move", rule_id=a_rule.pk)).status_code == 405


def test_customer_text_in_rules_is_escaped(cast, login):
    RoutingRule.objects.create(
        workspace=cast.workspace, name="<script>alert(1)</script>", words=["<img src=x onerror=alert(1)>"]
    )
    page = login(cast.users["owner"]).get(url("rules")).content.decode()
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page
