"""Rows for the planner, stats and effectiveness tests, written straight into the test database."""

from datetime import date
from decimal import Decimal

from smmdesk.accounts.models import Membership
from smmdesk.ads.models import AdGroup, Campaign, Kind, Platform, StatRow
from smmdesk.audience.models import Order
from smmdesk.business.models import Service
from smmdesk.keywords.models import Cluster


def member(cast, role="owner"):
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])


def campaign(workspace, platform=Platform.YANDEX_DIRECT, **fields):
    search = platform in (Platform.YANDEX_DIRECT, Platform.GOOGLE_ADS)
    values = {
        "name": f"Весна {platform}",
        "kind": Kind.CONTEXTUAL if search else Kind.TARGETING,
        "platform": platform,
        "utm_campaign": f"spring-{platform}",
        **fields,
    }
    return Campaign.objects.create(workspace=workspace, **values)


def service(workspace, name, price):
    return Service.objects.create(workspace=workspace, name=name, price=Decimal(price))


def cluster_group(campaign, name, volume, service=None):
    cluster = Cluster.objects.create(
        workspace=campaign.workspace, name=name, language="ru", volume=volume, service=service
    )
    return AdGroup.objects.create(campaign=campaign, name=name, cluster=cluster)


_orders = iter(range(1, 10**6))


def order(workspace, day, price, utm="", source="", service=None):
    return Order.objects.create(
        workspace=workspace,
        order_id=f"o{next(_orders)}",
        date=day,
        service=service,
        service_name=service.name if service else "Стрижка",
        price=None if price is None else Decimal(price),
        utm_campaign=utm,
        source=source,
    )


def stat(campaign, day, impressions, clicks, cost, conversions=0, group="", keyword="", name=None):
    return StatRow.objects.create(
        workspace=campaign.workspace,
        platform=campaign.platform,
        campaign=campaign,
        date=day if isinstance(day, date) else date.fromisoformat(day),
        campaign_name=name or campaign.name,
        ad_group_name=group,
        keyword=keyword,
        impressions=impressions,
        clicks=clicks,
        cost=Decimal(cost),
        conversions=Decimal(conversions),
    )
