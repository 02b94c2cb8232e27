"""Routing through the real ingestion pipeline: rules on lemmas (inflected Russian, Slovak, English words),
order and stop, each condition, round-robin among a department's members, and the learned-router hook."""

import itertools
from datetime import UTC, datetime

import pytest

from smmdesk.accounts.models import Membership, User
from smmdesk.business.models import Department
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import routing
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Conversation, Priority, RoutingRule, TimelineEvent

pytestmark = pytest.mark.django_db
WHEN = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday, 11:00 in Orenburg
_ids = itertools.count(1)


def make_channel(workspace, name="VK", account="acc-salon"):
    channel = Channel(workspace=workspace, kind="fake", name=name)
    channel.store_config(FakeConfig(account_id=account, api_token="token-123456"))
    channel.save()
    return channel


@pytest.fixture
def channel(cast):
    return make_channel(cast.workspace)


@pytest.fixture
def quality(cast):
    return Department.objects.create(workspace=cast.workspace, name="Quality")


def receive(channel, text, *, author=None, kind="dm"):
    """One customer message through ingest(); the conversation it started, fresh from the database."""
    number = next(_ids)
    event = InboundEvent(
        external_id=f"m{number}",
        kind=kind,
        author_id=author or f"customer-{number}",
        author_name="Анна",
        text=text,
        created_at=WHEN,
    )
    result = ingest(channel, [event], now=WHEN)
    assert result.new_conversations == 1
    return Conversation.objects.get(messages__pk=result.created[0])


def rule(workspace, name="rule", position=0, **fields):
    fields.setdefault("stop", True)
    return RoutingRule.objects.create(workspace=workspace, name=name, position=position, **fields)


# --- words on lemmas -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words,text",
    [
        (["жалоба"], "Хочу оставить жалобу на мастера"),
        (["жалоба"], "Сколько можно писать жалобы?"),
        (["жалоба"], "Это моя жалоба"),
        (["жалоба"], "Недоволен жалобой"),
        (["стрижка"], "Испортили стрижку"),
        (["sťažnosť"], "Mám sťažnosť"),
        (["sťažnosť"], "Chcem podať sťažnosti"),
        (["sťažnosti"], "Mám sťažnosť"),  # the rule's word may itself be inflected
        (["complaint"], "I have two complaints"),
        (["complaint"], "A complaint about my colour"),
        (["окрашивание", "colour"], "Want to change my colour"),  # any of the words
        (["вернуть деньги"], "Верните мне деньги!"),  # a phrase: all its words, any form
        (["Жалоба"], "ЖАЛОБУ ПРИМИТЕ"),  # case does not matter
    ],
)
def test_rule_words_match_inflected_forms(cast, channel, quality, words, text):
    rule(cast.workspace, words=words, set_department=quality)
    assert receive(channel, text).department == quality


@pytest.mark.parametrize(
    "words,text",
    [
        (["жалоба"], "Хочу записаться на стрижку"),
        (["sťažnosť"], "Chcem sa objednať"),
        (["complaint"], "Compliments to the stylist"),
        (["вернуть деньги"], "Верните мою шапку"),  # a phrase needs every word
        (["стрижка"], "Подстриженный газон"),
    ],
)
def test_rule_words_do_not_match_other_words(cast, channel, quality, words, text):
    rule(cast.workspace, words=words, set_department=quality)
    assert receive(channel, text).department is None


def speaks_slovak(workspace):
    # Language detection answers among the workspace's languages ("other" outside them).
    profile = workspace.profile
    profile.languages = [*profile.languages, "sk"]
    profile.save(update_fields=["languages"])


def test_slovak_and_russian_rules_side_by_side(cast, channel, quality):
    speaks_slovak(cast.workspace)
    rule(cast.workspace, "sk", 0, words=["sťažnosť", "reklamácia"], set_department=quality, set_priority=2)
    rule(cast.workspace, "ru", 1, words=["жалоба"], set_department=quality, set_priority=3)
    slovak = receive(channel, "Podávam reklamáciu na strihanie")
    russian = receive(channel, "Примите жалобу")
    assert (slovak.department, slovak.priority, slovak.language) == (quality, Priority.HIGH, "sk")
    assert (russian.department, russian.priority, russian.language) == (quality, Priority.URGENT, "ru")


# --- order, stop, actions ------------------------------------------------------------------------------


def test_rules_run_in_order_and_stop_ends_them(cast, channel, quality):
    sales = Department.objects.create(workspace=cast.workspace, name="Sales")
    rule(cast.workspace, "second", 2, words=["стрижка"], set_department=sales)
    rule(cast.workspace, "first", 1, words=["стрижка"], set_department=quality, stop=True)
    conversation = receive(channel, "Про стрижку")
    assert conversation.department == quality
    routed = TimelineEvent.objects.filter(conversation=conversation, kind="routed").first()
    assert routed.detail["rule"] == "first"


def test_without_stop_later_rules_add_and_override(cast, channel, quality):
    sales = Department.objects.create(workspace=cast.workspace, name="Sales")
    agent = Membership.objects.get(workspace=cast.workspace, role="agent")
    rule(cast.workspace, "tag", 0, words=["стрижка"], add_tags=["haircut", "vip"], stop=False)
    rule(cast.workspace, "dept", 1, words=["стрижка"], set_department=quality, stop=False)
    rule(cast.workspace, "later", 2, words=["стрижка"], set_department=sales, add_tags=["vip", "sales"])
    rule(cast.workspace, "never", 3, words=["стрижка"], set_assignee=agent)
    conversation = receive(channel, "Стрижки у вас дорогие")
    assert conversation.department == sales
    assert conversation.tags == ["haircut", "vip", "sales"]
    assert conversation.assignee is None  # "later" stopped before "never"
    details = [e.detail for e in TimelineEvent.objects.filter(conversation=conversation, kind="routed")]
    assert [d.get("rule") for d in details] == ["tag", "dept", "later"]
    assert details[0] == {"rule": "tag", "rule_id": details[0]["rule_id"], "tags": ["haircut", "vip"]}


def test_disabled_rules_are_skipped(cast, channel, quality):
    rule(cast.workspace, words=["стрижка"], set_department=quality, enabled=False)
    assert receive(channel, "Про стрижку").department is None


def test_rule_sets_priority_and_assignee(cast, channel, quality):
    smm = Membership.objects.get(workspace=cast.workspace, role="smm_manager")
    rule(cast.workspace, words=["срочно"], set_priority=Priority.URGENT, set_assignee=smm)
    conversation = receive(channel, "Срочно перезвоните")
    assert (conversation.priority, conversation.assignee) == (Priority.URGENT, smm)
    detail = TimelineEvent.objects.get(conversation=conversation, kind="routed").detail
    assert detail["assignee"] == smm.user.email and detail["priority"] == Priority.URGENT


def test_another_workspaces_rules_do_not_apply(cast, channel):
    theirs = Department.objects.create(workspace=cast.other, name="Theirs")
    rule(cast.other, words=["стрижка"], set_department=theirs)
    assert receive(channel, "Про стрижку").department is None


# --- the other conditions ------------------------------------------------------------------------------


def test_channel_condition(cast, channel, quality):
    mail = make_channel(cast.workspace, "Mail", "acc-mail")
    rule(cast.workspace, channel=mail, set_department=quality)
    assert receive(channel, "Здравствуйте").department is None
    assert receive(mail, "Здравствуйте").department == quality


def test_sentiment_condition(cast, channel, quality):
    rule(cast.workspace, sentiment="negative", set_department=quality)
    assert receive(channel, "Спасибо, всё отлично").department is None
    assert receive(channel, "Всё ужасно, ничего не работает").department == quality


def test_language_condition(cast, channel, quality):
    speaks_slovak(cast.workspace)
    rule(cast.workspace, language="sk", set_department=quality)
    assert receive(channel, "Здравствуйте").department is None
    assert receive(channel, "Hello there").department is None
    assert receive(channel, "Dobrý deň, máte voľno?").department == quality


def test_customer_condition(cast, channel, quality):
    first = receive(channel, "Здравствуйте", author="anna")
    rule(cast.workspace, customer=first.customer, set_department=quality)
    assert receive(channel, "Здравствуйте", author="boris").department is None
    assert receive(channel, "Новая тема", author="anna", kind="comment").department == quality


def test_all_set_conditions_must_match(cast, channel, quality):
    rule(cast.workspace, words=["стрижка"], sentiment="negative", language="ru", set_department=quality)
    assert receive(channel, "Спасибо за стрижку, отлично").department is None
    assert receive(channel, "Ужасно, ничего не работает").department is None
    assert receive(channel, "Ужасная стрижка").department == quality


# --- round-robin ---------------------------------------------------------------------------------------


def add_members(workspace, department, count):
    members = []
    for n in range(count):
        user = User.objects.create_user(f"stylist{n}@{workspace.slug}.example", "x-password-123")
        membership = Membership.objects.create(user=user, workspace=workspace, role="agent")
        department.members.add(membership)
        members.append(membership)
    return members


def test_round_robin_gives_each_member_a_turn(cast, channel, quality):
    members = add_members(cast.workspace, quality, 3)
    rule(cast.workspace, words=["жалоба"], set_department=quality)
    assignees = [receive(channel, f"Жалоба номер {n}").assignee for n in range(6)]
    assert assignees == members + members
    detail = TimelineEvent.objects.filter(kind="routed", detail__round_robin=True).last().detail
    assert detail == {"round_robin": True, "department": "Quality", "assignee": members[2].user.email}


def test_round_robin_in_one_batch(cast, channel, quality):
    members = add_members(cast.workspace, quality, 3)
    rule(cast.workspace, words=["жалоба"], set_department=quality)
    events = [InboundEvent(f"b{n}", "dm", f"author-{n}", "A", "Жалоба", WHEN) for n in range(6)]
    ingest(channel, events, now=WHEN)
    assignees = list(Conversation.objects.order_by("pk").values_list("assignee", flat=True))
    assert assignees == [m.pk for m in members + members]


def test_round_robin_skips_inactive_users_and_continues_after_the_last(cast, channel, quality):
    first, second, third = add_members(cast.workspace, quality, 3)
    rule(cast.workspace, words=["жалоба"], set_department=quality)
    assert receive(channel, "Жалоба").assignee == first
    second.user.is_active = False
    second.user.save()
    assert receive(channel, "Жалоба").assignee == third
    assert receive(channel, "Жалоба").assignee == first


def test_round_robin_leaves_a_rule_assignee_alone(cast, channel, quality):
    add_members(cast.workspace, quality, 2)
    owner = Membership.objects.get(workspace=cast.workspace, role="owner")
    rule(cast.workspace, words=["жалоба"], set_department=quality, set_assignee=owner)
    assert receive(channel, "Жалоба").assignee == owner


def test_department_without_members_leaves_the_conversation_unassigned(cast, channel, quality):
    rule(cast.workspace, words=["жалоба"], set_department=quality)
    conversation = receive(channel, "Жалоба")
    assert (conversation.department, conversation.assignee) == (quality, None)


# --- the learned router --------------------------------------------------------------------------------


@pytest.fixture
def learned(quality):
    calls = []

    def router(conversation, message):
        calls.append(message.text)
        return quality.pk

    routing.set_router(router)
    yield calls
    routing.set_router(None)


def test_learned_router_decides_when_no_rule_does(cast, channel, quality, learned):
    members = add_members(cast.workspace, quality, 2)
    conversation = receive(channel, "Подскажите цену")
    assert (conversation.department, conversation.assignee) == (quality, members[0])
    assert learned == ["Подскажите цену"]
    details = [e.detail for e in TimelineEvent.objects.filter(conversation=conversation, kind="routed")]
    assert details[0] == {"router": "learned", "department": "Quality"}


def test_learned_router_is_not_asked_when_a_rule_set_the_department(cast, channel, learned):
    sales = Department.objects.create(workspace=cast.workspace, name="Sales")
    rule(cast.workspace, words=["цена"], set_department=sales)
    assert receive(channel, "Подскажите цену").department == sales
    assert learned == []


def test_learned_router_is_asked_when_the_matching_rule_only_tags(cast, channel, quality, learned):
    rule(cast.workspace, words=["цена"], add_tags=["price"])
    conversation = receive(channel, "Подскажите цену")
    assert (conversation.department, conversation.tags) == (quality, ["price"])
    assert learned == ["Подскажите цену"]


def test_learned_router_cannot_pick_another_workspaces_department(cast, channel):
    theirs = Department.objects.create(workspace=cast.other, name="Theirs")
    routing.set_router(lambda conversation, message: theirs.pk)
    try:
        assert receive(channel, "Подскажите цену").department is None
    finally:
        routing.set_router(None)


# --- end to end ----------------------------------------------------------------------------------------


def test_ingested_complaint_gets_department_priority_and_assignee(cast, channel, quality):
    members = add_members(cast.workspace, quality, 2)
    rule(
        cast.workspace, "complaints", 0, words=["жалоба", "sťažnosť"], set_priority=Priority.HIGH, stop=False
    )
    rule(cast.workspace, "quality", 1, sentiment="negative", set_department=quality, add_tags=["complaint"])
    event = InboundEvent(
        external_id="vk-1001",
        kind="comment",
        author_id="id777",
        author_name="Ольга",
        text="Оставляю жалобу: мастер испортила окрашивание, ужасно!",
        created_at=WHEN,
        thread_id="post-5",
    )
    ingest(channel, [event], now=WHEN)
    ingest(channel, [event], now=WHEN)  # a repeated delivery routes nothing twice
    conversation = Conversation.objects.get()
    assert conversation.department == quality
    assert conversation.priority == Priority.HIGH
    assert conversation.assignee == members[0]
    assert conversation.tags == ["complaint"]
    assert (conversation.language, conversation.sentiment) == ("ru", "negative")
    kinds = list(TimelineEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert kinds.count("routed") == 3  # two rules and the round-robin


def test_ingest_only_routes_new_conversations(cast, channel, quality):
    first = receive(channel, "Здравствуйте", author="anna")
    rule(cast.workspace, words=["жалоба"], set_department=quality)
    later = InboundEvent("m-later", "dm", "anna", "Анна", "И ещё жалоба", WHEN)
    ingest(channel, [later], now=WHEN)
    first.refresh_from_db()
    assert first.department is None
