"""Storing mentions: once per network id, classified, matched, with hashtags, phrases, reach and link;
near-duplicates and reposts in one cluster."""

from datetime import timedelta

import pytest

from smmdesk.channels.base import InboundEvent
from smmdesk.listening import intake
from smmdesk.listening.intake import normalise, reach_of, take_in
from smmdesk.listening.models import Mention, MentionCluster, Source

from .backend_fixtures import *  # noqa: F403
from .backend_fixtures import NEGATIVE, NOW, POSITIVE, event, fake_channel, make_source, make_term

ORIGINAL = "Локон на Ленинском: мастер опоздал на сорок минут, стрижка кривая, больше не пойду"


@pytest.fixture
def terms(salon):
    return [make_term(salon, "Локон"), make_term(salon, "#стрижка", kind="hashtag")]


def test_a_mention_is_stored_with_what_nlp_and_the_network_tell(clock, source, terms):
    text = NEGATIVE + " #Стрижка #оренбург https://lokon.example/"
    stored = take_in(
        source, [event("p1", text, author="77", name="Анна", reach=1500, url="https://fake.invalid/p1")]
    )
    [mention] = stored.created
    mention.refresh_from_db()
    assert (mention.external_id, mention.channel_id, mention.source_id) == (
        "p1",
        source.channel_id,
        source.pk,
    )
    assert (mention.author_name, mention.author_external_id) == ("Анна", "77")
    assert (mention.language, mention.sentiment) == ("ru", "negative")
    assert mention.hashtags == ["#стрижка", "#оренбург"]
    assert {t.phrase for t in mention.terms.all()} == {"Локон", "#стрижка"}
    assert "мастер" in mention.phrases and "ужасный сервис" in mention.phrases
    assert mention.reach == 1500 and mention.url == "https://fake.invalid/p1"
    assert mention.published_at == NOW - timedelta(minutes=5) and mention.fetched_at == NOW
    assert mention.status == Mention.Status.NEW and not mention.duplicate and mention.cluster.size == 1


def test_the_same_event_twice_stores_one_mention(clock, source, terms):
    first = take_in(source, [event("p1", NEGATIVE), event("p1", NEGATIVE)])
    second = take_in(source, [event("p1", NEGATIVE + " (edited)")])
    assert len(first.created) == 1 and first.repeated == 1
    assert second.created == [] and second.repeated == 1
    assert Mention.objects.count() == 1 and MentionCluster.objects.count() == 1
    assert Mention.objects.get().text == NEGATIVE


def test_a_repeat_from_another_channel_is_its_own_mention_but_a_duplicate(clock, salon, source, terms):
    other = make_source(salon, channel=fake_channel(salon, "Other", "other"))
    take_in(source, [event("p1", ORIGINAL)])
    [copy] = take_in(other, [event("p1", ORIGINAL)]).created
    assert Mention.objects.count() == 2 and copy.duplicate


def test_a_repost_and_a_near_duplicate_join_the_cluster_and_a_different_text_does_not(clock, source, terms):
    events = [
        event("p1", ORIGINAL, author="1"),
        event("p2", f"RT @anna_oren: {ORIGINAL}", author="2"),
        event("p3", ORIGINAL.replace("сорок", "сорок пять").upper() + "!!! https://vk.cc/x", author="3"),
        event("p4", "Локон на Ленинском открыл запись на свадебные причёски к маю", author="4"),
    ]
    created = take_in(source, events).created
    original, repost, near, different = created
    assert repost.cluster_id == near.cluster_id == original.cluster_id
    assert different.cluster_id != original.cluster_id
    assert [m.duplicate for m in created] == [False, True, True, False]
    assert MentionCluster.objects.get(pk=original.cluster_id).size == 3
    assert MentionCluster.objects.get(pk=different.cluster_id).size == 1


def test_clusters_span_batches_for_48_hours_only(clock, source, terms):
    take_in(source, [event("p1", ORIGINAL)])
    clock.shift(timedelta(hours=47))
    [later] = take_in(source, [event("p2", ORIGINAL)]).created
    assert later.duplicate
    clock.shift(timedelta(hours=49))
    [much_later] = take_in(source, [event("p3", ORIGINAL)]).created
    assert not much_later.duplicate and much_later.cluster_id != later.cluster_id


def test_short_texts_join_only_an_identical_one(clock, source, terms):
    created = take_in(
        source,
        [
            event("a", "Локон топ"),
            event("b", "ЛОКОН, топ!"),
            event("c", "Локон топ, но дорого и далеко от метро"),
        ],
    ).created
    assert [m.duplicate for m in created] == [False, True, False]


def test_events_without_a_tracked_term_are_not_kept(clock, source, terms):
    stored = take_in(source, [event("x", "Погода в Оренбурге хорошая")])
    assert stored.created == [] and stored.unmatched == 1 and not Mention.objects.exists()


def test_the_channels_own_posts_are_left_out(clock, salon, terms):
    channel = fake_channel(salon, "Own", "own")
    channel.account_id = "own"
    channel.save()
    own = make_source(salon, channel=channel)
    assert take_in(own, [event("p1", NEGATIVE, author="own")]).created == []


def test_a_searched_term_is_trusted_but_its_exclusions_apply(clock, salon, source):
    term = make_term(salon, "Локон", exclusions=["локон волос"])
    # The network's morphology found a form ours does not know; the term searched for counts.
    [found] = take_in(source, [event("s1", "Лакон на Ленинском хорош")], term_id=term.pk).created
    assert list(found.terms.values_list("pk", flat=True)) == [term.pk]
    assert take_in(source, [event("s2", "Выпал локон волос")], term_id=term.pk).created == []


def test_own_channel_comments_link_the_inbox_conversation(
    clock, salon, terms, django_capture_on_commit_callbacks
):
    from smmdesk.inbox.ingest import ingest
    from smmdesk.inbox.models import Conversation

    channel = fake_channel(salon, "Group", "group")
    own = make_source(salon, kind=Source.Kind.OWN, channel=channel)
    comment = event("c1", NEGATIVE, kind="comment")
    ingest(channel, [comment])
    conversation = Conversation.objects.get()
    [mention] = take_in(own, [comment]).created
    assert mention.conversation_id == conversation.pk and mention.status == Mention.Status.IN_INBOX


@pytest.mark.parametrize(
    "kind, raw, reach",
    [
        ("vk", {"views": {"count": 913}}, 913),
        ("mastodon", {"account": {"followers_count": 420}}, 420),
        ("x", {"public_metrics": {"impression_count": 77}}, 77),
        ("bluesky", {"author": {"followersCount": 12}}, 12),
        ("fake", {"reach": 5}, 5),
        ("telegram", {"views": 100}, None),
        ("rss", {"reach": 3}, None),
        ("vk", {"views": {"count": "many"}}, None),
        ("vk", {"views": {"count": -1}}, None),
        ("vk", {}, None),
    ],
)
def test_reach_follows_one_rule_per_network(kind, raw, reach):
    assert reach_of(kind, raw) == reach


def test_links_are_kept_only_when_they_are_web_addresses(clock, salon, source, terms):
    made = take_in(
        source,
        [
            event("a", "Локон " + "раз", url="javascript:alert(1)"),
            event("b", "Локон " + "два", link="https://news.example/a"),
        ],
    ).created
    assert [m.url for m in made] == ["", "https://news.example/a"]
    vk = InboundEvent("wall-1_2_r3", "comment", "5", "A", "x", NOW)
    assert intake.url_of("vk", vk) == "https://vk.com/wall-1_2?reply=3"
    assert intake.url_of("x", InboundEvent("190", "mention", "5", "A", "x", NOW)) == (
        "https://x.com/i/web/status/190"
    )


def test_normalise_drops_what_does_not_make_a_text_different():
    assert normalise("RT @anna: Локон, ТОП!!!  https://t.co/x @lokon") == "локон топ"
    assert normalise(POSITIVE) == normalise(POSITIVE.upper() + " ")


def test_nul_characters_are_dropped(clock, source, terms):
    [mention] = take_in(source, [event("n", "Локон\x00 хороший", name="Ан\x00на")]).created
    mention.refresh_from_db()
    assert (mention.text, mention.author_name) == ("Локон хороший", "Анна")
