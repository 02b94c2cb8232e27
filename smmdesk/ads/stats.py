"""Importing the statistics reports of Yandex Direct, Google Ads and VK Ads (CSV or XLSX).

Rules (docs/ads.md repeats them for users):
- the header is found among the first rows (stats_read.py: title lines before it are skipped) and its
  columns recognised by name in en/ru; `mapping` {"field": "header name" or column index} overrides
  or completes it. Fields: date, campaign (required), ad_group, keyword, impressions, clicks, cost,
  conversions (at least one of impressions, clicks, cost is required);
- summary rows ("Итого", "Всего", "Total ...") are skipped: they are not a day of a campaign;
- empty measure cells and Google's "--" are 0; numbers may group thousands ("1 234", "1,234") and
  money may carry a currency sign; counts must be whole and nothing may be negative;
- a bad row is reported as (row number in the file, field, message) and left out; EVERY GOOD ROW IS
  IMPORTED all the same, so fixing the bad rows and importing the file again completes it;
- a row is one (platform, date, campaign, ad group, keyword); rows of the file with the same key (VK
  reports several ads of a group) are added up; the import then REPLACES the stored row with that key
  (update_or_create), so importing the same report twice changes nothing;
- StatRow.campaign is the workspace's campaign whose name, or else whose utm_campaign, equals the
  report's campaign name (case and spaces aside), preferring one on the same platform.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.accounts.roles import allowed
from smmdesk.ads.models import Campaign, Platform, StatRow, StatsImport
from smmdesk.ads.stats_read import StatsRefused, apply_mapping, read_source, read_table
from smmdesk.audience.rows import Bad, cell_text, parse_date, parse_price_text

__all__ = [
    "IMPORT_PLATFORMS",
    "NotAllowed",
    "StatsRefused",
    "check_platform",
    "clean_row",
    "import_file",
    "import_stats",
    "require_manage",
]

IMPORT_PLATFORMS = (Platform.YANDEX_DIRECT, Platform.GOOGLE_ADS, Platform.VK_ADS)
SUMMARY_WORDS = ("итого", "всего", "total")
EMPTY_MEASURES = ("", "-", "--", "—", "n/a")
MAX_COUNT = 2_147_483_647  # PositiveIntegerField
MAX_COST = Decimal("999999999999.99")
MAX_CONVERSIONS = Decimal("9999999999.99")
TEXT_LIMITS = {"campaign": 200, "ad_group": 200, "keyword": 300}
MAX_STORED_ERRORS = 1000
CENT = Decimal("0.01")
_MEASURES = ("impressions", "clicks", "cost", "conversions")


class NotAllowed(StatsRefused):
    def __init__(self, message: str | None = None):
        super().__init__(message or _("Your role may not import ad statistics."), field="membership")


def require_manage(membership: Membership | None) -> None:
    if membership is None or not allowed(membership.role, "ads.manage"):
        raise NotAllowed()


def check_platform(platform: str) -> str:
    if platform not in IMPORT_PLATFORMS:
        raise StatsRefused(
            _("Statistics can be imported from %(list)s.") % {"list": ", ".join(IMPORT_PLATFORMS)},
            field="platform",
        )
    return platform


def _measure(value, field: str):
    if value is None or (isinstance(value, str) and value.strip().casefold() in EMPTY_MEASURES):
        return Decimal(0) if field in ("cost", "conversions") else 0
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        else:
            number = parse_price_text(cell_text(value))  # grouping and currency signs, as for prices
    except (Bad, ArithmeticError):
        raise Bad(_("Not a number.")) from None
    if not number.is_finite():
        raise Bad(_("Not a number."))
    if number < 0:
        raise Bad(_("Cannot be negative."))
    if field in ("cost", "conversions"):
        if number > (MAX_COST if field == "cost" else MAX_CONVERSIONS):
            raise Bad(_("The number is too large."))
        return number.quantize(CENT, rounding=ROUND_HALF_UP)  # as stored, so a re-import compares equal
    if number != number.to_integral_value():
        raise Bad(_("Must be a whole number."))
    if number > MAX_COUNT:
        raise Bad(_("The number is too large."))
    return int(number)


def _date(value, today):
    if isinstance(value, str):
        from datetime import datetime

        text = " ".join(value.split())
        for pattern in ("%b %d, %Y", "%d %b %Y", "%B %d, %Y"):  # Google Ads in English: "Mar 1, 2026"
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
    return parse_date(value, today)


def clean_row(cells: list, mapping: dict[str, int], today) -> tuple[dict | None, list[tuple[str, str]]]:
    """(key and measures, or None for a summary row; [(field, message)])."""

    def cell(field):
        index = mapping.get(field)
        return cells[index] if index is not None and index < len(cells) else None

    first = next((cell_text(value) for value in cells if cell_text(value)), "")
    if first.casefold().startswith(SUMMARY_WORDS):
        return None, []
    out: dict = {}
    errors: list[tuple[str, str]] = []
    try:
        out["date"] = _date(cell("date"), today)
    except Bad as error:
        errors.append(("date", str(error)))
    for field, limit in TEXT_LIMITS.items():
        text = " ".join(cell_text(cell(field)).split())
        if len(text) > limit:
            errors.append((field, _("Longer than %(limit)s characters.") % {"limit": limit}))
        out[field] = text
    if not out["campaign"]:
        errors.append(("campaign", _("The campaign is missing.")))
    for field in _MEASURES:
        try:
            out[field] = _measure(cell(field), field)
        except Bad as error:
            errors.append((field, str(error)))
    return out, errors


def _campaigns(workspace: Workspace, platform: str):
    """report campaign name (folded) -> Campaign: by name first, then by utm_campaign; own platform first."""
    found: dict[str, Campaign] = {}
    campaigns = sorted(Campaign.objects.filter(workspace=workspace), key=lambda c: c.platform != platform)
    for attribute in ("name", "utm_campaign"):
        for campaign in campaigns:
            found.setdefault(_fold(getattr(campaign, attribute)), campaign)
    return found


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def import_stats(
    membership: Membership, upload_or_path, platform: str, mapping: dict | None = None
) -> StatsImport:
    """Import a report as `membership` (ads.manage); raises StatsRefused (NotAllowed) for unusable input."""
    require_manage(membership)
    return import_file(membership.workspace, upload_or_path, platform, mapping, membership=membership)


def import_file(
    workspace: Workspace, source, platform: str, mapping: dict | None = None, *, membership=None
) -> StatsImport:
    """Import a report into the workspace (the CLI's entry, no role to check)."""
    platform = check_platform(platform)
    if mapping is not None and not isinstance(mapping, dict):
        raise StatsRefused(_("The mapping must be an object of field: column."), field="mapping")
    content, file_name = read_source(source)
    headers, rows, recognised = read_table(content)
    columns = apply_mapping(headers, recognised, mapping)
    today = timezone.localdate()
    totals: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(_MEASURES, 0))
    errors: list[dict] = []
    good = 0
    for number, cells in rows:
        out, problems = clean_row(cells, columns, today)
        if out is None:
            continue
        if problems:
            errors.extend({"row": number, "field": field, "message": message} for field, message in problems)
            continue
        good += 1
        sums = totals[(out["date"], out["campaign"], out["ad_group"], out["keyword"])]
        for field in _MEASURES:
            sums[field] += out[field]
    with transaction.atomic():
        job = StatsImport.objects.create(
            workspace=workspace,
            platform=platform,
            file_name=file_name[:255],
            rows=good + len({error["row"] for error in errors}),
            imported=good,
            errors=errors[:MAX_STORED_ERRORS],
            created_by=membership,
        )
        _store(workspace, platform, totals, job)
    return job


def _store(workspace: Workspace, platform: str, totals: dict, job: StatsImport) -> None:
    campaigns = _campaigns(workspace, platform)
    for (day, campaign_name, group, keyword), sums in totals.items():
        campaign = campaigns.get(_fold(campaign_name))
        values = {
            "campaign": campaign,
            "impressions": sums["impressions"],
            "clicks": sums["clicks"],
            "cost": Decimal(sums["cost"]),
            "conversions": Decimal(sums["conversions"]),
        }
        row = StatRow.objects.filter(
            workspace=workspace, platform=platform, date=day, campaign_name=campaign_name,
            ad_group_name=group, keyword=keyword,
        ).first()  # fmt: skip
        if row is None:
            StatRow.objects.create(
                workspace=workspace, platform=platform, date=day, campaign_name=campaign_name,
                ad_group_name=group, keyword=keyword, imported_by=job, **values,
            )  # fmt: skip
            continue
        if any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.imported_by = job
            row.save()
