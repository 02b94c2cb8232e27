"""The owner's dashboard: each block for the roles that may see its section, its numbers against what
was seeded, a fixed number of queries however much there is, and text from customers kept inert."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from smmdesk.accounts.models import Membership
from smmdesk.audience.models import FollowerCount, Order
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.core import dashboard
from smmdesk.inbox.models import Conversation, Message
from smmdesk.publishing.models import Post, Variant

pytestmark = pytest.mark.django_db

# Tuesday 10 March 2026, 14:00 in Orenburg (the cast's time zone, UTC+5).
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
ALL_BLOCKS = {"sla", "sentiment", "upcoming", "audience", "followers"}


def make_channel(workspace, name):
    channel = Channel(workspace=workspace, kind="fake", name=name)
    account = "".join(c for c in name if c.isalnum())
    channel.store_config(FakeConfig(account_id=f"{workspace.slug}-{account}", api_token="token-123456"))
    channel.save()
    return channel


class Seed:
    """A workspace with a known inbox, plan, orders and follower counts (and a rival workspace whose rows
    must never count)."""

    def __init__(self, cast):
        self.ws = cast.workspace
        self.vk = make_channel(self.ws, "VK <b>group</b>")
        self.tg = make_channel(self.ws, "Telegram")
        self.rival = make_channel(cast.other, "Rival VK")
        self.n = 0

    def conversation(self, channel=None, *, status="open", created=NOW, first_response=None, **fields):
        self.n += 1
        channel = channel or self.vk
        return Conversation.objects.create(
            workspace=channel.workspace,
            channel=channel,
            kind="dm",
            thread_key=f"dm:{self.n}",
            status=status,
            created_at=created,
            updated_at=NOW,
            first_response_at=created + timedelta(minutes=first_response)
            if first_response is not None
            else None,
            **fields,
        )

    def message(self, conversation, sentiment, at, direction="in"):
        self.n += 1
        return Message.objects.create(
            workspace=conversation.workspace,
            channel=conversation.channel,
            conversation=conversation,
            direction=direction,
            external_id=f"m{self.n}",
            text="Здравствуйте",
            received_at=at,
            sentiment=sentiment,
        )

    def post(self, title, at, state=Post.State.SCHEDULED, channels=None, workspace=None):
        post = Post.objects.create(workspace=workspace or self.ws, title=title, state=state, scheduled_at=at)
        for channel in channels if channels is not None else [self.vk]:
            Variant.objects.create(post=post, channel=channel, text=f"{title} text")
        return post

    def order(self, order_id, day, service="Стрижка мужская", gender="male", workspace=None):
        return Order.objects.create(
            workspace=workspace or self.ws,
            order_id=order_id,
            date=day,
            service_name=service,
            price=Decimal("600"),
            gender=gender,
            age=30,
        )


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def seed(cast, clock):
    s = Seed(cast)
    today_local = datetime(2026, 3, 10, 0, 0, tzinfo=UTC) - timedelta(hours=5)  # local midnight in UTC
    # Open: answered in 10 minutes, deadline ahead.
    s.conversation(created=NOW - timedelta(hours=4), first_response=10, due_at=NOW + timedelta(hours=1))
    # Open: deadline passed.
    s.conversation(
        status="new", created=NOW - timedelta(hours=3), first_response=30, due_at=NOW - timedelta(minutes=5)
    )
    # Open since yesterday, the scan warned: at risk (and not started today).
    s.conversation(
        created=today_local - timedelta(hours=6),
        due_at=NOW + timedelta(minutes=5),
        sla_warned_at=NOW - timedelta(minutes=10),
    )
    # Resolved today after 20 minutes: not open, but its first response counts.
    s.conversation(status="resolved", created=NOW - timedelta(hours=2), first_response=20)
    # Waiting on the customer: the clock is paused, so it is not open.
    s.conversation(status="waiting_customer", created=NOW - timedelta(days=2))
    # Another workspace's overdue conversation.
    s.conversation(s.rival, created=NOW - timedelta(hours=1), due_at=NOW - timedelta(hours=1))

    talk = s.conversation(s.tg, status="closed", created=NOW - timedelta(days=20))
    s.message(talk, "negative", NOW - timedelta(hours=1))
    s.message(talk, "negative", datetime(2026, 3, 9, 20, 30, tzinfo=UTC))  # 01:30 on the 10th in Orenburg
    s.message(talk, "positive", NOW - timedelta(hours=2))
    s.message(talk, "neutral", NOW - timedelta(days=3))
    s.message(talk, "negative", NOW - timedelta(days=20))  # before the 14 days
    s.message(talk, "negative", NOW - timedelta(hours=1), direction="out")  # our own reply
    s.message(talk, "", NOW - timedelta(hours=1))  # not classified yet

    for n in range(6):
        s.post(f"Offer {n}", NOW + timedelta(days=6 - n))
    s.post("Draft", NOW + timedelta(hours=1), state=Post.State.DRAFT)
    s.post("Rival", NOW + timedelta(hours=1), channels=[s.rival], workspace=s.rival.workspace)

    for n, day in enumerate([TODAY, TODAY - timedelta(days=3), TODAY - timedelta(days=29)]):
        s.order(f"A{n}", day)
    s.order("B1", TODAY - timedelta(days=30), service="Women's haircut", gender="female")
    s.order("R1", TODAY, workspace=cast.other)

    FollowerCount.objects.bulk_create(
        [
            FollowerCount(channel=s.vk, date=TODAY - timedelta(days=20), followers=400),
            FollowerCount(channel=s.vk, date=TODAY, followers=430),
            FollowerCount(channel=s.tg, date=TODAY - timedelta(days=1), followers=90),
            FollowerCount(channel=s.rival, date=TODAY, followers=9000),
        ]
    )
    return s


def member(cast, role):
    return Membership.objects.get(workspace=cast.workspace, role=role)


def test_sla_block_counts_now_and_today(cast, seed):
    block = dashboard.gather(cast.workspace, member(cast, "owner"))["sla"]
    assert (block["open"], block["breached"], block["at_risk"]) == (3, 1, 1)
    assert block["started_today"] == 3
    assert block["first_response_median"] == 20.0
    # Of the three started today, the one whose deadline passed five minutes ago missed it: 2 of 3.
    assert block["compliance"] == round(100 * 2 / 3, 1) == 66.7
    assert block["breached_url"] == reverse("inbox:list", kwargs={"slug": "salon"}) + "?risk=breached"


def test_sentiment_counts_incoming_messages_per_local_day(cast, seed):
    block = dashboard.gather(cast.workspace, member(cast, "owner"))["sentiment"]
    days = block["days"]
    assert len(days) == 14 and days[0]["day"] == TODAY - timedelta(days=13) and days[-1]["day"] == TODAY
    assert {k: days[-1][k] for k in ("negative", "neutral", "positive")} == {
        "negative": 2,
        "neutral": 0,
        "positive": 1,
    }
    assert days[-4]["neutral"] == 1
    assert block["totals"] == {"negative": 2, "neutral": 1, "positive": 1}
    # The busiest day's bar fills the plot; each part of it is its share of the height.
    today_bar = block["chart"]["bars"][-1]
    heights = {part["key"]: float(part["height"]) for part in today_bar["parts"]}
    assert heights["negative"] == pytest.approx(2 * heights["positive"], abs=0.2)


def test_upcoming_posts_are_the_next_five_scheduled(cast, seed):
    block = dashboard.gather(cast.workspace, member(cast, "owner"))["upcoming"]
    assert [p["headline"] for p in block["posts"]] == ["Offer 5", "Offer 4", "Offer 3", "Offer 2", "Offer 1"]
    assert block["posts"][0]["channels"] == ["VK <b>group</b>"]


def test_audience_headline_and_follower_growth(cast, seed):
    blocks = dashboard.gather(cast.workspace, member(cast, "owner"))
    audience = blocks["audience"]
    assert (audience["orders_30d"], audience["orders_prev_30d"], audience["change"]) == (3, 1, 2.0)
    assert audience["top_service"] == "Стрижка мужская"
    growth = blocks["followers"]
    assert {row["name"]: (row["last"], row["change"]) for row in growth["channels"]} == {
        "VK <b>group</b>": (430, 30),
        "Telegram": (90, 0),
    }
    assert growth["total"]["last"] == 520
    assert all(row["chart"]["path"] for row in growth["channels"])


@pytest.mark.parametrize(
    "role, expected",
    [
        ("owner", ALL_BLOCKS),
        ("smm_manager", ALL_BLOCKS),
        ("content_manager", ALL_BLOCKS),
        ("agent", {"sla", "sentiment", "upcoming"}),
        ("viewer", {"sla", "sentiment", "upcoming"}),
    ],
)
def test_blocks_follow_the_roles(cast, seed, role, expected):
    assert set(dashboard.gather(cast.workspace, member(cast, role))) == expected


def page(client, cast, role):
    client.force_login(cast.users[role])
    response = client.get(reverse("core:dashboard", kwargs={"slug": "salon"}))
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_sees_every_block_with_the_seeded_numbers(client, cast, seed):
    html = page(client, cast, "owner")
    for block in ALL_BLOCKS:
        assert f'data-testid="block-{block}"' in html
    assert 'data-testid="sla-open"><a href="/w/salon/inbox/">3</a>' in html
    assert 'data-testid="sla-breached"><a href="/w/salon/inbox/?risk=breached">1</a>' in html
    assert 'data-testid="sla-started">3 · SLA 66.7 %</td>' in html
    assert 'data-testid="audience-orders">3<' in html
    assert html.count('data-testid="upcoming-post"') == 5
    assert html.count('data-testid="follower-sparkline"') == 2
    assert 'data-testid="sentiment-chart"' in html
    # The channel's name is shown as text, never as markup.
    assert "VK &lt;b&gt;group&lt;/b&gt;" in html and "<b>group</b>" not in html
    # The set-up cards and their links stay.
    assert reverse("business:profile", kwargs={"slug": "salon"}) in html


def test_the_viewer_sees_no_audience_block(client, cast, seed):
    html = page(client, cast, "viewer")
    assert 'data-testid="block-sla"' in html and 'data-testid="block-upcoming"' in html
    assert 'data-testid="block-audience"' not in html and 'data-testid="block-followers"' not in html
    assert "Стрижка мужская" not in html


@pytest.mark.parametrize("language", ["ru", "sk"])
def test_svg_numbers_keep_their_decimal_point_in_every_language(client, cast, seed, language):
    client.cookies["django_language"] = language
    html = page(client, cast, "owner")
    assert f'lang="{language}"' in html
    sparkline = html.split('data-testid="follower-sparkline"')[0].rsplit("<svg", 1)[1]
    assert "," not in sparkline.split('viewBox="')[1].split('"')[0]
    points = html.split('<polyline points="')[1].split('"')[0]
    assert all(pair.count(",") == 1 for pair in points.split())


def test_queries_do_not_grow_with_the_data(cast, seed):
    owner = member(cast, "owner")
    with CaptureQueriesContext(connection) as small:
        dashboard.gather(cast.workspace, owner)
    for n in range(8):
        channel = make_channel(cast.workspace, f"Extra {n}")
        seed.post(f"Extra {n}", NOW + timedelta(hours=n + 1), channels=[channel, seed.tg])
        FollowerCount.objects.create(channel=channel, date=TODAY, followers=n)
        talk = seed.conversation(channel, created=NOW - timedelta(hours=1), first_response=5)
        seed.message(talk, "positive", NOW - timedelta(minutes=30))
        seed.order(f"X{n}", TODAY, service=f"Service {n}")
    with CaptureQueriesContext(connection) as large:
        dashboard.gather(cast.workspace, owner)
    assert len(large.captured_queries) == len(small.captured_queries)
