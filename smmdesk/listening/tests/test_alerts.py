"""Alerts: a negative mention is in the inbox and the managers' notices within a minute of being fetched,
once; a spike of negative mentions over their baseline raises one alert per burst."""

from datetime import timedelta

import pytest

from smmdesk.inbox.models import Conversation, Message, Notification
from smmdesk.listening import alerts, sources
from smmdesk.listening.intake import take_in
from smmdesk.listening.models import ListeningAlert, Mention, MentionCluster, Sentiment, Source

from .backend_fixtures import *  # noqa: F403
from .backend_fixtures import NEGATIVE, NOW, POSITIVE, event, fake_channel, make_source, on_network

MINUTE = timedelta(minutes=1)


def poll(source):
    assert sources.claim(source.pk)
    return sources.poll_source(source.pk)


def test_a_negative_mention_reaches_the_inbox_and_the_managers_within_a_minute(clock, source, lokon, members):
    on_network("net", event("p1", NEGATIVE, when=NOW - timedelta(hours=2), author="88", name="Анна"))
    fetched_at = NOW
    poll(source)
    mention = Mention.objects.get()
    assert mention.fetched_at == fetched_at and mention.status == Mention.Status.IN_INBOX
    conversation = Conversation.objects.get()
    assert mention.conversation_id == conversation.pk
    assert conversation.channel_id == source.channel_id and conversation.kind == "mention"
    assert conversation.created_at <= fetched_at + MINUTE
    [message] = Message.objects.all()
    assert message.text.startswith(NEGATIVE) and message.author_external_id == "88"
    notices = Notification.objects.filter(key=f"listening:negative:{mention.pk}")
    assert {n.membership.role for n in notices} == {"owner", "smm_manager"}
    assert all(n.created_at <= fetched_at + MINUTE and n.conversation_id == conversation.pk for n in notices)
    [alert] = ListeningAlert.objects.all()
    assert (alert.kind, alert.key, alert.mention_id) == ("negative", f"negative:{mention.pk}", mention.pk)
    assert alert.created_at <= fetched_at + MINUTE


def test_the_alert_is_raised_once_however_often_it_is_asked(clock, source, lokon):
    on_network("net", event("p1", NEGATIVE))
    poll(source)
    mention = Mention.objects.get()
    clock.shift(timedelta(minutes=20))
    poll(source)  # the network answers the same post again
    assert alerts.alert_negative(mention) is None  # and a second run of the alert itself
    assert ListeningAlert.objects.count() == 1
    assert Conversation.objects.count() == 1 and Message.objects.count() == 1
    assert Notification.objects.count() == 2


def test_positive_and_duplicate_mentions_raise_nothing(clock, source, lokon):
    on_network(
        "net", event("p1", POSITIVE), event("p2", NEGATIVE, author="1"), event("p3", NEGATIVE, author="2")
    )
    poll(source)
    assert Mention.objects.filter(sentiment=Sentiment.NEGATIVE).count() == 2
    assert ListeningAlert.objects.filter(kind="negative").count() == 1  # the copy is a duplicate
    assert Conversation.objects.count() == 1


def test_a_feed_entry_gets_a_conversation_on_its_feed_channel(clock, salon, lokon, mock_api):
    from smmdesk.channels import actions as channel_actions
    from smmdesk.channels.rss import adapter as rss_adapter

    rss_adapter._sleep = lambda seconds: None
    body = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Orenburg news</title>
    <link>https://news.example/</link><item><guid>n-1</guid><title>Жалоба</title>
    <description>{NEGATIVE}</description><link>https://news.example/n-1</link>
    <pubDate>Tue, 10 Mar 2026 09:00:00 GMT</pubDate></item></channel></rss>"""
    mock_api.route("GET", "/feed.xml")(lambda r: (200, {"Content-Type": "application/rss+xml"}, body))
    channel = channel_actions.create_channel(salon, "rss", "News", {"feed_url": f"{mock_api.base}/feed.xml"})
    feed = make_source(salon, kind=Source.Kind.FEED, channel=channel)
    poll(feed)
    mention = Mention.objects.get()
    assert mention.url == "https://news.example/n-1" and mention.sentiment == "negative"
    assert Conversation.objects.get().channel_id == channel.pk
    assert mention.conversation_id and ListeningAlert.objects.count() == 1


def test_an_own_channels_comment_keeps_its_inbox_conversation(
    clock, salon, lokon, django_capture_on_commit_callbacks
):
    from smmdesk.inbox.ingest import ingest

    channel = fake_channel(salon, "Group", "group")
    own = make_source(salon, kind=Source.Kind.OWN, channel=channel)
    comment = event("c1", NEGATIVE, kind="comment")
    ingest(channel, [comment])
    [conversation] = Conversation.objects.all()
    sources.take_in_own(own.pk, [comment])
    mention = Mention.objects.get()
    assert mention.conversation_id == conversation.pk
    assert Conversation.objects.count() == 1 and Message.objects.count() == 1  # not ingested again
    assert Notification.objects.filter(conversation=conversation).count() == 2
    assert ListeningAlert.objects.filter(mention=mention).exists()


# --- spikes ------------------------------------------------------------------------------------------


COMPLAINTS = [
    "Ужасно в Локоне: мастер опоздал на час",
    "Локон разочаровал, стрижка кривая и дорогая",
    "В Локоне нахамили администраторы, кошмар",
    "Отвратительный сервис в Локоне, запись потеряли",
    "Локон, верните деньги за испорченное окрашивание",
    "Грязно и шумно в Локоне, больше не приду",
]


def negatives(source, at, count, prefix):
    """`count` negative mentions with different texts (none a duplicate), published at `at`."""
    made = take_in(
        source, [event(f"{prefix}{i}", COMPLAINTS[i % len(COMPLAINTS)], when=at) for i in range(count)]
    ).created
    assert [(m.sentiment, m.duplicate) for m in made] == [("negative", False)] * count
    # Their clusters are not this test's business: the next batch starts afresh.
    Mention.objects.filter(pk__in=[m.pk for m in made]).update(cluster=None)
    MentionCluster.objects.all().delete()
    return made


@pytest.fixture
def baseline(clock, source, lokon):
    """A fortnight with one negative mention every other day."""
    for day in range(1, 14, 2):
        negatives(source, NOW - timedelta(days=day), 1, f"b{day}-")
    assert not ListeningAlert.objects.filter(kind="spike").exists()
    return source


def test_a_spike_of_negative_mentions_raises_one_alert(baseline, members):
    made = negatives(baseline, NOW - timedelta(minutes=10), 4, "s")
    alerts.after_intake(made, NOW)
    [spike] = ListeningAlert.objects.filter(kind="spike")
    assert spike.key == f"spike:{NOW.replace(minute=0).isoformat()}"
    assert spike.observed == 4 and 0 < spike.expected < 0.1
    notices = Notification.objects.filter(key=f"listening:{spike.key}")
    assert {n.membership.role for n in notices} == {"owner", "smm_manager"}
    # A rerun, and more of the same burst in the next hour, raise nothing new.
    assert alerts.check_spike(baseline.workspace_id, NOW) is None
    later = NOW + timedelta(hours=1)
    alerts.after_intake(negatives(baseline, later, 5, "t"), later)
    assert ListeningAlert.objects.filter(kind="spike").count() == 1


def test_a_few_negative_mentions_are_not_a_spike(baseline):
    alerts.after_intake(negatives(baseline, NOW - timedelta(minutes=10), 2, "s"), NOW)
    assert not ListeningAlert.objects.filter(kind="spike").exists()


def test_a_usual_rate_is_not_a_spike(clock, source, lokon):
    # Four an hour all fortnight long: four more now are what is expected.
    for hours in range(1, 14 * 24, 6):
        negatives(source, NOW - timedelta(hours=hours), 4, f"h{hours}-")
    alerts.after_intake(negatives(source, NOW - timedelta(minutes=10), 4, "s"), NOW)
    assert not ListeningAlert.objects.filter(kind="spike").exists()


def test_poisson_tail():
    assert alerts.poisson_tail(0, 2.0) == 1.0
    assert alerts.poisson_tail(1, 2.0) == pytest.approx(1 - 2.718281828**-2)
    assert alerts.poisson_tail(3, 0.1) == pytest.approx(0.000155, rel=0.01)


def test_an_old_complaint_a_first_read_brings_is_stored_but_raises_nothing(clock, source, lokon):
    take_in(source, [event("old", NEGATIVE, when=NOW - timedelta(days=10))])
    alerts.after_intake(list(Mention.objects.all()), NOW)
    assert Mention.objects.get().sentiment == "negative"
    assert not ListeningAlert.objects.exists() and not Conversation.objects.exists()
