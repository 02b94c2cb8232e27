"""Demo ads for every demo workspace: a targeting campaign from its first saved segment and a contextual
campaign from its three biggest keyword clusters with landing pages, each with a month of statistics
imported from a platform-like CSV report, so the effectiveness page shows CTR, CPA and ROMI.

Built as the owner through the same use cases as the buttons. Loading again adds nothing: a campaign is
made only while its name is free, and statistics are imported only while the campaign has none.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role
from smmdesk.ads import actions, stats
from smmdesk.ads.models import Campaign, Platform, StatRow
from smmdesk.audience.actions import business_today
from smmdesk.audience.models import Segment
from smmdesk.keywords.models import Cluster, Intent

SEED = 11
DAYS = 30
# The address the demo's ads link to when smmdesk has no public address configured.
LOCAL_URL = "http://localhost:8000"
# The Orenburg demo's orders carry this utm_campaign (smmdesk/audience/demo.py): the VK campaign takes
# it, so its orders are attributed and ROMI shows.
DEMO_UTM = {"demo-orenburg": "vk_target_leninsky"}
# (platform, daily impressions, CTR, cost per click, conversion rate) per kind and currency.
TRAFFIC = {
    ("targeting", "RUB"): (Platform.VK_ADS, 900, 0.009, 14.0, 0.06),
    ("targeting", "EUR"): (Platform.VK_ADS, 700, 0.008, 0.30, 0.05),
    ("contextual", "RUB"): (Platform.YANDEX_DIRECT, 260, 0.055, 24.0, 0.09),
    ("contextual", "EUR"): (Platform.GOOGLE_ADS, 200, 0.05, 0.45, 0.08),
}
HEADERS = ["Date", "Campaign", "Impressions", "Clicks", "Cost", "Conversions"]


def _owner(workspace) -> Membership | None:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).select_related("workspace").first()


def _currency(workspace) -> str:
    profile = getattr(workspace, "profile", None)
    return "EUR" if profile and profile.currency == "EUR" else "RUB"


def _targeting(owner: Membership) -> Campaign | None:
    workspace = owner.workspace
    segment = Segment.objects.filter(workspace=workspace).order_by("pk").first() or _first_segment(owner)
    if segment is None:
        return None
    name = f"VK: {segment.name}"[:120]
    found = Campaign.objects.filter(workspace=workspace, name=name).first()
    if found:
        return found
    budget = "500" if _currency(workspace) == "RUB" else "10"
    campaign = actions.create_targeting(
        owner, {"name": name, "platform": Platform.VK_ADS, "segment": segment.pk, "daily_budget": budget}
    )
    utm = DEMO_UTM.get(workspace.slug)
    if utm and not Campaign.objects.filter(workspace=workspace, utm_campaign=utm).exists():
        Campaign.objects.filter(pk=campaign.pk).update(utm_campaign=utm)
        campaign.refresh_from_db()
    return campaign


def _first_segment(owner: Membership) -> Segment | None:
    """A workspace without orders has no audience demo: its targeting campaign aims at women 25–45 who
    want its first service, in its first district."""
    from smmdesk.audience import actions as audience
    from smmdesk.business.models import Service

    service = Service.objects.filter(workspace=owner.workspace).order_by("pk").first()
    if service is None:
        return None
    profile = getattr(owner.workspace, "profile", None)
    districts = list(getattr(profile, "districts", None) or [])[:1]
    return audience.save_segment(
        owner,
        {
            "name": f"{service.name}, 25–45"[:120],
            "services": [service.pk],
            "gender": "female",
            "age_min": 25,
            "age_max": 45,
            "districts": districts,
        },
    )


def _contextual(owner: Membership) -> Campaign | None:
    workspace = owner.workspace
    platform = TRAFFIC[("contextual", _currency(workspace))][0]
    name = f"{Platform(platform).label}: {workspace.name}"[:120]
    found = Campaign.objects.filter(workspace=workspace, name=name).first()
    if found:
        return found
    clusters = list(
        # Informational clusters ("how to cut hair") bring readers, not bookings: not worth paying for.
        Cluster.objects.filter(workspace=workspace, page__isnull=False)
        .exclude(intent=Intent.INFORMATIONAL)
        .order_by("-volume", "pk")[:3]
    )
    if not clusters:
        return None
    budget = "700" if _currency(workspace) == "RUB" else "15"
    return actions.create_contextual(
        owner,
        {"name": name, "platform": platform, "clusters": [c.pk for c in clusters], "daily_budget": budget},
        base_url=settings.SMMDESK_PUBLIC_URL or LOCAL_URL,
    )


def report_rows(campaign: Campaign, today) -> list[list[str]]:
    """A month of daily figures for the campaign, the same every time (a seeded generator)."""
    _platform, impressions, ctr, cpc, conversion = TRAFFIC[(campaign.kind, _currency(campaign.workspace))]
    rng = random.Random(f"{SEED}-{campaign.kind}")
    found = []
    for back in range(DAYS, 0, -1):
        shown = int(impressions * rng.uniform(0.7, 1.3))
        clicks = max(1, round(shown * ctr * rng.uniform(0.8, 1.2)))
        cost = clicks * cpc * rng.uniform(0.85, 1.15)
        conversions = round(clicks * conversion * rng.uniform(0.5, 1.5))
        day = today - timedelta(days=back)
        found.append(
            [day.isoformat(), campaign.name, str(shown), str(clicks), f"{cost:.2f}", str(conversions)]
        )
    return found


def _import(owner: Membership, campaign: Campaign) -> None:
    if StatRow.objects.filter(campaign=campaign).exists():
        return
    today = business_today(owner.workspace)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{campaign.platform}-report.csv"
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(HEADERS)
            writer.writerows(report_rows(campaign, today))
        stats.import_stats(owner, path, campaign.platform)


def load(workspace) -> list[Campaign]:
    owner = _owner(workspace)
    if owner is None or getattr(workspace, "profile", None) is None:
        return []
    made = [c for c in (_targeting(owner), _contextual(owner)) if c is not None]
    for campaign in made:
        _import(owner, campaign)
    return made
