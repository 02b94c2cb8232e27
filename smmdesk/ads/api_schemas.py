"""The shapes of the ads API (api.py): what comes in and what goes out.

Input fields are optional so that a missing one is refused by the use case in the words the pages use;
an id of another workspace is a 404 (in the path) or a 422 naming the field (in the body).
"""

import datetime as dt

from ninja import Schema
from pydantic import Field


class CampaignIn(Schema):
    kind: str | None = Field(
        None, description='"targeting" (from a segment) or "contextual" (from clusters).'
    )
    name: str | None = None
    platform: str | None = Field(
        None, description="targeting: vk, telegram, meta; contextual: yandex, google"
    )
    segment: int | None = Field(None, description="Targeting: the saved audience segment's id.")
    post: int | None = Field(None, description="Targeting: an approved or published post for the creative.")
    clusters: list[int] | None = Field(None, description="Contextual: keyword cluster ids, each with a page.")
    daily_budget: float | str | None = None
    monthly_budget: float | str | None = None
    target_cpa: float | str | None = None
    radius_km: float | str | None = None
    title: str | None = None
    text: str | None = None
    erid: str | None = None
    advertiser: str | None = None


class CampaignUpdateIn(Schema):
    """Only the fields sent are changed."""

    name: str | None = None
    daily_budget: float | str | None = None
    monthly_budget: float | str | None = None
    target_cpa: float | str | None = None
    assumptions: dict | None = Field(None, description="Planner overrides: ctr, cpc, click_to_lead, ...")
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    status: str | None = Field(None, description="draft, ready, running, ended")
    erid: str | None = None
    advertiser: str | None = None


class SitelinkIO(Schema):
    text: str = ""
    url: str = ""
    description: str = ""
    description2: str = Field("", description="Google Ads' second description line")


class AdUpdateIn(Schema):
    """Only the fields sent are changed; contextual texts must fit the platform's limits."""

    headlines: list[str] | None = None
    descriptions: list[str] | None = None
    path1: str | None = None
    path2: str | None = None
    sitelinks: list[SitelinkIO] | None = None
    title: str | None = None
    text: str | None = None
    final_url: str | None = None


class AdOut(Schema):
    id: int
    ad_group_id: int | None
    headlines: list[str]
    descriptions: list[str]
    path1: str
    path2: str
    sitelinks: list[SitelinkIO]
    title: str
    text: str
    image_id: int | None
    post_id: int | None
    final_url: str


class AdKeywordOut(Schema):
    text: str
    match_type: str
    max_cpc: float | None


class AdGroupOut(Schema):
    id: int
    name: str
    cluster_id: int | None
    final_url: str
    negative_keywords: list[str]
    keywords: list[AdKeywordOut]


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    platform: str
    status: str
    segment_id: int | None
    city: str
    districts: list[str]
    radius_km: float | None
    gender: str
    age_min: int | None
    age_max: int | None
    interests: list[str]
    currency: str
    daily_budget: float | None
    monthly_budget: float | None
    assumptions: dict
    target_cpa: float | None
    starts_on: dt.date | None
    ends_on: dt.date | None
    utm_campaign: str
    erid: str
    advertiser: str
    created_at: dt.datetime


class CampaignDetailOut(CampaignOut):
    ad_groups: list[AdGroupOut]
    ads: list[AdOut]


class ProblemOut(Schema):
    field: str
    message: str
    severity: str
    item: str


class PlanIn(Schema):
    daily_budget: float | str | None = None
    monthly_budget: float | str | None = None
    ctr: float | str | None = None
    cpc: float | str | None = None
    click_to_lead: float | str | None = None
    lead_to_order: float | str | None = None
    average_order_value: float | str | None = None


class WhatIfIn(Schema):
    budgets: list[float] = Field(
        default_factory=list, max_length=20, description="Monthly budgets to compare."
    )


class StatsImportOut(Schema):
    id: int
    platform: str
    file_name: str
    rows: int
    imported: int
    errors: list[dict]
    created_at: dt.datetime


class AdsPeriodIn(Schema):
    start: dt.date | None = None
    end: dt.date | None = None
