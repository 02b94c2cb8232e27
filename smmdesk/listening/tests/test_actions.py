"""listening.actions: the use cases behind the pages and the API, with their checks of role, workspace and
input."""

from datetime import timedelta

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.channels import actions as channel_actions
from smmdesk.inbox.models import Conversation, Message
from smmdesk.listening import actions, tasks
from smmdesk.listening.actions import InvalidInput, ListeningError, NotAllowed
from smmdesk.listening.intake import take_in
from smmdesk.listening.models import ListeningAlert, Mention, Source, TrackedTerm, Trend

from .backend_fixtures import *  # noqa: F403
from .backend_fixtures import NEGATIVE, NEUTRAL, NOW, POSITIVE, event, fake_channel, make_source, make_term


@pytest.fixture
def outsider(cast):
    return Membership.objects.get(user=cast.outsider)


def fields(error: InvalidInput) -> set[str]:
    return {field for field, _message in error.errors}


# --- terms ---------------------------------------------------------------------------------------------


def test_create_term_cleans_its_input(members):
    term = actions.create_term(
        members["smm_manager"],
        {
            "kind": "competitor",
            "phrase": "  Шик   на Советской ",
            "exclusions": "шик и блеск\nшикарный, ",
            "languages": ["ru"],
        },
    )
    assert (term.kind, term.phrase, term.exclusions, term.languages) == (
        "competitor",
        "Шик на Советской",
        ["шик и блеск", "шикарный"],
        ["ru"],
    )
    tag = actions.create_term(members["owner"], {"kind": "hashtag", "phrase": "стрижкаоренбург"})
    assert (tag.kind, tag.phrase) == ("hashtag", "#стрижкаоренбург")
    # A phrase with "#" is a hashtag whatever kind was chosen.
    assert actions.create_term(members["owner"], {"kind": "brand", "phrase": "#Lokon"}).kind == "hashtag"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"phrase": ""}, "phrase"),
        ({"phrase": "!!!"}, "phrase"),
        ({"phrase": "x" * 201}, "phrase"),
        ({"phrase": "#две хэштега"}, "phrase"),
        ({"phrase": "Локон", "kind": "person"}, "kind"),
        ({"phrase": "Локон", "languages": ["de"]}, "languages"),
        ({"phrase": "Локон", "languages": 5}, "languages"),
        ({"phrase": "Локон", "exclusions": ["x" * 201]}, "exclusions"),
        ({"phrase": "Локон", "exclusions": [1, 2]}, "exclusions"),
    ],
)
def test_create_term_names_the_field_at_fault(members, data, field):
    with pytest.raises(InvalidInput) as refused:
        actions.create_term(members["owner"], data)
    assert field in fields(refused.value)
    assert not TrackedTerm.objects.exists()


def test_a_phrase_is_tracked_once_per_workspace(members, outsider):
    actions.create_term(members["owner"], {"phrase": "Локон"})
    with pytest.raises(InvalidInput) as refused:
        actions.create_term(members["owner"], {"phrase": "локон"})
    assert fields(refused.value) == {"phrase"}
    actions.create_term(outsider, {"phrase": "Локон"})  # another workspace may


def test_update_and_delete_term(members):
    term = actions.create_term(members["owner"], {"phrase": "Локон"})
    other = actions.create_term(members["owner"], {"phrase": "Шик"})
    actions.update_term(members["smm_manager"], term, {"active": False, "exclusions": ["локон волос"]})
    term.refresh_from_db()
    assert (term.active, term.exclusions, term.phrase) == (False, ["локон волос"], "Локон")
    with pytest.raises(InvalidInput):
        actions.update_term(members["owner"], other, {"phrase": "ЛОКОН"})
    actions.delete_term(members["owner"], term)
    assert list(TrackedTerm.objects.values_list("phrase", flat=True)) == ["Шик"]


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_only_managers_manage_terms(members, role):
    term = make_term(members["owner"].workspace, "Локон")
    for call in (
        lambda: actions.create_term(members[role], {"phrase": "Шик"}),
        lambda: actions.update_term(members[role], term, {"active": False}),
        lambda: actions.delete_term(members[role], term),
    ):
        with pytest.raises(NotAllowed):
            call()
    assert TrackedTerm.objects.get().active


def test_another_workspaces_objects_are_refused(members, outsider, salon):
    term = make_term(salon, "Локон")
    source = make_source(salon)
    with pytest.raises(NotAllowed):
        actions.update_term(outsider, term, {"active": False})
    with pytest.raises(NotAllowed):
        actions.delete_source(outsider, source)
    assert TrackedTerm.objects.get().active and Source.objects.exists()


# --- sources -------------------------------------------------------------------------------------------


@pytest.fixture
def channels(salon):
    return {
        "fake": fake_channel(salon, "Fake", "f"),
        "rss": channel_actions.create_channel(salon, "rss", "News", {"feed_url": "https://news.example/rss"}),
        "telegram": channel_actions.create_channel(
            salon, "telegram", "Bot", {"bot_token": "7012345678:AAF-tok-Zq81-secret-value-9f3e"}
        ),
    }


def test_source_choices_give_each_channel_its_kind(salon, channels):
    off = fake_channel(salon, "Off", "off")
    channel_actions.set_enabled(off, False)
    choices = {channel.name: kind for channel, kind in actions.source_choices(salon)}
    assert choices == {"Fake": "search", "News": "feed", "Bot": "own"}
    make_source(salon, channel=channels["fake"])
    assert "Fake" not in {channel.name for channel, _kind in actions.source_choices(salon)}


def test_create_source(members, channels):
    source = actions.create_source(
        members["owner"], {"channel": channels["rss"].pk, "interval_minutes": "30"}
    )
    assert (source.kind, source.interval_minutes, source.health, source.next_poll_at) == (
        "feed",
        30,
        "new",
        None,
    )
    own = actions.create_source(members["owner"], {"channel": channels["fake"].pk, "kind": "own"})
    assert (own.kind, own.interval_minutes) == ("own", 15)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"channel": 999999}, "channel"),
        ({"channel": "abc"}, "channel"),
        ({"channel": None}, "channel"),
        ({"channel": "rss", "interval_minutes": 4}, "interval_minutes"),
        ({"channel": "rss", "interval_minutes": 1441}, "interval_minutes"),
        ({"channel": "rss", "interval_minutes": "soon"}, "interval_minutes"),
        ({"channel": "rss", "kind": "own"}, "kind"),
    ],
)
def test_create_source_names_the_field_at_fault(members, channels, data, field):
    if data.get("channel") == "rss":
        data = {**data, "channel": channels["rss"].pk}
    with pytest.raises(InvalidInput) as refused:
        actions.create_source(members["owner"], data)
    assert field in fields(refused.value) and not Source.objects.exists()


def test_a_channel_is_a_source_once_and_only_in_its_workspace(members, outsider, channels):
    actions.create_source(members["owner"], {"channel": channels["rss"].pk})
    with pytest.raises(InvalidInput):
        actions.create_source(members["owner"], {"channel": channels["rss"].pk})
    with pytest.raises(InvalidInput) as refused:
        actions.create_source(outsider, {"channel": channels["fake"].pk})
    assert fields(refused.value) == {"channel"}


def test_pausing_and_resuming_a_source(clock, members, salon):
    source = make_source(
        salon, health=Source.Health.FAILING, failures=3, next_poll_at=NOW + timedelta(hours=6)
    )
    paused = actions.update_source(members["owner"], source, {"active": False, "interval_minutes": 60})
    assert (paused.active, paused.health, paused.interval_minutes) == (False, "paused", 60)
    resumed = actions.update_source(members["owner"], paused, {"active": True})
    assert (resumed.active, resumed.health, resumed.failures, resumed.next_poll_at) == (True, "new", 0, None)
    with pytest.raises(InvalidInput):
        actions.update_source(members["owner"], resumed, {"interval_minutes": 0})


def test_poll_now_makes_the_source_due_and_queues_it_once(
    clock, members, salon, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks, "poll_source_task", queued.append)
    source = make_source(salon, next_poll_at=NOW + timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        actions.poll_now(members["smm_manager"], source)
        actions.poll_now(members["smm_manager"], source)  # a double click
    assert queued == [source.pk]
    source.refresh_from_db()
    assert source.next_poll_at == NOW and source.claimed_until is not None
    with pytest.raises(NotAllowed):
        actions.poll_now(members["agent"], source)
    own = make_source(salon, kind=Source.Kind.OWN, channel=fake_channel(salon, "Own", "own"))
    with pytest.raises(ListeningError):
        actions.poll_now(members["owner"], own)


def test_delete_source_keeps_its_mentions(clock, members, salon, lokon):
    source = make_source(salon)
    take_in(source, [event("p1", POSITIVE)])
    actions.delete_source(members["owner"], source)
    assert not Source.objects.exists() and Mention.objects.get().source_id is None


# --- stream --------------------------------------------------------------------------------------------


@pytest.fixture
def mentions(clock, salon, source, lokon):
    shik = make_term(salon, "Шик")
    made = take_in(
        source,
        [
            event("a", NEGATIVE, when=NOW - timedelta(hours=5)),
            event("b", POSITIVE + " Шик хуже.", when=NOW - timedelta(hours=4)),
            event("c", NEUTRAL, when=NOW - timedelta(hours=3)),
            event("d", NEGATIVE + "!", when=NOW - timedelta(hours=2)),  # a near-duplicate of "a"
            event("e", "Локон и Шик открыли запись на май", when=NOW - timedelta(hours=1)),
        ],
    ).created
    return {m.external_id: m for m in made} | {"shik": shik}


def ids(found):
    return [m.external_id for m in found]


def test_the_stream_is_newest_first_with_near_duplicates_collapsed(salon, mentions):
    found = actions.stream(salon)
    assert ids(found) == ["e", "c", "b", "a"]
    assert found[-1].cluster.size == 2


def test_the_stream_filters(salon, mentions, source):
    assert ids(actions.stream(salon, sentiment="negative")) == ["a"]
    assert ids(actions.stream(salon, term_id=mentions["shik"].pk)) == ["e", "b"]
    assert ids(actions.stream(salon, query="май")) == ["e"]
    assert ids(actions.stream(salon, source_id=source.pk, limit=2)) == ["e", "c"]
    assert ids(actions.stream(salon, before_id=mentions["c"].pk)) == ["b", "a"]
    actions.mark_handled(Membership.objects.get(workspace=salon, role="agent"), mentions["b"])
    assert ids(actions.stream(salon, status="handled")) == ["b"]
    assert actions.stream(salon.__class__.objects.exclude(pk=salon.pk).first()) == []


def test_mark_handled_is_idempotent(clock, members, mentions):
    mention = actions.mark_handled(members["agent"], mentions["a"])
    assert (mention.status, mention.handled_by_id, mention.handled_at) == (
        "handled",
        members["agent"].pk,
        NOW,
    )
    clock.shift(timedelta(hours=1))
    again = actions.mark_handled(members["owner"], mentions["a"])
    assert (again.handled_by_id, again.handled_at) == (members["agent"].pk, NOW)
    with pytest.raises(NotAllowed):
        actions.mark_handled(members["content_manager"], mentions["b"])


def test_send_to_inbox_makes_one_conversation(members, mentions):
    first = actions.send_to_inbox(members["agent"], mentions["c"])
    second = actions.send_to_inbox(members["owner"], mentions["c"])
    assert first.pk == second.pk and Conversation.objects.filter(pk=first.pk).count() == 1
    mention = Mention.objects.get(pk=mentions["c"].pk)
    assert mention.status == "in_inbox" and mention.conversation_id == first.pk
    [message] = Message.objects.filter(conversation=first)
    assert message.text.startswith(NEUTRAL) and message.external_id == "c"
    with pytest.raises(NotAllowed):
        actions.send_to_inbox(members["viewer"], mentions["b"])


def test_a_mention_whose_channel_is_gone_cannot_go_to_the_inbox(members, mentions):
    Mention.objects.filter(pk=mentions["b"].pk).update(channel=None)
    with pytest.raises(ListeningError):
        actions.send_to_inbox(members["owner"], Mention.objects.get(pk=mentions["b"].pk))
    assert not Conversation.objects.exists()


# --- trends, alerts, overview --------------------------------------------------------------------------


def trend(salon, key="#icebucket", **fields):
    return Trend.objects.create(workspace=salon, kind="hashtag", key=key, score=7.0, started_at=NOW, **fields)


def test_trends_by_status_and_dismissal(clock, members, salon):
    fresh = trend(salon)
    old = trend(salon, key="#old", status=Trend.Status.DRAFTED)
    assert list(actions.trends(salon)) == [fresh]
    assert set(actions.trends(salon, "")) == {fresh, old}
    with pytest.raises(NotAllowed):
        actions.dismiss_trend(members["content_manager"], fresh)
    assert actions.dismiss_trend(members["smm_manager"], fresh).status == "dismissed"
    assert actions.dismiss_trend(members["smm_manager"], old).status == "drafted"  # not undone


def test_trend_chart_reads_the_stored_counts(salon):
    made = trend(salon, counts=[[NOW.isoformat(), 3], ["2026-03-10T10:00:00", "4"], ["garbage", 1], [1]])
    assert actions.trend_chart(made) == [(NOW, 3), (NOW + timedelta(minutes=30), 4)]


def test_alerts_newest_first(clock, salon, mentions):
    ListeningAlert.objects.create(workspace=salon, kind="spike", key="spike:1", text="one")
    clock.shift(timedelta(minutes=5))
    ListeningAlert.objects.create(workspace=salon, kind="spike", key="spike:2", text="two")
    assert [a.key for a in actions.alerts(salon, limit=1)] == ["spike:2"]
    assert [a.key for a in actions.alerts(salon)][:2] == ["spike:2", "spike:1"]


def test_overview(clock, salon, mentions, source):
    trend(salon)
    Source.objects.filter(pk=source.pk).update(health=Source.Health.FAILING)
    assert actions.overview(salon) == {
        "mentions_24h": 4,
        "negative_24h": 1,
        "sources_failing": 1,
        "new_trends": 1,
    }
    assert actions.overview(salon, now=NOW + timedelta(hours=22, minutes=30))["mentions_24h"] == 1


def test_private_channels_are_no_source(salon):
    from smmdesk.channels.models import Channel

    # A mailbox and the site chat take messages in, but nothing there is public talk about the business.
    Channel.objects.create(workspace=salon, kind="email", name="Mailbox")
    Channel.objects.create(workspace=salon, kind="webchat", name="Site chat")
    assert actions.source_choices(salon) == []
