"""The calendar: month, week and list views in the business's time zone across a DST change, the filters,
and moving a post (drag and drop and the date field beside it post the same form) keeping its local time.

The business is in Bratislava here: clocks go forward on 29 March 2026 (CET, UTC+1 → CEST, UTC+2), so a
post at 10:00 local is 09:00 UTC before and 08:00 UTC after.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from smmdesk.business.models import BusinessProfile
from smmdesk.publishing import actions
from smmdesk.publishing.models import Campaign, Post, Variant
from smmdesk.publishing.tests.test_views import make_post, member, two_channels, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels(cast):
    return two_channels(cast.workspace)


BEFORE_DST = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # Friday 10:00 CET
AFTER_DST = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 10:00 CEST


@pytest.fixture
def bratislava(cast, time_machine):
    BusinessProfile.objects.filter(workspace=cast.workspace).update(timezone="Europe/Bratislava")
    time_machine.move_to(datetime(2026, 3, 20, 9, 0, tzinfo=UTC), tick=False)
    return cast


def scheduled(cast, channels, when, **fields):
    """A post approved and scheduled for `when`."""
    post = make_post(cast, channels, scheduled_at=when, **fields)
    actions.submit(member(cast, "content_manager"), post)
    actions.approve(member(cast, "smm_manager"), post)
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED
    return post


def cell(body: str, testid: str) -> str:
    """The HTML of one calendar cell (a month's day or a week's hour slot)."""
    match = re.search(rf'data-testid="{testid}">(.*?)</td>', body, re.S)
    assert match, f"no cell {testid}"
    return match.group(1)


def chip_times(html: str) -> list[str]:
    return re.findall(r'data-testid="post-time">([^<]+)<', html)


def test_month_view_shows_posts_at_their_local_time_on_both_sides_of_dst(bratislava, client, channels):
    cast = bratislava
    first = scheduled(cast, channels, BEFORE_DST, title="Before the change")
    second = scheduled(cast, channels, AFTER_DST, title="After the change")
    client.force_login(cast.users["viewer"])
    body = client.get(url("calendar") + "?month=2026-03").content.decode()
    assert "Before the change" in cell(body, "day-2026-03-27")
    assert chip_times(cell(body, "day-2026-03-27")) == ["10:00"]
    assert "After the change" in cell(body, "day-2026-03-30")
    assert chip_times(cell(body, "day-2026-03-30")) == ["10:00"]
    assert f'data-post-id="{first.pk}"' in body and f'data-post-id="{second.pk}"' in body
    # The grid starts on Monday 23 February and ends on Sunday 5 April.
    assert 'data-testid="day-2026-02-23"' in body and 'data-testid="day-2026-04-05"' in body


def test_week_view_puts_posts_in_their_local_hour_across_dst(bratislava, client, channels):
    cast = bratislava
    scheduled(cast, channels, BEFORE_DST, title="Before")
    scheduled(cast, channels, AFTER_DST, title="After")
    client.force_login(cast.users["viewer"])
    before = client.get(url("calendar_week") + "?week=2026-03-25").content.decode()
    assert "Before" in cell(before, "slot-2026-03-27-10")
    assert "Before" not in cell(before, "slot-2026-03-27-9")
    after = client.get(url("calendar_week") + "?week=2026-04-05").content.decode()  # a Sunday: its week
    assert "After" in cell(after, "slot-2026-03-30-10")


def test_list_view_groups_by_local_day_and_lists_unplanned_drafts(bratislava, client, channels):
    cast = bratislava
    scheduled(cast, channels, BEFORE_DST, title="Planned one")
    make_post(cast, channels, title="Some idea")
    client.force_login(cast.users["viewer"])
    body = client.get(url("calendar_list")).content.decode()
    assert 'datetime="2026-03-27"' in body and "Planned one" in body
    unscheduled = re.search(r'data-testid="unscheduled">(.*?)</section>', body, re.S).group(1)
    assert "Some idea" in unscheduled and "Planned one" not in unscheduled


def test_filters_by_channel_status_and_campaign(bratislava, client, channels):
    cast = bratislava
    vk, telegram = channels
    spring = Campaign.objects.create(workspace=cast.workspace, name="Spring")
    scheduled(cast, [vk], BEFORE_DST, title="Only VK", campaign=spring.pk)
    make_post(cast, [telegram], title="Telegram draft", scheduled_at=AFTER_DST)
    client.force_login(cast.users["viewer"])
    month = url("calendar") + "?month=2026-03"
    both = client.get(month).content.decode()
    assert "Only VK" in both and "Telegram draft" in both
    by_channel = client.get(f"{month}&channel={telegram.pk}").content.decode()
    assert "Only VK" not in by_channel and "Telegram draft" in by_channel
    by_status = client.get(f"{month}&status=scheduled").content.decode()
    assert "Only VK" in by_status and "Telegram draft" not in by_status
    by_campaign = client.get(f"{month}&campaign={spring.pk}").content.decode()
    assert "Only VK" in by_campaign and "Telegram draft" not in by_campaign
    # A value that names nothing here is refused at its field, and the calendar still shows.
    bad = client.get(f"{month}&channel=999999&status=nonsense")
    assert bad.status_code == 200
    assert b"Select a valid choice" in bad.content


def test_a_bad_month_shows_this_month_with_a_message(bratislava, client):
    client.force_login(bratislava.users["viewer"])
    response = client.get(url("calendar") + "?month=2026-13")
    assert response.status_code == 400
    assert b"not valid" in response.content and b'data-testid="day-2026-03-20"' in response.content


def test_moving_a_post_to_another_day_keeps_its_local_time_across_dst(bratislava, client, channels):
    cast = bratislava
    post = scheduled(cast, channels, BEFORE_DST)
    client.force_login(cast.users["content_manager"])
    body = client.get(url("calendar") + "?month=2026-03").content.decode()
    assert f'data-reschedule-url="{url("post_reschedule", post_id=post.pk)}"' in body  # draggable
    back_to = url("calendar") + "?month=2026-03"
    response = client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-03-31", "next": back_to})
    assert response.status_code == 302 and response["Location"] == back_to
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert post.state == Post.State.SCHEDULED
    assert set(post.variants.values_list("next_attempt_at", flat=True)) == {post.scheduled_at}
    assert chip_times(cell(client.get(back_to).content.decode(), "day-2026-03-31")) == ["10:00"]
    # And back over the change again.
    client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-03-26"})
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 26, 9, 0, tzinfo=UTC)


def test_dropping_on_the_week_grid_sets_the_hour_and_keeps_the_minutes(bratislava, client, channels):
    cast = bratislava
    post = scheduled(cast, channels, datetime(2026, 3, 27, 9, 30, tzinfo=UTC))  # 10:30 CET
    client.force_login(cast.users["smm_manager"])
    client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-03-30", "hour": "15"})
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 30, 13, 30, tzinfo=UTC)  # 15:30 CEST
    # A wall time that does not exist on the night of the change moves forward by the gap.
    client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-03-29", "hour": "2"})
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    # The keyboard's form may also carry a time.
    client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-04-02", "time": "08:15"})
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 4, 2, 6, 15, tzinfo=UTC)


def test_bad_moves_are_refused_with_a_reason_and_change_nothing(bratislava, client, channels):
    cast = bratislava
    post = scheduled(cast, channels, BEFORE_DST)
    client.force_login(cast.users["content_manager"])
    for data in (
        {"date": "tomorrow"},
        {"date": ""},
        {"date": "2026-03-28", "hour": "24"},
        {"date": "1900-01-01"},
    ):
        response = client.post(url("post_reschedule", post_id=post.pk), data)
        assert response.status_code == 302, data
    into_the_past = client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-03-01"}, follow=True)
    assert b"has passed" in into_the_past.content
    post.refresh_from_db()
    assert post.scheduled_at == BEFORE_DST
    # A published post stays where it went out: not draggable, and the move is refused.
    Post.objects.filter(pk=post.pk).update(state=Post.State.PUBLISHED)
    Variant.objects.filter(post=post).update(state=Variant.State.PUBLISHED)
    body = client.get(url("calendar") + "?month=2026-03").content.decode()
    assert f'data-post-id="{post.pk}"' in body and "data-reschedule-url" not in body
    refused = client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-03-28"}, follow=True)
    assert b"can no longer be moved" in refused.content
    post.refresh_from_db()
    assert post.scheduled_at == BEFORE_DST


def test_who_may_move_posts(bratislava, client, channels):
    cast = bratislava
    post = scheduled(cast, channels, BEFORE_DST)
    for role in ("viewer", "agent"):
        client.force_login(cast.users[role])
        assert "data-reschedule-url" not in client.get(url("calendar") + "?month=2026-03").content.decode()
        assert client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-03-28"}).status_code == 403
    # A move never leaves for another site.
    client.force_login(cast.users["owner"])
    response = client.post(
        url("post_reschedule", post_id=post.pk), {"date": "2026-03-28", "next": "https://evil.example/"}
    )
    assert response["Location"] == url("calendar")
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
