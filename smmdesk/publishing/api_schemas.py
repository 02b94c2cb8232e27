"""The shapes of publishing's API (api.py): what comes in and what goes out.

Input fields are optional so that a missing one is refused by the use case in the words the pages use,
and an id of another workspace is 404 whatever the body says.
"""

import datetime as dt

from ninja import Schema
from pydantic import Field

MAX_LIMIT = 100
ID = {"ge": 1, "le": 2**62}


class VariantIn(Schema):
    channel: int | None = Field(None, description="The channel's id; one variant per channel.")
    text: str = ""
    media: list[int] = Field(default_factory=list, description="Media library asset ids.")
    link: str = ""
    utm: dict[str, str] = Field(default_factory=dict, description="source, medium, campaign, content, term")
    first_comment: str = ""
    hashtags: list[str] = Field(default_factory=list)


class PostIn(Schema):
    title: str | None = None
    campaign: int | str | None = Field(None, description="A campaign's id or name, or null for none.")
    new_campaign: str | None = Field(None, description="A campaign to create and use.")
    scheduled_at: dt.datetime | None = Field(
        None, description="When to publish; without a zone, the business's wall-clock time."
    )
    recurrence: str | None = Field(None, description='"", "daily", "weekly" or "monthly".')
    recurrence_until: dt.date | None = None
    variants: list[VariantIn] | None = Field(
        None, description="When sent, the post's variants become these (a channel left out is removed)."
    )


class RejectIn(Schema):
    comment: str | None = None


class ScheduleIn(Schema):
    scheduled_at: dt.datetime | None = None


class RetryIn(Schema):
    confirmed_absent: bool = False


class PostsIn(Schema):
    state: str = ""
    channel: int | None = Field(None, **ID)
    campaign: int | None = Field(None, **ID)
    start: dt.date | None = Field(None, description="Planned on or after this day (business time zone).")
    end: dt.date | None = Field(None, description="Planned on or before this day.")
    q: str = Field("", max_length=200, description="Words in the internal name or a variant's text.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


class CalendarIn(Schema):
    start: dt.date | None = Field(None, description="First day, business time zone; default today.")
    end: dt.date | None = Field(None, description="Last day, included; at most 100 days after start.")
    state: str = ""
    channel: int | None = Field(None, **ID)
    campaign: int | None = Field(None, **ID)


class PerformancePeriodIn(Schema):
    start: dt.date | None = Field(None, description="First day (business time zone); default 30 days ago.")
    end: dt.date | None = Field(None, description="Last day, included; default today.")
    channel: int | None = Field(None, **ID)
    campaign: int | None = Field(None, **ID)


class ImportIn(Schema):
    csv: str | None = Field(None, max_length=1024 * 1024, description="The CSV file's text (at most 1 MB).")
    confirm: str | None = Field(None, max_length=64, description="The preview's digest.")
    skip_bad: bool = Field(False, description="Create the good rows and leave out those with errors.")
    as_drafts: bool = Field(False, description="Create every row as a draft, even where you may schedule.")


class VariantOut(Schema):
    id: int
    channel_id: int
    channel: str
    text: str
    media: list[int]
    link: str
    link_with_utm: str
    utm: dict
    first_comment: str
    hashtags: list[str]
    state: str
    occurrence: dt.datetime | None
    external_id: str
    url: str
    error: str
    attempts: int
    published_at: dt.datetime | None
    figures: dict = Field(description="reach, likes, comments, shares, engagement, rate once measured.")


class PostOut(Schema):
    id: int
    title: str
    headline: str = Field(description="The title, or the first words of the text.")
    state: str
    campaign_id: int | None
    campaign: str | None
    scheduled_at: dt.datetime | None
    recurrence: str
    recurrence_until: dt.date | None
    series_id: int | None
    created_by_id: int | None
    approved_by_id: int | None
    approved_at: dt.datetime | None
    review_comment: str
    created_at: dt.datetime
    updated_at: dt.datetime
    variants: list[VariantOut]
    allowed_actions: list[str] = Field(description="What you may do to the post now.")


class PostEventOut(Schema):
    id: int
    action: str
    actor_id: int | None
    detail: dict
    created_at: dt.datetime


class PostDetailOut(PostOut):
    events: list[PostEventOut]


class PostPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PostOut]


class CalendarChannel(Schema):
    id: int
    name: str
    state: str


class CalendarEntry(Schema):
    post_id: int
    headline: str
    state: str
    campaign_id: int | None
    channels: list[CalendarChannel]
    recurrence: str
    at: dt.datetime
    local: dt.datetime = Field(description="`at` on the business's wall clock.")
    repeat: bool = Field(description="A planned repeat of a recurring post, not yet a post of its own.")


class MediaOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    original_name: str
    created_at: dt.datetime
    url: str
    thumbnail_url: str


class SlotOut(Schema):
    weekday: int = Field(description="0 = Monday.")
    hour: int = Field(description="0-23, business time zone.")
    score: float | None
    posts: int
    next_at: dt.datetime


class BestTimesOut(Schema):
    channel_id: int
    channel: str
    source: str = Field(description='"history" (measured) or "default" (too little data yet).')
    measure: str = Field(description='"rate", "engagement", or "" for defaults.')
    posts: int
    mean: float | None
    slots: list[SlotOut]


class FiguresOut(Schema):
    reach: float | None = Field(description="null where the network reports no reach.")
    likes: float
    comments: float
    shares: float
    engagement: float = Field(description="likes + comments + shares")
    rate: float | None = Field(description="engagement / reach, 0..1; null without a reach.")


class PerformanceRow(FiguresOut):
    variant_id: int
    post_id: int
    headline: str
    channel_id: int
    channel: str
    published_at: dt.datetime
    url: str
    measured: bool


class PerformanceTotals(FiguresOut):
    """Sums over the period; `rate` pooled over the variants with a reach."""

    variants: int
    measured: int


class PerformanceDay(Schema):
    day: dt.date
    posts: int
    reach: float
    engagement: float


class PerformanceOut(Schema):
    start: dt.datetime
    end: dt.datetime
    rows: list[PerformanceRow]
    totals: PerformanceTotals
    top: list[PerformanceRow]
    daily: list[PerformanceDay]


class PlanError(Schema):
    row: int = Field(description="The spreadsheet's row (the header is 1); 0 for the whole file.")
    column: str
    message: str


class PlanRowOut(Schema):
    row: int
    ok: bool
    at: dt.datetime | None
    channels: list[str]
    text: str
    media_url: str


class PlanOut(Schema):
    digest: str
    zone: str
    good: int
    bad: int
    errors: list[PlanError]
    rows: list[PlanRowOut]


class ImportDone(Schema):
    created: int
    scheduled: int
    drafts: int
    skipped_rows: list[int]
    post_ids: list[int]
