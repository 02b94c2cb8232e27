"""Trends: bursts of tracked terms, hashtags and emerging phrases in hourly counts, with their evidence,
found once per burst; a trend turned into a draft post that goes to review and is approved."""

from datetime import timedelta
from decimal import Decimal

import pytest

from smmdesk.business.models import Service
from smmdesk.channels import actions as channel_actions
from smmdesk.listening import actions, matching, tasks, trends
from smmdesk.listening.models import Mention, Trend
from smmdesk.publishing import actions as publishing
from smmdesk.publishing.models import Post

from .backend_fixtures import *  # noqa: F403
from .backend_fixtures import NOW, fake_channel, make_source, make_term

HOUR = timedelta(hours=1)
BACKGROUND = [
    "Записалась на стрижку к Ольге на субботу",
    "Кто знает хороший маникюр на Ленинском?",
    "Окрашивание в Оренбурге: где недорого?",
    "Свадебная причёска для сестры, ищем мастера",
]


@pytest.fixture
def writer(clock, salon):
    source = make_source(salon)
    counter = iter(range(1, 10**6))

    def write(text, at, terms=(), duplicate=False, language="ru"):
        mention = Mention.objects.create(
            workspace=salon,
            source=source,
            channel=source.channel,
            external_id=f"m{next(counter)}",
            text=text,
            language=language,
            hashtags=matching.hashtags_of(text),
            phrases=matching.phrases(text, language),
            published_at=at,
            duplicate=duplicate,
        )
        mention.terms.add(*terms)
        return mention

    return write


@pytest.fixture
def background(writer):
    """A fortnight of ordinary talk: a few mentions a day, none about ice buckets."""
    for hours in range(5, 14 * 24, 7):
        writer(BACKGROUND[hours % len(BACKGROUND)], NOW - hours * HOUR)
    return writer


def burst(writer, text_of, count, at=None, **options):
    return [writer(text_of(i), (at or NOW) - timedelta(minutes=5 + i), **options) for i in range(count)]


def ice(i):
    return f"Приняли ледяной вызов всем салоном, номер {i}! #IceBucket"


def test_an_emerging_hashtag_burst_is_a_trend_with_its_evidence(background, salon):
    made = burst(background, ice, 6)
    found = trends.detect(salon.pk)
    by_key = {(t.kind, t.key): t for t in found}
    tag = by_key[(Trend.Kind.HASHTAG, "#icebucket")]
    assert tag.emerging and tag.status == Trend.Status.NEW and tag.score > 0
    # The six were written in the hour running now, which is where the burst starts.
    assert tag.started_at == NOW.replace(minute=0)
    chart = actions.trend_chart(tag)
    assert chart[-1] == (NOW.replace(minute=0), 6)
    assert sum(n for _t, n in chart) == 6 and len(chart) == 49
    assert chart[0][0] >= tag.started_at - trends.CHART_BEFORE
    examples = set(tag.examples.values_list("pk", flat=True))
    assert len(examples) == trends.MAX_EXAMPLES and examples <= {m.pk for m in made}
    # The words go up together: the phrase is an emerging trend of its own.
    phrase = by_key[(Trend.Kind.NGRAM, "ледяной вызов")]
    assert phrase.emerging
    # Background words did not burst.
    assert not any(t.key in ("стрижка", "маникюр") for t in found)


def test_a_rerun_updates_the_same_trend(background, salon, clock):
    burst(background, ice, 6)
    first = {t.pk for t in trends.detect(salon.pk)}
    clock.shift(timedelta(minutes=10))
    burst(background, ice, 2, at=NOW + timedelta(minutes=10))
    second = {t.pk for t in trends.detect(salon.pk)}
    assert first and second <= first
    assert Trend.objects.filter(key="#icebucket").count() == 1
    assert Trend.objects.count() == len(first)


def test_a_tracked_term_burst_is_not_emerging(background, salon):
    term = make_term(salon, "Локон")
    burst(background, lambda i: f"Все обсуждают Локон, пост {i}", 5, terms=[term])
    [trend] = [t for t in trends.detect(salon.pk) if t.kind == Trend.Kind.TERM]
    assert (trend.key, trend.term_id, trend.emerging) == ("Локон", term.pk, False)
    # The term's own word is not an emerging phrase: the term covers it.
    assert not Trend.objects.filter(kind=Trend.Kind.NGRAM, key="локон").exists()


def test_a_tracked_hashtag_bursts_as_one_trend(background, salon):
    term = make_term(salon, "#IceBucket")
    burst(background, ice, 6, terms=[term])
    found = [t for t in trends.detect(salon.pk) if t.key.casefold() == "#icebucket"]
    assert [(t.kind, t.term_id, t.emerging) for t in found] == [(Trend.Kind.TERM, term.pk, False)]


def test_too_few_mentions_or_duplicates_make_no_trend(background, salon):
    burst(background, ice, 2)
    burst(background, lambda i: "Копия: ледяной вызов #IceBucket", 6, duplicate=True)
    assert trends.detect(salon.pk) == []


def test_an_old_burst_is_not_news(background, salon):
    burst(background, ice, 6, at=NOW - 5 * HOUR)
    assert trends.detect(salon.pk) == []


def test_the_series_tested_are_bounded(background, salon, monkeypatch):
    from smmdesk.listening import detector

    monkeypatch.setattr(trends, "MAX_SERIES", 3)
    tested = []
    real = detector.detect
    monkeypatch.setattr(detector, "detect", lambda t, v: tested.append(sum(v)) or real(t, v))
    burst(background, lambda i: "#альфа #бета #гамма #дельта #эпсилон", 4)
    trends.detect(salon.pk)
    assert tested == [4.0, 4.0, 4.0]
    # Alone, each of them would have been tested.
    monkeypatch.setattr(trends, "MAX_SERIES", 200)
    trends.detect(salon.pk)
    assert len(tested) == 3 + 5


def test_the_ten_minute_task_scans_workspaces_with_recent_mentions(background, salon, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "detect_trends_task", queued.append)
    tasks.detect_trends.call_local()
    assert queued == []  # the last mention is hours old
    burst(background, ice, 1)
    tasks.detect_trends.call_local()
    assert queued == [salon.pk]


# --- trend -> post -------------------------------------------------------------------------------------


@pytest.fixture
def hashtag_trend(background, salon):
    burst(background, ice, 6)
    trends.detect(salon.pk)
    return Trend.objects.get(key="#icebucket")


@pytest.fixture
def shop(salon):
    Service.objects.create(workspace=salon, name="Женская стрижка", price=Decimal("1500"))
    Service.objects.create(
        workspace=salon, name="Ледяной уход для волос", price=Decimal("2200"), synonyms=["холодный уход"]
    )
    Service.objects.create(workspace=salon, name="Детская стрижка", price=Decimal("700"))
    channels = [fake_channel(salon, "VK group", "salon-vk"), fake_channel(salon, "Telegram", "salon-tg")]
    rss = channel_actions.create_channel(salon, "rss", "News", {"feed_url": "https://news.example/rss"})
    off = fake_channel(salon, "Old", "old")
    channel_actions.set_enabled(off, False)
    return channels + [rss, off]


def test_a_trend_becomes_a_post_in_review_with_its_hashtag_and_a_fitting_service(
    hashtag_trend, shop, members
):
    post = actions.draft_post_from_trend(members["content_manager"], hashtag_trend)
    assert post.state == Post.State.IN_REVIEW
    variants = list(post.variants.order_by("channel__name"))
    # One per working channel that publishes: not the feed, not the disabled one.
    assert [v.channel.name for v in variants] == ["Fake search", "Telegram", "VK group"]
    for variant in variants:
        assert variant.hashtags == ["icebucket"]
        assert "Ледяной уход для волос" in variant.text  # "ледяной" is in the trend's examples
        assert "#icebucket" in variant.full_text()
    hashtag_trend.refresh_from_db()
    assert hashtag_trend.status == Trend.Status.DRAFTED and hashtag_trend.post_id == post.pk
    # Approval is the SMM manager's, as for any post.
    approved = publishing.approve(members["smm_manager"], post)
    assert approved.state == Post.State.APPROVED


def test_drafting_twice_gives_the_same_post(hashtag_trend, shop, members):
    first = actions.draft_post_from_trend(members["smm_manager"], hashtag_trend)
    second = actions.draft_post_from_trend(members["content_manager"], hashtag_trend)
    assert first.pk == second.pk and Post.objects.count() == 1


def test_a_phrase_trend_gets_a_hashtag_from_its_words_and_the_first_service_when_none_fits(
    background, salon, members
):
    Service.objects.create(workspace=salon, name="Мужская стрижка", price=Decimal("900"))
    Service.objects.create(workspace=salon, name="Борода", price=Decimal("500"))
    fake_channel(salon, "VK group", "salon-vk")
    trend = Trend.objects.create(
        workspace=salon, kind=Trend.Kind.NGRAM, key="ледяной вызов", score=9.0, started_at=NOW, emerging=True
    )
    post = actions.draft_post_from_trend(members["owner"], trend)
    variants = list(post.variants.all())
    assert variants and all(v.hashtags == ["ледянойвызов"] for v in variants)
    # The first by name, since none shares a word with the trend.
    assert all("Борода" in v.text and "стрижка" not in v.text for v in variants)


def test_who_may_draft(hashtag_trend, shop, members, cast):
    with pytest.raises(actions.NotAllowed):
        actions.draft_post_from_trend(members["agent"], hashtag_trend)
    with pytest.raises(actions.NotAllowed):
        actions.draft_post_from_trend(members["viewer"], hashtag_trend)
    from smmdesk.accounts.models import Membership

    outsider = Membership.objects.get(user=cast.outsider)
    with pytest.raises(actions.NotAllowed):
        actions.draft_post_from_trend(outsider, hashtag_trend)
    assert not Post.objects.exists()
