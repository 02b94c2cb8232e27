"""The shapes of the keywords API (api.py). Input fields are optional and loosely typed so that a missing
or malformed value is refused by the use case, in the pages' words: a 422 naming the field."""

import datetime as dt

from ninja import Schema
from pydantic import Field

MAX_LIMIT = 500
Ids = list[int | str] | None


class QueriesIn(Schema):
    q: str | None = Field(None, description="Text the query contains (any case).")
    kind: str | None = Field(None, description='"direct" or "indirect".')
    intent: str | None = Field(None, description='"commercial", "informational", "navigational", "local".')
    language: str | None = Field(None, description='"ru", "sk" or "en".')
    cluster: str | None = Field(None, description='A cluster id, or "none" for queries in no cluster.')
    excluded: str | None = Field(None, description='"yes": only excluded by negatives; "no": only kept.')
    min_volume: int | None = Field(None, ge=0, le=10**9)
    offset: int = Field(0, ge=0, le=10**9)
    limit: int = Field(100, ge=1, le=MAX_LIMIT)


class KeywordOut(Schema):
    id: int
    query: str
    normalized: str = Field(description="The sorted lemma set: two queries with the same one are one query.")
    language: str
    kind: str
    intent: str
    source: str = Field(description='"generated", "imported" or "manual".')
    volume: int | None
    service_id: int | None
    cluster_id: int | None
    excluded: bool = Field(description="Contains a negative keyword: never put in a cluster.")
    created_at: dt.datetime


class KeywordPage(Schema):
    count: int
    offset: int
    limit: int
    items: list[KeywordOut]


class QueryIn(Schema):
    query: str | None = None
    language: str | None = Field(None, description='"ru", "sk" or "en".')


class GenerateOut(Schema):
    candidates: int
    created: int
    unique: int
    excluded: int


class ClusterOut(Schema):
    id: int
    name: str
    language: str
    service_id: int | None
    main_id: int | None
    main: str | None = Field(description="The main query's text.")
    volume: int = Field(description="The members' volumes summed.")
    intent: str
    edited: bool = Field(description="Changed by a person: re-clustering keeps it.")
    size: int
    page_id: int | None = Field(description="The landing page built from it, if any.")
    created_at: dt.datetime


class ClusterDetailOut(ClusterOut):
    keywords: list[KeywordOut]


class MergeIn(Schema):
    clusters: Ids = Field(None, description="Ids of two or more clusters.")


class KeywordsIn(Schema):
    keywords: Ids = Field(None, description="Ids of queries of this cluster.")
    name: str | None = Field(None, description="Split: the new cluster's name (default: its main query).")


class RenameIn(Schema):
    name: str | None = None


class MainIn(Schema):
    keyword_id: int | str | None = Field(None, description="A member query's id.")


class VolumeErrorOut(Schema):
    row: int | None
    field: str
    message: str


class VolumesOut(Schema):
    rows: int
    matched: int
    added: int
    errors: list[VolumeErrorOut]


class NegativeIn(Schema):
    phrase: str | None = None


class NegativeOut(Schema):
    id: int
    phrase: str


class LandmarkIn(Schema):
    name: str | None = None
    language: str | None = Field(None, description='"ru", "sk" or "en".')


class LandmarkOut(Schema):
    id: int
    name: str
    language: str
