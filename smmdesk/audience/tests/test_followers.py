"""Follower counts: the fake network's counter, one row per channel and day however often it is read,
the daily task that keeps going past a failing channel, and growth over a period with its sparklines."""

from datetime import UTC, date, datetime

import pytest
from huey.contrib.djhuey import HUEY

from smmdesk.audience import charts_followers, followers, tasks_reports
from smmdesk.audience.models import FollowerCount
from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import AdapterError
from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.channels.models import Channel

# 23:30 UTC on 9 March is already 10 March in Orenburg (UTC+5, the cast's time zone).
LATE_EVENING_UTC = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)


def fake(workspace, name, account):
    return channel_actions.create_channel(
        workspace, "fake", name, {"account_id": account, "api_token": f"token-{account}-12345"}
    )


@pytest.fixture
def channels(cast):
    return {
        "vk": fake(cast.workspace, "VK group", "salon-vk"),
        "tg": fake(cast.workspace, "Telegram", "salon-tg"),
    }


@pytest.fixture
def run_tasks():
    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def test_the_fake_network_tells_its_counter(channels):
    FakeNetwork.account("salon-vk").followers = 812
    assert channels["vk"].adapter().followers() == 812
    FakeNetwork.account("salon-vk").followers = None
    assert channels["vk"].adapter().followers() is None


def test_a_second_reading_the_same_day_updates_the_same_row(channels, time_machine):
    time_machine.move_to(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), tick=False)
    account = FakeNetwork.account("salon-vk")
    account.followers = 500
    first = followers.record_followers(channels["vk"], date(2026, 3, 10))
    account.followers = 507
    time_machine.move_to(datetime(2026, 3, 10, 18, 0, tzinfo=UTC), tick=False)
    second = followers.record_followers(channels["vk"], date(2026, 3, 10))
    assert second.pk == first.pk
    rows = FollowerCount.objects.filter(channel=channels["vk"])
    assert [(r.date, r.followers) for r in rows] == [(date(2026, 3, 10), 507)]
    assert rows[0].measured_at == datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    followers.record_followers(channels["vk"], date(2026, 3, 11))
    assert FollowerCount.objects.filter(channel=channels["vk"]).count() == 2


def test_a_network_that_does_not_tell_stores_nothing(channels):
    FakeNetwork.account("salon-tg").followers = None
    assert followers.record_followers(channels["tg"], date(2026, 3, 10)) is None
    assert not FollowerCount.objects.exists()


def test_a_revoked_token_marks_the_channel_and_raises(channels):
    FakeNetwork.account("salon-tg").revoked = True
    with pytest.raises(AdapterError):
        followers.record_followers(channels["tg"], date(2026, 3, 10))
    assert Channel.objects.get(pk=channels["tg"].pk).status == Channel.Status.NEEDS_RECONNECT


def test_the_day_is_the_workspaces_own(channels, time_machine):
    time_machine.move_to(LATE_EVENING_UTC, tick=False)
    FakeNetwork.account("salon-vk").followers = 42
    row = followers.record_channel(channels["vk"].pk)
    assert row.date == date(2026, 3, 10)


def test_one_failing_channel_never_stops_the_others(cast, channels, time_machine, monkeypatch):
    time_machine.move_to(datetime(2026, 3, 10, 6, 0, tzinfo=UTC), tick=False)
    broken = fake(cast.workspace, "Broken", "salon-broken")
    FakeNetwork.account("salon-vk").followers = 300
    FakeNetwork.account("salon-tg").followers = 120
    real = followers.record_followers

    def explode(channel, today):
        if channel.pk == broken.pk:
            raise RuntimeError("the network answered nonsense")
        return real(channel, today)

    monkeypatch.setattr(followers, "record_followers", explode)
    assert followers.record_all() == {"recorded": 2, "unknown": 0, "failed": 1}
    assert dict(FollowerCount.objects.values_list("channel__name", "followers")) == {
        "VK group": 300,
        "Telegram": 120,
    }


def test_the_daily_task_records_every_counting_channel_once_a_day(cast, channels, run_tasks, time_machine):
    time_machine.move_to(datetime(2026, 3, 10, 4, 41, tzinfo=UTC), tick=False)
    FakeNetwork.account("salon-vk").followers = 300
    FakeNetwork.account("salon-tg").revoked = True  # fails: the VK group is still recorded
    channel_actions.create_channel(
        cast.workspace, "rss", "Blog feed", {"feed_url": "https://example.org/feed"}
    )
    off = fake(cast.workspace, "Off", "salon-off")
    channel_actions.set_enabled(off, False)
    tasks_reports.record_followers_daily.call_local()
    FakeNetwork.account("salon-vk").followers = 301
    tasks_reports.record_followers_daily.call_local()
    assert list(FollowerCount.objects.values_list("channel__name", "date", "followers")) == [
        ("VK group", date(2026, 3, 10), 301)
    ]


def test_only_networks_that_can_tell_are_asked():
    kinds = set(followers.counting_kinds())
    assert {"fake", "vk", "telegram", "mastodon", "bluesky"} <= kinds
    assert not kinds & {"rss", "email", "webchat", "webhook"}


def seed(channel, readings: dict[str, int]) -> None:
    FollowerCount.objects.bulk_create(
        FollowerCount(channel=channel, date=date.fromisoformat(day), followers=n)
        for day, n in readings.items()
    )


def test_growth_per_channel_and_in_total(cast, channels):
    seed(channels["vk"], {"2026-02-01": 100, "2026-02-10": 200, "2026-02-20": 260, "2026-03-11": 999})
    seed(channels["tg"], {"2026-02-15": 50, "2026-02-28": 40})
    other = fake(cast.other, "Rival VK", "rival-vk")
    seed(other, {"2026-02-15": 7000})
    data = followers.growth(cast.workspace, days=30, today=date(2026, 3, 10))
    assert (data["start"], data["end"]) == (date(2026, 2, 9), date(2026, 3, 10))
    by_name = {row["name"]: row for row in data["channels"]}
    assert set(by_name) == {"VK group", "Telegram"}
    vk = by_name["VK group"]
    assert vk["points"] == [(date(2026, 2, 10), 200), (date(2026, 2, 20), 260)]
    assert (vk["first"], vk["last"], vk["change"], vk["change_share"]) == (200, 260, 60, 0.3)
    tg = by_name["Telegram"]
    assert (tg["change"], tg["change_share"]) == (-10, -0.2)
    assert data["total"] == {"first": 250, "last": 300, "change": 50, "change_share": 0.2}


def test_growth_of_a_workspace_without_readings_is_empty(cast, channels):
    data = followers.growth(cast.workspace, days=7, today=date(2026, 3, 10))
    assert data["channels"] == []
    assert data["total"] == {"first": 0, "last": 0, "change": 0, "change_share": None}


def test_sparkline_scales_each_channel_to_its_own_range():
    start, end = date(2026, 3, 1), date(2026, 3, 11)
    chart = charts_followers.sparkline([(date(2026, 3, 1), 300), (date(2026, 3, 11), 320)], start, end)
    points = [tuple(map(float, pair.split(","))) for pair in chart["path"].split()]
    pad = charts_followers.PAD
    (x0, y0), (x1, y1) = points
    assert (x0, x1) == (pad, charts_followers.WIDTH - pad)
    # The lowest value sits at the bottom and the highest at the top, whatever their size.
    assert (y0, y1) == (charts_followers.HEIGHT - pad, pad)
    assert chart["rising"] and (chart["dot_x"], chart["dot_y"]) == (f"{x1:.1f}", f"{y1:.1f}")
    flat = charts_followers.sparkline([(start, 5), (end, 5)], start, end)
    assert {pair.split(",")[1] for pair in flat["path"].split()} == {f"{charts_followers.HEIGHT / 2:.1f}"}


def test_demo_history_grows_and_loads_once(cast, channels, time_machine):
    time_machine.move_to(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), tick=False)
    followers.load_demo(cast.workspace, days=60)
    rows = FollowerCount.objects.filter(channel=channels["vk"]).order_by("date")
    assert rows.count() == 60 and rows.last().date == date(2026, 3, 10)
    assert rows.last().followers > rows.first().followers
    assert FakeNetwork.account("salon-vk").followers == rows.last().followers
    before = list(FollowerCount.objects.order_by("pk").values_list("channel_id", "date", "followers"))
    followers.load_demo(cast.workspace, days=60)
    assert list(FollowerCount.objects.order_by("pk").values_list("channel_id", "date", "followers")) == before
