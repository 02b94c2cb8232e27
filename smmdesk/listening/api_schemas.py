"""The shapes of listening's API (api.py): what comes in and what goes out.

Input fields are optional so that a missing one is refused by the use case in the words the pages use
(a 422 naming the field), and an id of another workspace is a 404 whatever the body says.
"""

import datetime as dt

from ninja import Schema
from pydantic import Field

MAX_LIMIT = 100
ID = {"ge": 1, "le": 2**62}


class TermIn(Schema):
    kind: str | None = Field(None, description='"brand", "competitor", "product" or "hashtag".')
    phrase: str | None = Field(None, description="As people write it; inflected forms match too.")
    exclusions: list[str] | str | None = Field(
        None, description="Phrases that make a match not count: a list, or one per line."
    )
    languages: list[str] | str | None = Field(None, description='Language codes ("ru", "en"); empty: any.')
    active: bool | None = None


class TermOut(Schema):
    id: int
    kind: str
    phrase: str
    exclusions: list[str]
    languages: list[str]
    active: bool
    created_at: dt.datetime


class SourceIn(Schema):
    channel: int | None = Field(None, description="The channel's id (see GET …/listening/source-choices).")
    interval_minutes: int | None = Field(None, description="Minutes between polls, 5 to 1440.")


class SourceUpdateIn(Schema):
    interval_minutes: int | None = Field(None, description="Minutes between polls, 5 to 1440.")
    active: bool | None = None


class SourceOut(Schema):
    id: int
    channel_id: int
    channel: str
    kind: str
    interval_minutes: int
    active: bool
    health: str = Field(description='"new", "ok", "failing" or "paused".')
    next_poll_at: dt.datetime | None
    last_polled_at: dt.datetime | None
    last_ok_at: dt.datetime | None
    failures: int
    last_error: str
    found_total: int
    created_at: dt.datetime


class SourceChoiceOut(Schema):
    channel_id: int
    channel: str
    kind: str = Field(description="The kind of source the channel would become.")


class MentionsIn(Schema):
    sentiment: str = Field("", description='"negative", "neutral", "positive" or "" for any.')
    term: int | None = Field(None, description="Only mentions matching this tracked term.", **ID)
    status: str = Field("", description='"new", "handled", "in_inbox" or "" for any.')
    source: int | None = Field(None, description="Only mentions found by this source.", **ID)
    q: str = Field("", max_length=200, description="Words in the mention's text or author.")
    before: int | None = Field(
        None, description="Mentions older than this one (the previous page's next_before).", **ID
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class MentionOut(Schema):
    id: int
    channel_id: int | None
    channel: str
    source_id: int | None
    external_id: str
    url: str
    author_name: str
    author_handle: str
    author_url: str
    text: str
    language: str
    sentiment: str
    sentiment_score: float | None
    flags: list[str]
    reach: int | None
    hashtags: list[str]
    terms: list[str]
    published_at: dt.datetime
    fetched_at: dt.datetime
    similar: int = Field(description="How many near-duplicates and reposts were folded into this one.")
    status: str
    handled_at: dt.datetime | None
    conversation_id: int | None


class MentionPage(Schema):
    items: list[MentionOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the end."
    )


class TrendsIn(Schema):
    status: str = Field("new", description='"new", "dismissed" or "drafted".')


class CountOut(Schema):
    at: dt.datetime
    count: int


class TrendOut(Schema):
    id: int
    kind: str
    key: str
    term_id: int | None
    emerging: bool
    score: float
    started_at: dt.datetime
    detected_at: dt.datetime
    last_seen_at: dt.datetime
    bucket_minutes: int
    counts: list[CountOut]
    example_ids: list[int]
    status: str
    post_id: int | None


class AlertOut(Schema):
    id: int
    kind: str
    key: str
    mention_id: int | None
    text: str
    observed: int
    expected: float
    created_at: dt.datetime


class OverviewOut(Schema):
    mentions_24h: int
    negative_24h: int
    sources_failing: int
    new_trends: int
