"""VK Ads: the audience and creative settings of a campaign as a JSON document.

VK Ads (ads.vk.com) publishes no bulk import file: campaigns are made in its web interface or through
its API with an ad account token, which smmdesk does not keep. So this export is the closest documented
thing, a JSON file (UTF-8, no BOM) whose keys follow the fields of VK Ads' campaign and ad group
settings, for the person who enters them by hand or for a script calling the VK Ads API:
- "campaign": name, objective (site visits), daily/total budget with currency, start/end dates;
- "audience": geography (city, districts, radius around the address in km), sex, age from/to,
  interests, as VK Ads' targeting settings name them;
- "ads": per creative the title (≤ 40 characters), text (≤ 220, 90 in short formats), link with UTM
  tags, image file name, and the Russian labelling: "label" «Реклама. <advertiser>», "advertiser" and
  "erid" (the token from the advertising data operator; VK Ads asks for it when the creative is
  registered through an outside operator).
Limits: no bidding strategy, placements, audience lookalikes or pixel events are exported, images are
named but not embedded, and interests are our own words, to be matched to VK Ads' interest list.
"""

import json

from ..limits import ad_label
from ._common import amount, final_url

FILE = ("json", "application/json")
FORMAT = "smmdesk-vk-ads/1"
SEX = {"female": "female", "male": "male"}


def document(campaign) -> dict:
    return {
        "format": FORMAT,
        "campaign": {
            "name": campaign.name,
            "objective": "site_visits",
            "currency": campaign.currency,
            "budget_limit_day": amount(campaign.daily_budget),
            "budget_limit": amount(campaign.monthly_budget),
            "date_start": campaign.starts_on.isoformat() if campaign.starts_on else "",
            "date_end": campaign.ends_on.isoformat() if campaign.ends_on else "",
            "utm_campaign": campaign.utm_campaign,
        },
        "audience": {
            "geo": {
                "city": campaign.city,
                "districts": list(campaign.districts),
                "radius_km": str(campaign.radius_km) if campaign.radius_km is not None else "",
            },
            "sex": SEX.get(campaign.gender, "any"),
            "age_from": campaign.age_min,
            "age_to": campaign.age_max,
            "interests": list(campaign.interests),
        },
        "ads": [
            {
                "title": ad.title,
                "text": ad.text,
                "url": final_url(ad),
                "image": ad.image.file.name.rsplit("/", 1)[-1] if ad.image_id and ad.image.file else "",
                "label": ad_label(campaign),
                "advertiser": campaign.advertiser,
                "erid": campaign.erid,
            }
            for ad in campaign.ads.all()
        ],
    }


def write(campaign) -> bytes:
    return json.dumps(document(campaign), ensure_ascii=False, indent=2).encode("utf-8")
