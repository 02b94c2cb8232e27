"""Moderation: only allowed roles, only customers' comments, only where the network can, with a reason."""

import logging

import pytest

from smmdesk.accounts.models import AuditEvent
from smmdesk.channels import registry
from smmdesk.channels.base import Capability
from smmdesk.channels.fake.adapter import FakeAdapter, FakeNetwork
from smmdesk.channels.models import Channel
from smmdesk.inbox import actions
from smmdesk.inbox.actions import InboxError
from smmdesk.inbox.models import Message, TimelineEvent
from smmdesk.inbox.tests.conversations import conversation_from, event, make_channel, membership


class NoModerationAdapter(FakeAdapter):
    kind = "fake_nomod"
    capabilities = frozenset(Capability) - {Capability.MODERATE}


@pytest.fixture
def channel(cast):
    return make_channel(cast.workspace)


@pytest.fixture
def comment(channel):
    conversation_from(channel, event("c-1", "comment", thread="post-7", text="Your stylist ruined my hair!"))
    return Message.objects.get(external_id="c-1")


@pytest.fixture
def member(cast):
    return lambda role: membership(cast.users[role], cast.workspace)


@pytest.mark.parametrize(
    ("role", "may"),
    [("owner", True), ("smm_manager", True), ("content_manager", False), ("agent", False), ("viewer", False)],
)
def test_only_allowed_roles_moderate(comment, member, role, may):
    by = member(role)
    if may:
        actions.moderate(comment, "hide", "Insults staff by name", by)
        assert FakeNetwork.account("salon-vk").moderated == {"c-1": "hide"}
        step = TimelineEvent.objects.get(kind=TimelineEvent.Kind.MODERATED)
        assert step.actor == by
        assert step.detail == {"message": comment.pk, "action": "hide", "reason": "Insults staff by name"}
        assert "hidden" in Message.objects.get(pk=comment.pk).flags
    else:
        with pytest.raises(InboxError):
            actions.moderate(comment, "hide", "Insults staff by name", by)
        assert FakeNetwork.account("salon-vk").moderated == {}
        assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MODERATED).exists()


def test_an_outsider_cannot_moderate(cast, comment):
    with pytest.raises(InboxError):
        actions.moderate(comment, "delete", "spam", membership(cast.outsider, cast.other))
    assert FakeNetwork.account("salon-vk").moderated == {}


@pytest.mark.parametrize(
    ("action", "reason", "field"),
    [
        ("hide", "", "reason"),
        ("hide", "  ", "reason"),
        ("ban", "spam", "action"),
        ("hide", "x" * 501, "reason"),
    ],
)
def test_bad_input_names_the_field(comment, member, action, reason, field):
    with pytest.raises(InboxError) as error:
        actions.moderate(comment, action, reason, member("owner"))
    assert error.value.field == field
    assert FakeNetwork.account("salon-vk").moderated == {}


def test_only_customers_comments(channel, member, django_capture_on_commit_callbacks):
    convo = conversation_from(channel, event("dm-1", "dm", thread="chat-9"))
    with pytest.raises(InboxError):
        actions.moderate(Message.objects.get(external_id="dm-1"), "hide", "spam", member("owner"))
    comments = conversation_from(channel, event("c-5", "comment", thread="post-1"))
    note = actions.add_note(comments, member("owner"), "check this")
    with django_capture_on_commit_callbacks():
        ours = actions.reply(comments, member("owner"), "Thanks")
    for message in (note, ours):
        with pytest.raises(InboxError):
            actions.moderate(message, "delete", "oops", member("owner"))
    assert FakeNetwork.account("salon-vk").moderated == {}
    assert convo.pk != comments.pk


def test_network_without_moderation(cast, member, monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, NoModerationAdapter.kind, NoModerationAdapter)
    channel = Channel(workspace=cast.workspace, kind=NoModerationAdapter.kind, name="No mod")
    channel.store_config(NoModerationAdapter.Config(account_id="nomod", api_token="t-123456"))
    channel.save()
    conversation_from(channel, event("c-9", "comment", thread="post-2"))
    with pytest.raises(InboxError) as error:
        actions.moderate(Message.objects.get(external_id="c-9"), "hide", "spam", member("owner"))
    assert "does not let us" in error.value.message
    assert FakeNetwork.account("nomod").moderated == {}


def test_network_refusal_is_shown_and_nothing_recorded(comment, member):
    FakeNetwork.account("salon-vk").revoked = True
    with pytest.raises(InboxError) as error:
        actions.moderate(comment, "delete", "spam", member("owner"))
    assert "revoked" in error.value.message
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MODERATED).exists()


def test_reason_is_kept_for_the_audit(comment, member, caplog):
    caplog.set_level(logging.INFO, logger="smmdesk.inbox.actions")
    actions.moderate(comment, "delete", "Doxxing a client", member("smm_manager"))
    assert FakeNetwork.account("salon-vk").moderated == {"c-1": "delete"}
    logged = [r.getMessage() for r in caplog.records if "c-1" in r.getMessage()]
    assert logged and "Doxxing a client" in logged[0] and "smm_manager@salon.example" in logged[0]
    entry = AuditEvent.objects.get(action=AuditEvent.Action.COMMENT_MODERATED)
    assert entry.detail["reason"] == "Doxxing a client" and entry.detail["moderation"] == "delete"
    # Doing it again changes nothing.
    actions.moderate(comment, "delete", "Doxxing a client", member("smm_manager"))
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MODERATED).count() == 1
