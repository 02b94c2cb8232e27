"""The mention stream page: who sees and does what (everyone reads; owner, SMM manager and agent mark
handled and send to the inbox), escaping of what strangers wrote and their links, filters and bad filter
input, "Load more", the overview strip and alerts. Helpers here are shared by the other test_views*
modules and test_api.py."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from smmdesk.accounts.models import Membership
from smmdesk.channels import actions as channel_actions
from smmdesk.listening import views
from smmdesk.listening.models import ListeningAlert, Mention, MentionCluster, Source, TrackedTerm, Trend

pytestmark = pytest.mark.django_db

ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
HANDLERS = {"owner", "smm_manager", "agent"}
MANAGERS = {"owner", "smm_manager"}
DRAFTERS = {"owner", "smm_manager", "content_manager"}
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 14:00 in Orenburg (Asia/Yekaterinburg, UTC+5)
XSS = '<img src=x onerror=alert(1)>"><script>alert(1)</script>'
_ids = itertools.count(1)


def url(name, slug="salon", **kwargs):
    return reverse(f"listening:{name}", kwargs={"slug": slug, **kwargs})


def member(cast, role) -> Membership:
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])


def fake_channel(workspace, name, account, stands_for="vk"):
    return channel_actions.create_channel(
        workspace,
        "fake",
        name,
        {"account_id": account, "api_token": f"token-{account}-12345", "stands_for": stands_for},
    )


def make_source(workspace, channel, **fields) -> Source:
    return Source.objects.create(
        workspace=workspace, channel=channel, kind=fields.pop("kind", "search"), **fields
    )


def make_mention(workspace, text, *, source=None, minutes_ago=0, similar=0, terms=(), **fields) -> Mention:
    """A stored mention, as intake would leave it: its own cluster, `similar` near-duplicates folded in."""
    when = NOW - timedelta(minutes=minutes_ago)
    cluster = MentionCluster.objects.create(
        workspace=workspace, fingerprint=text.lower(), size=similar + 1, first_seen=when, last_seen=when
    )
    channel = source.channel if source is not None else fields.pop("channel", None)
    mention = Mention.objects.create(
        workspace=workspace,
        source=source,
        channel=channel,
        external_id=fields.pop("external_id", f"post-{next(_ids)}"),
        text=text,
        published_at=when,
        fetched_at=when,
        cluster=cluster,
        **fields,
    )
    for index in range(similar):
        Mention.objects.create(
            workspace=workspace,
            source=source,
            channel=channel,
            external_id=f"repost-{mention.pk}-{index}",
            text=text,
            published_at=when + timedelta(minutes=index + 1),
            fetched_at=when,
            cluster=cluster,
            duplicate=True,
        )
    mention.terms.set(terms)
    return mention


def make_trend(workspace, key="#стрижкаоренбург", examples=(), **fields) -> Trend:
    """A burst at NOW - 2 h in hourly buckets: a quiet day, then the jump."""
    started = fields.pop("started_at", NOW - timedelta(hours=2))
    counts = fields.pop(
        "counts",
        [[(started - timedelta(hours=6 - i)).isoformat(), c] for i, c in enumerate([1, 0, 2, 1, 0, 1])]
        + [[started.isoformat(), 9], [(started + timedelta(hours=1)).isoformat(), 14]],
    )
    trend = Trend.objects.create(
        workspace=workspace,
        kind=fields.pop("kind", "hashtag"),
        key=key,
        score=fields.pop("score", 7.25),
        started_at=started,
        detected_at=fields.pop("detected_at", NOW - timedelta(minutes=50)),
        counts=counts,
        emerging=fields.pop("emerging", True),
        **fields,
    )
    trend.examples.set(examples)
    return trend


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def vk(cast):
    return fake_channel(cast.workspace, "VK group", "salon-vk")


@pytest.fixture
def source(cast, vk):
    return make_source(cast.workspace, vk)


@pytest.fixture
def brand(cast):
    return TrackedTerm.objects.create(workspace=cast.workspace, kind="brand", phrase="Lokon")


# The stream


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_stream_and_only_handlers_get_buttons(cast, login, clock, source, role):
    make_mention(cast.workspace, "Лучшая стрижка в Lokon", source=source, sentiment="positive")
    page = login(cast.users[role]).get(url("stream"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Лучшая стрижка в Lokon" in body
    assert ('data-testid="mention-handle"' in body) == (role in HANDLERS)
    assert ('data-testid="mention-inbox"' in body) == (role in HANDLERS)


def test_stream_is_newest_first_and_shows_the_mentions_facts(cast, login, clock, source, brand):
    make_mention(cast.workspace, "older one", source=source, minutes_ago=90)
    make_mention(
        cast.workspace,
        "newer one",
        source=source,
        minutes_ago=5,
        sentiment="negative",
        language="ru",
        reach=1234,
        flags=["complaint"],
        terms=[brand],
        similar=2,
        author_name="Ольга",
    )
    body = login(cast.users["viewer"]).get(url("stream")).content.decode()
    assert body.index("newer one") < body.index("older one")
    assert 'data-sentiment="negative"' in body
    assert "+2 similar" in body
    assert "1234" in body and "complaint" in body and "Ольга" in body
    assert "Lokon" in body  # the matched term
    assert "VK group" in body
    # The business's clock: 08:55 UTC is 13:55 in Orenburg.
    assert "10.03.2026 13:55" in body
    # Reposts are folded into their first mention, not listed again.
    assert body.count('data-testid="mention"') == 2


def test_strangers_text_is_escaped_and_only_web_links_are_offered(cast, login, clock, source):
    make_mention(
        cast.workspace,
        f"text {XSS}",
        source=source,
        author_name=f"name {XSS}",
        author_url="javascript:alert(1)",
        url="https://vk.example/wall-1_2",
    )
    make_mention(
        cast.workspace, "second", source=source, author_name="Good", author_url="https://vk.example/id5"
    )
    body = login(cast.users["viewer"]).get(url("stream")).content.decode()
    assert "<script>alert(1)</script>" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in body
    assert "javascript:alert" not in body
    assert 'href="https://vk.example/id5" rel="nofollow noopener noreferrer ugc" target="_blank"' in body
    assert 'href="https://vk.example/wall-1_2" rel="nofollow noopener noreferrer ugc" target="_blank"' in body


def test_filters_narrow_the_stream(cast, login, clock, source, brand, vk):
    other = make_source(cast.workspace, fake_channel(cast.workspace, "Feeds", "salon-rss"), kind="feed")
    make_mention(cast.workspace, "плохо подстригли", source=source, sentiment="negative", terms=[brand])
    make_mention(cast.workspace, "отличный мастер", source=other, sentiment="positive")
    client = login(cast.users["viewer"])

    def shown(**params):
        body = client.get(url("stream"), params).content.decode()
        return {text for text in ("плохо подстригли", "отличный мастер") if text in body}

    assert shown() == {"плохо подстригли", "отличный мастер"}
    assert shown(sentiment="negative") == {"плохо подстригли"}
    assert shown(term=brand.pk) == {"плохо подстригли"}
    assert shown(source=other.pk) == {"отличный мастер"}
    assert shown(q="мастер") == {"отличный мастер"}


@pytest.mark.parametrize(
    "params,field",
    [
        ({"sentiment": "furious"}, "sentiment"),
        ({"term": "abc"}, "term"),
        ({"source": "99999999999999999999999"}, "source"),
        ({"status": "<b>"}, "status"),
        ({"before": "-3"}, "before"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_filters_are_named_never_a_500(cast, login, clock, source, params, field):
    make_mention(cast.workspace, "still listed", source=source)
    response = login(cast.users["viewer"]).get(url("stream"), params)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()


def test_load_more_pages_through_older_mentions(cast, login, clock, source):
    for n in range(views.PAGE + 3):
        make_mention(cast.workspace, f"mention number {n:03d}", source=source, minutes_ago=n)
    client = login(cast.users["viewer"])
    first = client.get(url("stream")).content.decode()
    assert first.count('data-testid="mention"') == views.PAGE
    assert "mention number 000" in first and f"mention number {views.PAGE:03d}" not in first
    assert 'data-testid="load-more"' in first
    # The button asks for what is older than the last row shown, keeping the filters.
    last_shown = Mention.objects.get(text=f"mention number {views.PAGE - 1:03d}")
    more = client.get(url("stream"), {"before": last_shown.pk}, HTTP_HX_REQUEST="true")
    assert more.status_code == 200
    rest = more.content.decode()
    assert "<html" not in rest  # only the rows, appended where the button was
    assert rest.count('data-testid="mention"') == 3
    assert f"mention number {views.PAGE + 2:03d}" in rest and "mention number 000" not in rest
    assert 'data-testid="load-more"' not in rest


def test_overview_strip_and_latest_alerts(cast, login, clock, source):
    negative = make_mention(
        cast.workspace, "ужасно подстригли", source=source, sentiment="negative", minutes_ago=30
    )
    make_mention(cast.workspace, "нормально", source=source, sentiment="neutral", minutes_ago=60 * 30)
    ListeningAlert.objects.create(
        workspace=cast.workspace,
        kind="negative",
        key=f"negative:{negative.pk}",
        mention=negative,
        text=f"Alert {XSS}",
    )
    body = login(cast.users["viewer"]).get(url("stream")).content.decode()
    assert 'data-testid="overview-mentions">1<' in body  # the other one is older than 24 h
    assert 'data-testid="overview-negative">1<' in body
    assert 'data-testid="listening-alert"' in body and "Alert &lt;img" in body
    assert f'href="#mention-{negative.pk}"' in body


def test_empty_stream_says_what_to_do(cast, login, clock):
    body = login(cast.users["viewer"]).get(url("stream")).content.decode()
    assert 'data-testid="stream-empty"' in body


# A mention's buttons


@pytest.mark.parametrize("role", ROLES)
def test_mark_handled_by_role(cast, login, clock, source, role):
    mention = make_mention(cast.workspace, "где вы находитесь?", source=source)
    response = login(cast.users[role]).post(
        url("mention_handle", mention_id=mention.pk), HTTP_HX_REQUEST="true"
    )
    mention.refresh_from_db()
    if role in HANDLERS:
        assert response.status_code == 200
        assert mention.status == Mention.Status.HANDLED
        assert 'data-status="handled"' in response.content.decode()
        assert mention.handled_by == member(cast, role)
    else:
        assert response.status_code == 403
        assert mention.status == Mention.Status.NEW


def test_mark_handled_without_htmx_goes_back_to_the_page_it_came_from(cast, login, clock, source):
    mention = make_mention(cast.workspace, "спасибо", source=source)
    back_to = url("stream") + "?sentiment=positive"
    response = login(cast.users["agent"]).post(
        url("mention_handle", mention_id=mention.pk), {"next": back_to}
    )
    assert response.status_code == 302 and response["Location"] == back_to
    # Somewhere else is not followed.
    response = login(cast.users["agent"]).post(
        url("mention_handle", mention_id=mention.pk), {"next": "https://evil.example/"}
    )
    assert response["Location"] == url("stream")


def test_send_to_inbox_opens_a_conversation_and_links_it(cast, login, clock, source):
    mention = make_mention(
        cast.workspace,
        "Ужасно подстригли, верните деньги",
        source=source,
        sentiment="negative",
        author_name="Ольга",
        author_handle="id101",
    )
    client = login(cast.users["smm_manager"])
    response = client.post(url("mention_inbox", mention_id=mention.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    mention.refresh_from_db()
    assert mention.conversation_id is not None
    link = reverse("inbox:conversation", kwargs={"slug": "salon", "conversation_id": mention.conversation_id})
    body = response.content.decode()
    assert f'href="{link}"' in body
    assert 'data-testid="mention-inbox"' not in body  # sent: the button is gone
    # Twice: the same conversation.
    client.post(url("mention_inbox", mention_id=mention.pk), HTTP_HX_REQUEST="true")
    first = mention.conversation_id
    mention.refresh_from_db()
    assert mention.conversation_id == first


def test_another_workspaces_mention_is_not_found(cast, login, clock):
    rival_channel = fake_channel(cast.other, "Rival VK", "rival-vk")
    theirs = make_mention(cast.other, "чужое", source=make_source(cast.other, rival_channel))
    client = login(cast.users["smm_manager"])
    for name in ("mention_handle", "mention_inbox"):
        assert client.post(url(name, mention_id=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Mention.Status.NEW and theirs.conversation_id is None


def test_buttons_only_answer_post(cast, login, clock, source):
    mention = make_mention(cast.workspace, "x", source=source)
    assert login(cast.users["owner"]).get(url("mention_handle", mention_id=mention.pk)).status_code == 405


def test_section_is_in_the_navigation(cast, login, clock):
    body = login(cast.users["viewer"]).get(url("stream")).content.decode()
    assert 'href="/w/salon/listening/" aria-current="page"' in body
    assert 'data-testid="listening-tabs"' in body
