"""Small helpers shared by the exporters."""

from decimal import Decimal


def amount(value: Decimal | None) -> str:
    """Money as the bulk tools read it: a plain number with a dot, no currency, blank when unset."""
    return "" if value is None else f"{value:.2f}"


def final_url(ad) -> str:
    return ad.final_url or (ad.ad_group.final_url if ad.ad_group else "")


def groups_with_ads(campaign):
    """(ad group, its keywords, its ads) in order; ads without a group go with the first group."""
    groups = list(campaign.ad_groups.all())
    loose = [ad for ad in campaign.ads.all() if ad.ad_group_id is None]
    for index, group in enumerate(groups):
        ads = list(group.ads.all()) + (loose if index == 0 else [])
        yield group, list(group.keywords.all()), ads
