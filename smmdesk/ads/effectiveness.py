"""How the ads did: the imported statistics against the orders they brought.

Definitions (docs/ads.md repeats them):
- an order is ATTRIBUTED to a campaign when Order.utm_campaign equals the campaign's utm_campaign and
  the order's date is in the period; orders cannot be traced to an ad group or keyword (the site links
  carry only utm_campaign), so below the campaign level only the platform's own conversions count;
- CTR = clicks / impressions; CPC = cost / clicks; CPA = cost / attributed orders, and
  CPA (platform) = cost / the platform's conversions; conversion rate = attributed orders / clicks, and
  the platform's = conversions / clicks; revenue = the attributed orders' prices;
  ROMI = (revenue − cost) / cost. A ratio whose divisor is 0 is None (shown as "—"), not 0 or infinity;
- statistics rows linked to no campaign (stats.py could not match the name) are reported by their
  campaign name with no orders;
- channel comparison: "targeting" and "contextual" are the campaigns of that kind; "organic" is the
  orders whose source or utm_campaign names a social network (SOCIAL_WORDS) and whose utm_campaign is
  no ad campaign's or contest's; "contests" are the contests running in the period: their orders when
  the contest post's link carries a utm_campaign (the post variant's UTM), otherwise no orders can be
  attributed and the comparison shows the entrants (people who took part) instead.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.accounts.roles import Role
from smmdesk.ads.models import Campaign, Kind, StatRow

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
ALERT_DAYS = 7
MEASURES = ("impressions", "clicks", "cost", "conversions")
SOCIAL_WORDS = (
    "vk", "vkontakte", "вконтакте", "вк", "instagram", "insta", "инстаграм", "ig", "telegram", "телеграм",
    "tg", "facebook", "fb", "meta", "ok", "одноклассники", "tiktok", "тикток", "youtube", "dzen", "дзен",
    "social", "smm", "соцсети", "соцсеть",
)  # fmt: skip
_SOCIAL = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, SOCIAL_WORDS)) + r")(?![\w])", re.I)


def _ratio(numerator, denominator, step=RATIO) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(step, rounding=ROUND_HALF_UP)


def metrics(
    impressions=0, clicks=0, cost=Decimal(0), conversions=Decimal(0), orders=None, revenue=None
) -> dict:
    """The figures of one line of the report; orders/revenue None where they cannot be attributed."""
    cost = Decimal(cost or 0)
    return {
        "impressions": impressions or 0,
        "clicks": clicks or 0,
        "cost": cost.quantize(CENT),
        "conversions": Decimal(conversions or 0),
        "orders": orders,
        "revenue": None if revenue is None else Decimal(revenue).quantize(CENT),
        "ctr": _ratio(clicks, impressions),
        "cpc": _ratio(cost, clicks, CENT),
        "cpa": _ratio(cost, orders, CENT) if orders is not None else None,
        "cpa_platform": _ratio(cost, conversions, CENT),
        "conversion_rate": _ratio(orders, clicks) if orders is not None else None,
        "conversion_rate_platform": _ratio(conversions, clicks),
        "romi": _ratio(revenue - cost, cost) if revenue is not None else None,
    }


def _attributed(workspace: Workspace, start: date, end: date) -> dict[str, tuple[int, Decimal]]:
    """utm_campaign -> (orders, revenue) of the period's orders."""
    from smmdesk.audience.models import Order

    rows = (
        Order.objects.filter(workspace=workspace, date__range=(start, end))
        .exclude(utm_campaign="")
        .values("utm_campaign")
        .annotate(orders=Count("pk"), revenue=Sum("price"))
    )
    return {row["utm_campaign"]: (row["orders"], row["revenue"] or Decimal(0)) for row in rows}


def _sum(rows) -> dict:
    return rows.aggregate(**{field: Sum(field) for field in MEASURES})


def _by(rows, *fields) -> list[dict]:
    return list(rows.values(*fields).annotate(**{f: Sum(f) for f in MEASURES}).order_by(*fields))


def report(workspace: Workspace, start: date, end: date) -> dict:
    """The period's figures per campaign, ad group, keyword and platform, and the channel comparison."""
    stats = StatRow.objects.filter(workspace=workspace, date__range=(start, end))
    attributed = _attributed(workspace, start, end)
    campaigns = {c.pk: c for c in Campaign.objects.filter(workspace=workspace)}
    lines = []
    for row in _by(stats, "campaign", "campaign_name"):
        campaign = campaigns.get(row["campaign"])
        orders, revenue = attributed.get(campaign.utm_campaign, (0, Decimal(0))) if campaign else (None, None)
        lines.append({"campaign": campaign, "name": campaign.name if campaign else row["campaign_name"],
                      "platform": campaign.platform if campaign else "",
                      **metrics(*(row[f] for f in MEASURES), orders=orders, revenue=revenue)})  # fmt: skip
    _merge_linked(lines)
    seen = {line["campaign"].pk for line in lines if line["campaign"]}
    for campaign in campaigns.values():  # orders may come in for a campaign with no statistics imported yet
        if campaign.pk not in seen and campaign.utm_campaign in attributed:
            orders, revenue = attributed[campaign.utm_campaign]
            lines.append({"campaign": campaign, "name": campaign.name, "platform": campaign.platform,
                          **metrics(orders=orders, revenue=revenue)})  # fmt: skip
    groups = _detail(stats.exclude(ad_group_name=""), "ad_group_name")
    keywords = _detail(stats.exclude(keyword=""), "ad_group_name", "keyword")
    return {
        "start": start,
        "end": end,
        "campaigns": lines,
        "ad_groups": groups,
        "keywords": keywords,
        "platforms": _platforms(lines, stats),
        "total": _total(lines, stats),
        "channels": channels(workspace, start, end, lines),
    }


def _detail(rows, *fields) -> list[dict]:
    """Lines below the campaign: the platform's own figures only (orders are traced to campaigns)."""
    out = []
    for row in _by(rows, "platform", "campaign_name", *fields):
        line = {"platform": row["platform"], "campaign_name": row["campaign_name"]}
        line["ad_group"] = row["ad_group_name"]
        if "keyword" in fields:
            line["keyword"] = row["keyword"]
        out.append({**line, **metrics(*(row[f] for f in MEASURES))})
    return out


def _merge_linked(lines: list[dict]) -> None:
    """One line per linked campaign even when the reports name it two ways (name and utm_campaign)."""
    merged: dict[int, dict] = {}
    for line in list(lines):
        campaign = line["campaign"]
        if campaign is None:
            continue
        if campaign.pk not in merged:
            merged[campaign.pk] = line
            continue
        first = merged[campaign.pk]
        sums = {f: (first[f] or 0) + (line[f] or 0) for f in MEASURES}
        first.update(metrics(**sums, orders=first["orders"], revenue=first["revenue"]))
        lines.remove(line)


def _platforms(lines: list[dict], stats) -> list[dict]:
    out = []
    for row in _by(stats, "platform"):
        own = [line for line in lines if line["platform"] == row["platform"]]
        orders = sum(line["orders"] or 0 for line in own)
        revenue = sum((line["revenue"] or Decimal(0) for line in own), Decimal(0))
        out.append(
            {
                "platform": row["platform"],
                **metrics(*(row[f] for f in MEASURES), orders=orders, revenue=revenue),
            }
        )
    return out


def _total(lines: list[dict], stats) -> dict:
    sums = _sum(stats)
    orders = sum(line["orders"] or 0 for line in lines)
    revenue = sum((line["revenue"] or Decimal(0) for line in lines), Decimal(0))
    return metrics(*(sums[f] for f in MEASURES), orders=orders, revenue=revenue)


def _contest_utms(workspace: Workspace, start: date, end: date) -> dict:
    """Contest -> its post's utm_campaign ("" when its link has none), for contests running in the period."""
    from smmdesk.contests.models import Contest

    contests = Contest.objects.filter(
        workspace=workspace, opens_at__date__lte=end, closes_at__date__gte=start
    ).select_related("variant")
    return {contest: str(((contest.variant.utm if contest.variant else None) or {}).get("campaign") or "").strip()
            for contest in contests}  # fmt: skip


def channels(workspace: Workspace, start: date, end: date, lines: list[dict]) -> list[dict]:
    """Organic SMM, targeting, contextual and contests side by side (see the module's docstring)."""
    from smmdesk.audience.models import Order
    from smmdesk.contests.models import Entrant

    out = []
    for kind, label in ((Kind.TARGETING, _("Targeting ads")), (Kind.CONTEXTUAL, _("Contextual ads"))):
        own = [line for line in lines if line["campaign"] and line["campaign"].kind == kind]
        sums = {f: sum((line[f] or 0 for line in own), 0) for f in MEASURES}
        out.append({"channel": str(kind), "label": label, "entrants": None, **metrics(
            **sums, orders=sum(line["orders"] or 0 for line in own),
            revenue=sum((line["revenue"] or Decimal(0) for line in own), Decimal(0)))})  # fmt: skip
    contests = _contest_utms(workspace, start, end)
    known = set(Campaign.objects.filter(workspace=workspace).values_list("utm_campaign", flat=True))
    known |= {utm for utm in contests.values() if utm}
    period = Order.objects.filter(workspace=workspace, date__range=(start, end))
    organic = [o for o in period.only("source", "utm_campaign", "price")
               if o.utm_campaign not in known and _SOCIAL.search(f"{o.source} {o.utm_campaign}")]  # fmt: skip
    out.append({"channel": "organic", "label": _("Organic SMM"), "entrants": None, **metrics(
        orders=len(organic), revenue=sum((o.price or Decimal(0) for o in organic), Decimal(0)))})  # fmt: skip
    utms = {utm for utm in contests.values() if utm}
    traced = period.filter(utm_campaign__in=utms).aggregate(n=Count("pk"), revenue=Sum("price"))
    untraced = [contest for contest, utm in contests.items() if not utm]
    entrants = Entrant.objects.filter(contest__in=untraced).count() if untraced else None
    out.append({"channel": "contests", "label": _("Contests"), "entrants": entrants, "contests": len(contests),
                **metrics(orders=traced["n"] if utms else None,
                          revenue=(traced["revenue"] or Decimal(0)) if utms else None)})  # fmt: skip
    return out


# --- CPA alerts ----------------------------------------------------------------------------------------


def cpa_alerts(workspace: Workspace, today: date | None = None) -> list[dict]:
    """Campaigns with a target CPA whose CPA over the last ALERT_DAYS days (today included) is above it;
    spending more than the target with no order at all counts as above it."""
    today = today or timezone.localdate()
    start = today - timedelta(days=ALERT_DAYS - 1)
    attributed = _attributed(workspace, start, today)
    out = []
    for campaign in Campaign.objects.filter(workspace=workspace, target_cpa__isnull=False).order_by("pk"):
        cost = StatRow.objects.filter(campaign=campaign, date__range=(start, today)).aggregate(c=Sum("cost"))[
            "c"
        ]
        cost = Decimal(cost or 0)
        orders, _revenue = attributed.get(campaign.utm_campaign, (0, Decimal(0)))
        cpa = _ratio(cost, orders, CENT)
        over = cost > campaign.target_cpa if cpa is None else cpa > campaign.target_cpa
        if cost and over:
            out.append({"campaign": campaign, "cost": cost.quantize(CENT), "orders": orders, "cpa": cpa,
                        "target_cpa": campaign.target_cpa, "start": start, "end": today})  # fmt: skip
    return out


def notify_cpa_alerts(workspace: Workspace, today: date | None = None) -> int:
    """Tell the workspace's owners about each alert, once per campaign and ISO week; the new notices' count."""
    from smmdesk.inbox.notify import notify

    owners = list(Membership.objects.filter(workspace=workspace, role=Role.OWNER))
    sent = 0
    for alert in cpa_alerts(workspace, today):
        campaign = alert["campaign"]
        year, week, _day = alert["end"].isocalendar()

        values = {
            "name": campaign.name,
            "cost": alert["cost"],
            "cpa": alert["cpa"],
            "currency": campaign.currency,
            "target": alert["target_cpa"],
        }

        def text(values=values):
            if values["cpa"] is None:
                message = _(
                    "Ads: %(name)s spent %(cost)s %(currency)s in 7 days with no order (target %(target)s)."
                )
            else:
                message = _(
                    "Ads: %(name)s cost %(cpa)s %(currency)s per order over 7 days, over the target %(target)s."
                )
            return message % values

        sent += len(notify(owners, None, "ads_cpa", text, f"ads-cpa:{campaign.pk}:{year}-W{week:02d}"))
    return sent
