"""Campaigns written straight into the test database (no actions), for the limits and export tests."""

from decimal import Decimal
from itertools import count

from smmdesk.ads.models import Ad, AdGroup, AdKeyword, Campaign, Kind, MatchType, Platform

_serial = count(1)
URL = "https://example.test/site/salon/strizhka/?utm_source={p}&utm_medium=cpc&utm_campaign=spring"


def campaign(workspace, platform=Platform.GOOGLE_ADS, **fields):
    kind = Kind.CONTEXTUAL if platform in (Platform.GOOGLE_ADS, Platform.YANDEX_DIRECT) else Kind.TARGETING
    n = next(_serial)
    defaults = {
        "name": f"Весна {platform} {n}",
        "kind": kind,
        "platform": platform,
        "utm_campaign": f"spring-{platform}-{n}",
        "city": "Оренбург",
        "daily_budget": Decimal("500.00"),
        "advertiser": "ИП Локонова А. В., ИНН 561000000000",
        "erid": "2VtzqwXyZ1a",
    }
    return Campaign.objects.create(workspace=workspace, **{**defaults, **fields})


def group(campaign, name="Мужские стрижки", negatives=("бесплатно", "своими руками"), position=0):
    return AdGroup.objects.create(
        campaign=campaign,
        name=name,
        final_url=URL.format(p=campaign.platform),
        negative_keywords=list(negatives),
        position=position,
    )


def keyword(ad_group, text, match_type=MatchType.PHRASE, max_cpc=None):
    return AdKeyword.objects.create(ad_group=ad_group, text=text, match_type=match_type, max_cpc=max_cpc)


def ad(campaign, ad_group=None, position=0, **fields):
    if campaign.platform == Platform.GOOGLE_ADS:
        defaults = {
            "headlines": ["Мужская стрижка", "Ленинский район", "Запись онлайн"],
            "descriptions": ["Стрижка за 40 минут рядом с домом.", "Первый визит со скидкой 10 %."],
            "path1": "strizhka",
            "path2": "muzhskaya",
        }
    elif campaign.platform == Platform.YANDEX_DIRECT:
        defaults = {
            "headlines": ["Мужская стрижка в Ленинском районе", "Запись онлайн"],
            "descriptions": ["Стрижка за 40 минут рядом с домом. Первый визит со скидкой."],
            "path1": "strizhka",
        }
    else:
        defaults = {"title": "Стрижка у дома", "text": "Салон «Локон» в Ленинском районе: запись онлайн."}
    return Ad.objects.create(
        campaign=campaign, ad_group=ad_group, position=position, **{**defaults, **fields}
    )
