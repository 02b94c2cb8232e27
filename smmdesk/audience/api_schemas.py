"""The shapes of the audience API (api.py): what comes in and what goes out.

Input fields are optional and loosely typed (a number may come as text, as it would in a file) so that a
missing or malformed value is refused by the use case in the words the pages use: a 422 naming the
field. Money goes out as a number (whole when it is whole); shares are fractions of 1, 4 decimals.
"""

import datetime as dt

from ninja import Schema
from pydantic import Field

MAX_LIMIT = 200
Number = int | float | str | None


class OrderIn(Schema):
    order_id: str | int | None = Field(None, description="The business's own id of the order (unique).")
    date: str | None = Field(None, description='"2026-03-14", "14.03.2026" or "14/03/2026".')
    service: str | None = Field(None, description="A profile service's name or synonym, or the CRM's name.")
    price: Number = Field(None, description='A number; "1 200,50" is read too.')
    client_id: str | int | None = None
    gender: str | None = Field(
        None, description='"female", "male" (or "ж"/"м", "žena"/"muž"); empty: unknown.'
    )
    age: Number = Field(None, description="0 to 120; or give birth_year.")
    birth_year: Number = None
    district: str | None = None
    source: str | None = None
    utm_campaign: str | None = None


class OrderOut(Schema):
    id: int = Field(description="smmdesk's id of the order (the one DELETE takes).")
    order_id: str
    date: dt.date
    service: str = Field(description="The profile service's name when linked, else the name as written.")
    service_id: int | None
    service_name: str = Field(description="The service as the file or the person wrote it.")
    price: float | None
    client_id: str
    gender: str
    age: int | None
    birth_year: int | None
    district: str
    source: str
    utm_campaign: str
    import_job_id: int | None
    created_at: dt.datetime


class OrdersIn(Schema):
    start: dt.date | None = Field(None, description="Orders dated on or after this day.")
    end: dt.date | None = Field(None, description="Orders dated on or before this day.")
    offset: int = Field(0, ge=0, le=10**9)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class OrderPage(Schema):
    count: int
    offset: int
    limit: int
    items: list[OrderOut]


class FieldOut(Schema):
    name: str
    label: str
    required: bool


class RowErrorOut(Schema):
    row: int | None = Field(description="As a spreadsheet numbers it: the header is row 1. None: the file.")
    field: str | None
    value: str = ""
    message: str


class PreviewErrorOut(Schema):
    field: str
    message: str


class PreviewRowOut(Schema):
    row: int
    values: dict[str, str]
    errors: list[PreviewErrorOut]


class JobSummaryOut(Schema):
    id: int
    file_name: str
    file_format: str
    encoding: str
    delimiter: str
    status: str = Field(description='"uploaded" (columns to map), "queued", "running", "done" or "failed".')
    total_rows: int
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    error_count: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class JobOut(JobSummaryOut):
    headers: list[str]
    mapping: dict[str, int] = Field(description="Field name -> the file's column index (from 0).")
    fields: list[FieldOut] = Field(description="The order fields a mapping may name; required ones first.")
    preview: list[PreviewRowOut] = Field(description="While uploaded: the first 10 rows as mapped, checked.")
    errors: list[RowErrorOut] = Field(description="A refused file's bad rows and fields (up to 10,000).")
    unknown_services: dict[str, int] = Field(description="Service names not in the profile, with orders.")


class MappingIn(Schema):
    mapping: dict[str, int | None] | None = Field(
        None, description='Field name -> column index from 0 (null: not in the file), e.g. {"order_id": 0}.'
    )


class ProgressOut(Schema):
    status: str
    processed: int
    total: int
    percent: int


class AudiencePeriodIn(Schema):
    start: dt.date | None = Field(None, description="First day (default: 89 days before `end`).")
    end: dt.date | None = Field(None, description="Last day, included (default: the business's today).")


class PreviousOut(Schema):
    start: dt.date
    end: dt.date
    total_orders: int
    total_revenue: float


class ServiceReportOut(Schema):
    service: str
    service_id: int | None = Field(description="None: a name that is not a profile service.")
    orders: int
    share: float
    revenue: float
    revenue_share: float
    previous_orders: int
    change: float | None = Field(description="(orders − previous) / previous; None when there were none.")
    gender: dict[str, float]
    age_groups: dict[str, float]
    districts: dict[str, float]
    sources: dict[str, float]


class AudienceReportOut(Schema):
    start: dt.date
    end: dt.date
    previous: PreviousOut
    total_orders: int
    total_revenue: float
    clients: int
    services: list[ServiceReportOut]
    gender: dict[str, float]
    age_groups: dict[str, float]
    districts: dict[str, float]
    sources: dict[str, float]


class UnknownServiceOut(Schema):
    name: str
    orders: int


class MapServiceIn(Schema):
    name: str | None = Field(None, description="The service name as the orders write it.")
    service_id: int | None = Field(None, description="The profile service it means.", ge=1, le=2**62)


class MapServiceOut(Schema):
    name: str
    service_id: int
    updated: int = Field(description="Orders now counted as the service.")


class SegmentIn(Schema):
    name: str | None = None
    services: list[int | str] | None = Field(None, description="Profile service ids; empty: any service.")
    gender: str | None = Field(None, description='"female", "male" or "" for anyone.')
    age_min: Number = None
    age_max: Number = None
    districts: list[str] | None = Field(None, description="District names; empty: any district.")


class SizeOut(Schema):
    orders: int
    clients: int
    share: float = Field(description="Of all orders.")
    revenue: float


class TargetingOut(Schema):
    city: str
    districts: list[str]
    gender: str | None
    age_min: int | None
    age_max: int | None
    services: list[str]
    interests: list[str]


class ServiceRefOut(Schema):
    id: int
    name: str


class SegmentOut(Schema):
    id: int
    name: str
    services: list[ServiceRefOut]
    gender: str
    age_min: int | None
    age_max: int | None
    districts: list[str]
    size: SizeOut = Field(description="Over every order recorded.")
    targeting: TargetingOut = Field(description="What the segment asks an ad network for.")
    created_at: dt.datetime


class SegmentSuggestionOut(Schema):
    service: str
    service_id: int
    gender: str
    age_group: str
    district: str | None = Field(description="Where most of the group's orders came from.")
    orders: int
    share: float
    saved: bool = Field(description="A segment with the suggested name exists.")
    segment_data: SegmentIn = Field(description="POST it to …/audience/segments to save it.")
