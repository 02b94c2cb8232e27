"""Business-hours arithmetic: pure Schedule tests, then the database-backed schedule_for."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from smmdesk.business.hours import (
    END_OF_DAY,
    add_business_minutes,
    build_schedule,
    is_open,
    next_open,
    schedule_for,
)
from smmdesk.business.models import BusinessProfile, HolidayException, OpeningHours

ORB = ZoneInfo("Asia/Yekaterinburg")  # Orenburg keeps UTC+5 all year
BTS = ZoneInfo("Europe/Bratislava")

WEEKDAYS_9_TO_18 = [(d, time(9), time(18)) for d in range(5)]


def salon(exceptions=()):
    """Mon-Fri 09:00-13:00 and 14:00-19:00, Saturday 10:00-16:00, Sunday closed."""
    weekly = [(d, time(9), time(13)) for d in range(5)] + [(d, time(14), time(19)) for d in range(5)]
    weekly.append((5, time(10), time(16)))
    return build_schedule("Asia/Yekaterinburg", weekly, list(exceptions))


def local(*args, tz=ORB):
    return datetime(*args, tzinfo=tz)


# 2025-06-02 is a Monday.


def test_is_open_inside_and_outside_intervals():
    s = salon()
    assert is_open(s, local(2025, 6, 2, 9, 0))
    assert is_open(s, local(2025, 6, 2, 12, 59))
    assert not is_open(s, local(2025, 6, 2, 13, 0)), "closing time is already closed"
    assert not is_open(s, local(2025, 6, 2, 13, 30)), "lunch break"
    assert is_open(s, local(2025, 6, 2, 14, 0))
    assert not is_open(s, local(2025, 6, 2, 8, 59))
    assert not is_open(s, local(2025, 6, 8, 12, 0)), "Sunday"
    assert is_open(s, local(2025, 6, 7, 15, 59)), "Saturday"


def test_is_open_accepts_any_time_zone():
    s = salon()
    # 04:30 UTC is 09:30 in Orenburg.
    assert is_open(s, datetime(2025, 6, 2, 4, 30, tzinfo=UTC))
    assert not is_open(s, datetime(2025, 6, 2, 3, 30, tzinfo=UTC))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        is_open(salon(), datetime(2025, 6, 2, 10, 0))
    with pytest.raises(ValueError):
        add_business_minutes(salon(), datetime(2025, 6, 2, 10, 0), 5)


def test_next_open():
    s = salon()
    now = local(2025, 6, 2, 10, 0)
    assert next_open(s, now) == now
    assert next_open(s, local(2025, 6, 2, 13, 10)) == local(2025, 6, 2, 14, 0)
    assert next_open(s, local(2025, 6, 2, 20, 0)) == local(2025, 6, 3, 9, 0)
    # Saturday evening: Sunday is closed, so Monday morning.
    assert next_open(s, local(2025, 6, 7, 16, 0)) == local(2025, 6, 9, 9, 0)
    assert next_open(s, local(2025, 6, 2, 20, 0)).tzinfo == ORB


def test_add_business_minutes_within_an_interval():
    s = salon()
    assert add_business_minutes(s, local(2025, 6, 2, 9, 0), 30) == local(2025, 6, 2, 9, 30)


def test_add_business_minutes_skips_the_lunch_break_and_the_night():
    s = salon()
    assert add_business_minutes(s, local(2025, 6, 2, 12, 30), 60) == local(2025, 6, 2, 14, 30)
    assert add_business_minutes(s, local(2025, 6, 2, 18, 30), 60) == local(2025, 6, 3, 9, 30)


def test_add_business_minutes_from_closed_time_starts_at_opening():
    s = salon()
    assert add_business_minutes(s, local(2025, 6, 2, 6, 0), 15) == local(2025, 6, 2, 9, 15)
    # Saturday 15:00 + 120 minutes: one hour on Saturday, the rest on Monday.
    assert add_business_minutes(s, local(2025, 6, 7, 15, 0), 120) == local(2025, 6, 9, 10, 0)


def test_a_deadline_that_uses_up_an_interval_is_its_closing_time():
    s = salon()
    assert add_business_minutes(s, local(2025, 6, 2, 18, 0), 60) == local(2025, 6, 2, 19, 0)


def test_zero_and_negative_minutes():
    s = salon()
    start = local(2025, 6, 2, 22, 0)
    assert add_business_minutes(s, start, 0) == start
    with pytest.raises(ValueError):
        add_business_minutes(s, start, -1)


def test_many_weeks_of_minutes():
    s = salon()
    # A full week holds 5 * 9 h + 6 h = 51 open hours.
    week = 51 * 60
    start = local(2025, 6, 2, 9, 0)
    # Ten weeks of open time run out exactly at the tenth Saturday's closing; one minute more is Monday.
    assert add_business_minutes(s, start, 10 * week) == local(2025, 8, 9, 16, 0)
    assert add_business_minutes(s, start, 10 * week + 1) == local(2025, 8, 11, 9, 1)


def test_closed_holiday_is_skipped():
    # Tuesday 3 June closed all day.
    s = salon([(date(2025, 6, 3), True, None, None)])
    assert not is_open(s, local(2025, 6, 3, 10, 0))
    assert next_open(s, local(2025, 6, 2, 20, 0)) == local(2025, 6, 4, 9, 0)
    assert add_business_minutes(s, local(2025, 6, 2, 18, 30), 60) == local(2025, 6, 4, 9, 30)


def test_holiday_with_its_own_hours_replaces_the_weekday():
    # Sunday 8 June open 12:00-14:00 for once; Monday 9 June shortened to 09:00-10:00.
    s = salon([(date(2025, 6, 8), False, time(12), time(14)), (date(2025, 6, 9), False, time(9), time(10))])
    assert is_open(s, local(2025, 6, 8, 12, 30))
    assert not is_open(s, local(2025, 6, 9, 15, 0))
    assert add_business_minutes(s, local(2025, 6, 8, 13, 30), 60) == local(2025, 6, 9, 9, 30)
    assert add_business_minutes(s, local(2025, 6, 9, 9, 30), 60) == local(2025, 6, 10, 9, 30)


def test_without_weekly_hours_the_business_is_always_open():
    s = build_schedule("Asia/Yekaterinburg", [])
    sunday_night = local(2025, 6, 8, 3, 0)
    assert is_open(s, sunday_night)
    assert next_open(s, sunday_night) == sunday_night
    assert add_business_minutes(s, sunday_night, 48 * 60) == sunday_night + timedelta(hours=48)


def test_without_weekly_hours_a_closed_holiday_still_counts():
    s = build_schedule("Asia/Yekaterinburg", [], [(date(2025, 1, 1), True, None, None)])
    assert not is_open(s, local(2025, 1, 1, 12, 0))
    assert add_business_minutes(s, local(2024, 12, 31, 23, 0), 120) == local(2025, 1, 2, 1, 0)


def test_intervals_through_midnight_are_continuous():
    s = build_schedule("UTC", [(0, time(18), END_OF_DAY), (1, time(0), time(2))])
    start = datetime(2025, 6, 2, 23, 0, tzinfo=UTC)
    assert is_open(s, start)
    assert is_open(s, datetime(2025, 6, 3, 0, 0, tzinfo=UTC))
    assert add_business_minutes(s, start, 120) == datetime(2025, 6, 3, 1, 0, tzinfo=UTC)


def test_unknown_time_zone_falls_back_to_utc():
    s = build_schedule("Mars/Olympus", WEEKDAYS_9_TO_18)
    assert is_open(s, datetime(2025, 6, 2, 9, 30, tzinfo=UTC))


# Europe/Bratislava: clocks go 02:00 -> 03:00 on Sunday 30 March 2025 and 03:00 -> 02:00 on 26 October.


def test_dst_spring_forward_day_is_23_hours_long():
    always = build_schedule("Europe/Bratislava", [(d, time(0), END_OF_DAY) for d in range(7)])
    start = local(2025, 3, 30, 0, 0, tz=BTS)
    end = add_business_minutes(always, start, 24 * 60)
    assert end == local(2025, 3, 31, 1, 0, tz=BTS)
    # Subtracting in UTC: Python compares same-zone datetimes by wall clock.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)


def test_dst_spring_forward_interval_loses_an_hour():
    # Sundays 01:00-04:00 hold only two real hours on the day the clocks jump.
    s = build_schedule("Europe/Bratislava", [(6, time(1), time(4))])
    start = local(2025, 3, 30, 1, 0, tz=BTS)
    assert add_business_minutes(s, start, 120) == local(2025, 3, 30, 4, 0, tz=BTS)
    assert add_business_minutes(s, start, 150) == local(2025, 4, 6, 1, 30, tz=BTS)
    assert is_open(s, datetime(2025, 3, 30, 1, 30, tzinfo=UTC))  # 03:30 CEST


def test_dst_opening_inside_the_skipped_hour_opens_at_the_jump():
    s = build_schedule("Europe/Bratislava", [(6, time(2, 30), time(5))])
    assert next_open(s, local(2025, 3, 29, 12, 0, tz=BTS)) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)


def test_dst_fall_back_interval_gains_an_hour():
    s = build_schedule("Europe/Bratislava", [(6, time(1), time(4))])
    start = local(2025, 10, 26, 1, 0, tz=BTS)
    assert add_business_minutes(s, start, 210) == local(2025, 10, 26, 3, 30, tz=BTS)
    assert add_business_minutes(s, start, 240) == local(2025, 10, 26, 4, 0, tz=BTS)
    assert add_business_minutes(s, start, 241) == local(2025, 11, 2, 1, 1, tz=BTS)


def test_dst_working_week_across_the_change():
    s = build_schedule("Europe/Bratislava", WEEKDAYS_9_TO_18)
    friday = local(2025, 3, 28, 17, 0, tz=BTS)
    deadline = add_business_minutes(s, friday, 120)
    assert deadline == local(2025, 3, 31, 10, 0, tz=BTS)
    assert deadline.utcoffset() == timedelta(hours=2)


@pytest.mark.django_db
def test_schedule_for_reads_the_workspace(cast):
    OpeningHours.objects.create(workspace=cast.workspace, weekday=0, opens=time(9), closes=time(18))
    HolidayException.objects.create(workspace=cast.workspace, date=date(2025, 6, 9), closed=True)
    OpeningHours.objects.create(workspace=cast.other, weekday=6, opens=time(9), closes=time(18))
    s = schedule_for(cast.workspace)
    assert s.tz == ORB
    assert s.week[0] and not s.week[6], "another workspace's hours must not leak in"
    assert is_open(cast.workspace, local(2025, 6, 2, 10, 0))
    assert not is_open(cast.workspace, local(2025, 6, 9, 10, 0))
    assert next_open(cast.workspace, local(2025, 6, 2, 19, 0)) == local(2025, 6, 16, 9, 0)


@pytest.mark.django_db
def test_schedule_for_without_a_profile_uses_utc(cast):
    BusinessProfile.objects.filter(workspace=cast.workspace).delete()
    s = schedule_for(cast.workspace)
    assert s.tz == ZoneInfo("UTC")
    assert is_open(s, datetime(2025, 6, 2, 3, 0, tzinfo=UTC))
