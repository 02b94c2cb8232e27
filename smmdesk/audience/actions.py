"""Audience use cases for the pages, the API, the CLI and the dashboard: quick entry of orders, the
audience report and its exports, segments, "who to target" suggestions and the targeting hook for ads.

Writes check the member's right (audience.manage) and that the row belongs to the member's workspace,
validate everything before touching the database, and refuse with InvalidInput listing every bad field
as (field, message). Reading takes a workspace: the caller (a view behind workspace_view, the CLI) has
already decided who may read it. Imports live in imports.py.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import allowed
from smmdesk.audience import exports, rows, segments
from smmdesk.audience import report as reports
from smmdesk.audience.models import Order, Segment
from smmdesk.audience.segments import Targeting
from smmdesk.publishing.scheduling import workspace_zone

__all__ = ["AudienceError", "InvalidInput", "NotAllowed", "Targeting"]

MANAGE = "audience.manage"
HEADLINE_DAYS = 30


class AudienceError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(AudienceError):
    """Every problem with the submitted data, as (field, message) pairs; `message` and `field` are the
    first one's."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = [(field, str(message)) for field, message in errors]
        field, message = self.errors[0]
        super().__init__(message, field)


class NotAllowed(AudienceError):
    """The member's role may not do this, or the row belongs to another workspace."""


def _require(membership: Membership | None, row=None) -> None:
    if membership is None or not allowed(membership.role, MANAGE):
        raise NotAllowed(_("Your role may not change orders or segments."))
    if row is not None and row.workspace_id != membership.workspace_id:
        raise NotAllowed(_("This belongs to another workspace."))


def business_today(workspace) -> date:
    return timezone.localdate(timezone=workspace_zone(workspace))


# --- quick entry -------------------------------------------------------------------------------------


def add_order(membership: Membership, data: dict) -> Order:
    """One order typed in by hand, checked exactly as an imported row is (rows.clean_order); a second
    order with the same id is refused on "order_id" (re-importing a file is how orders get updated)."""
    _require(membership)
    workspace = membership.workspace
    fields, errors = rows.clean_order(
        dict(data), today=business_today(workspace), services=rows.ServiceIndex.for_workspace(workspace)
    )
    if errors:
        raise InvalidInput(errors)
    duplicate = [("order_id", _("An order with this id is already recorded."))]
    if Order.objects.filter(workspace=workspace, order_id=fields["order_id"]).exists():
        raise InvalidInput(duplicate)
    try:
        with transaction.atomic():
            return Order.objects.create(workspace=workspace, entered_by=membership, **fields)
    except IntegrityError:
        # Someone saved the same id between the check and the insert.
        raise InvalidInput(duplicate)


def delete_order(membership: Membership, order: Order) -> None:
    _require(membership, order)
    Order.objects.filter(pk=order.pk, workspace_id=membership.workspace_id).delete()


# --- the report ----------------------------------------------------------------------------------------


def report(workspace, start: date, end: date) -> dict:
    """The audience report for start..end, both days included:

    {"start", "end", "previous": {"start", "end", "total_orders", "total_revenue"},
     "total_orders": int, "total_revenue": Decimal, "clients": int,
     "services": [{"service", "service_id" (None: a name not in the profile), "orders", "share", "revenue",
        "revenue_share", "previous_orders", "change" (None: no orders before), "gender": {"female", "male",
        "unknown"}, "age_groups": {"<18", "18-24", "25-34", "35-44", "45-54", "55+", "unknown"},
        "districts": {name: share}, "sources": {name: share}}, ...] biggest first,
     "gender", "age_groups", "districts", "sources": the same for all orders}

    Shares are fractions of 1 rounded to 4 places; see report.py for the rules."""
    if start > end:
        raise AudienceError(_("The last day cannot be before the first day."), "end")
    try:
        reports.previous_period(start, end)
    except OverflowError:
        # The comparison period would start before year 1.
        raise AudienceError(_("Choose a later first day."), "start")
    return reports.build(workspace, start, end)


def report_period(workspace, start: date | None, end: date | None) -> tuple[date, date]:
    """The period the CLI means: a missing bound reaches to the first or last order."""
    if start is not None and end is not None and start > end:
        raise AudienceError(_("The last day cannot be before the first day."), "end")
    return reports.resolve_period(workspace, start, end, business_today(workspace))


def report_json(workspace, start: date | None, end: date | None) -> dict:
    """{"total_orders", "services": [{"service", "orders", "share", "revenue" (a number), "gender",
    "age_groups", "districts"}]}: the CLI's shape; no dates means every order."""
    return reports.as_json(report(workspace, *report_period(workspace, start, end)))


def export_csv(data: dict) -> str:
    return exports.export_csv(data)


def export_xlsx(data: dict) -> bytes:
    return exports.export_xlsx(data)


def headline(workspace, today: date | None = None) -> dict:
    """The dashboard's audience line over the last 30 days (today included): orders and those of the 30
    days before, revenue, the biggest service with its share, and the most common known gender and age
    group (None when no order says)."""
    today = today or business_today(workspace)
    data = reports.build(workspace, today - timedelta(days=HEADLINE_DAYS - 1), today)
    top = data["services"][0] if data["services"] else None
    return {
        "orders_30d": data["total_orders"],
        "orders_prev_30d": data["previous"]["total_orders"],
        "revenue_30d": data["total_revenue"],
        "top_service": top["service"] if top else None,
        "top_share": top["share"] if top else None,
        "top_gender": _most_common(data["gender"]),
        "top_age_group": _most_common(data["age_groups"]),
    }


def _most_common(shares: dict[str, float]) -> str | None:
    known = [(value, key) for key, value in shares.items() if key != reports.UNKNOWN and value > 0]
    if not known:
        return None
    # Ties go to the first key in the table's order (female before male, younger before older).
    best = max(value for value, _key in known)
    return next(key for value, key in known if value == best)


# --- segments ------------------------------------------------------------------------------------------


def save_segment(membership: Membership, data: dict, segment: Segment | None = None) -> Segment:
    """Create a segment, or change `segment`: {"name", "services": [ids], "gender" ("", "female",
    "male"), "age_min", "age_max", "districts": [names]}; empty parts mean "any"."""
    _require(membership, segment)
    workspace = membership.workspace
    fields, errors = segments.clean(workspace, data, segment)
    if errors:
        raise InvalidInput(errors)
    services = fields.pop("services")
    try:
        with transaction.atomic():
            if segment is None:
                segment = Segment.objects.create(workspace=workspace, created_by=membership, **fields)
            else:
                for name, value in fields.items():
                    setattr(segment, name, value)
                segment.save(update_fields=list(fields))
            segment.services.set(services)
    except IntegrityError:
        raise InvalidInput([("name", _("There is already a segment with this name."))])
    return segment


def delete_segment(membership: Membership, segment: Segment) -> None:
    _require(membership, segment)
    Segment.objects.filter(pk=segment.pk, workspace_id=membership.workspace_id).delete()


def segment_size(segment: Segment, start: date | None = None, end: date | None = None) -> dict:
    """{"orders", "clients", "share" (of all orders in the period), "revenue"}; no dates: every order."""
    return segments.size(segment, start, end)


def suggestions(workspace, limit: int = 5, today: date | None = None) -> list[dict]:
    """ "Who to target": the biggest service × gender × age-group cells of the last 90 days, each
    {"service", "service_id", "gender", "age_group", "district", "orders", "share", "saved",
    "segment_data"} where segment_data is what save_segment accepts."""
    return segments.suggestions(workspace, today or business_today(workspace), limit)


def targeting_for(segment: Segment) -> Targeting:
    """THE ADS HOOK: what a segment asks an ad network for (see segments.Targeting)."""
    return segments.targeting_for(segment)
