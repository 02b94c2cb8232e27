"""Business-hours arithmetic: is the business open, when does it open next, when is N open minutes later.

`schedule_for(workspace)` reads the hours once into a `Schedule`; everything else is pure and works on
aware datetimes. Wall-clock intervals are turned into UTC instants day by day, so a day on which the
clocks change is exactly as long as it really is. Without weekly hours the business counts as open
around the clock, but a holiday exception still applies: "closed on 1 January" means closed.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_SECONDS = 24 * 60 * 60
# A closing time of 24:00 cannot be stored in a TimeField; time.max stands for it.
END_OF_DAY = time.max


def seconds_of(value: time) -> int:
    if value == END_OF_DAY:
        return DAY_SECONDS
    return value.hour * 3600 + value.minute * 60 + value.second


@dataclass(frozen=True, order=True)
class Interval:
    """Open from `start` to `end` seconds after local midnight; end may be 86400 (24:00)."""

    start: int
    end: int

    @classmethod
    def of(cls, opens: time, closes: time) -> "Interval":
        return cls(seconds_of(opens), seconds_of(closes))


ALL_DAY = (Interval(0, DAY_SECONDS),)


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    # Seven tuples, Monday first, each sorted and free of overlaps.
    week: tuple[tuple[Interval, ...], ...] = ((),) * 7
    # A date listed here replaces its weekday; an empty tuple means closed all day.
    exceptions: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)

    @property
    def has_hours(self) -> bool:
        return any(self.week)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        if not self.has_hours:
            return ALL_DAY
        return self.week[day.weekday()]


def build_schedule(
    tz_name: str,
    weekly: list[tuple[int, time, time]],
    exceptions: list[tuple[date, bool, time | None, time | None]] = (),
) -> Schedule:
    """A Schedule from plain rows: (weekday, opens, closes) and (date, closed, opens, closes)."""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    days: list[list[Interval]] = [[] for _ in range(7)]
    for weekday, opens, closes in weekly:
        interval = Interval.of(opens, closes)
        # Rows are validated on the way in; a bad one left in the database must not break the SLA.
        if 0 <= weekday <= 6 and interval.end > interval.start:
            days[weekday].append(interval)
    special: dict[date, tuple[Interval, ...]] = {}
    for day, closed, opens, closes in exceptions:
        if closed or opens is None or closes is None:
            special[day] = ()
        else:
            interval = Interval.of(opens, closes)
            special[day] = (interval,) if interval.end > interval.start else ()
    return Schedule(tz=tz, week=tuple(tuple(_merge(d)) for d in days), exceptions=special)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].end, interval.end))
        else:
            merged.append(interval)
    return merged


def schedule_for(workspace) -> Schedule:
    from smmdesk.business.models import BusinessProfile, HolidayException, OpeningHours

    profile = BusinessProfile.objects.filter(workspace=workspace).only("timezone").first()
    weekly = list(OpeningHours.objects.filter(workspace=workspace).values_list("weekday", "opens", "closes"))
    exceptions = list(
        HolidayException.objects.filter(workspace=workspace).values_list("date", "closed", "opens", "closes")
    )
    return build_schedule(profile.timezone if profile else "UTC", weekly, exceptions)


def _schedule(workspace_or_schedule) -> Schedule:
    if isinstance(workspace_or_schedule, Schedule):
        return workspace_or_schedule
    return schedule_for(workspace_or_schedule)


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("business-hours arithmetic needs an aware datetime")


def _instant(schedule: Schedule, day: date, seconds: int) -> datetime:
    """The UTC instant a wall-clock time is reached on `day`.

    A time the clocks skip (02:30 when they jump from 02:00 to 03:00) is reached at the jump; a time
    that happens twice when they go back counts at its first occurrence.
    """
    if seconds >= DAY_SECONDS:
        day, seconds = day + timedelta(days=1), seconds - DAY_SECONDS
    hours, rest = divmod(seconds, 3600)
    wall = datetime.combine(day, time(hours, rest // 60, rest % 60))
    instant = wall.replace(tzinfo=schedule.tz).astimezone(UTC)
    if instant.astimezone(schedule.tz).replace(tzinfo=None) == wall:
        return instant
    # In a gap: search between the readings before and after the jump for the jump itself.
    low = int(wall.replace(tzinfo=schedule.tz, fold=1).astimezone(UTC).timestamp())
    high = int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, schedule.tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def open_periods(schedule: Schedule, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open periods as UTC (start, end) pairs, in order, that end after `since`; adjacent ones joined."""
    _require_aware(since)
    since = since.astimezone(UTC)
    day = since.astimezone(schedule.tz).date() - timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    # Far enough for any real schedule: only dated exceptions can close a week that has hours.
    for _ in range(7 * (len(schedule.exceptions) + 2) + 2):
        for interval in schedule.intervals_on(day):
            start = _instant(schedule, day, interval.start)
            end = _instant(schedule, day, interval.end)
            if end <= start or end <= since:
                continue
            if pending is not None and start <= pending[1]:
                pending = (pending[0], max(pending[1], end))
                continue
            if pending is not None:
                yield pending
            pending = (start, end)
        day += timedelta(days=1)
    if pending is not None:
        yield pending


def is_open(workspace_or_schedule, when: datetime) -> bool:
    schedule = _schedule(workspace_or_schedule)
    _require_aware(when)
    moment = when.astimezone(UTC)
    for start, end in open_periods(schedule, moment):
        return start <= moment < end
    return False


def next_open(workspace_or_schedule, when: datetime) -> datetime:
    """`when` itself if open, else the moment the business next opens (in the business's time zone)."""
    schedule = _schedule(workspace_or_schedule)
    _require_aware(when)
    moment = when.astimezone(UTC)
    for start, _end in open_periods(schedule, moment):
        return max(start, moment).astimezone(schedule.tz)
    raise ValueError("the schedule never opens")


def add_business_minutes(workspace_or_schedule, start: datetime, minutes: float) -> datetime:
    """The moment when `minutes` of open time have passed since `start` (in the business's time zone).

    A deadline that uses up an open period exactly falls on its closing time, not the next opening.
    """
    schedule = _schedule(workspace_or_schedule)
    _require_aware(start)
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    moment = start.astimezone(UTC)
    remaining = timedelta(minutes=minutes)
    if not remaining:
        return moment.astimezone(schedule.tz)
    cursor = moment
    while True:
        advanced = False
        for period_start, period_end in open_periods(schedule, cursor):
            advanced = True
            begin = max(period_start, cursor)
            available = period_end - begin
            if remaining <= available:
                return (begin + remaining).astimezone(schedule.tz)
            remaining -= available
            cursor = period_end
        # open_periods looks a bounded distance ahead; carry on from where it stopped.
        if not advanced:
            raise ValueError("the schedule never opens")
