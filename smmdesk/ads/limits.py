"""Each ad platform's text limits, and `check(campaign)` that lists what breaks them.

Facts from the platforms' published help (characters, counted as Python counts them):
- Google Ads responsive search ads: 3–15 headlines of at most 30 characters, 2–4 descriptions of at most
  90, display paths of at most 15 each; keywords at most 80 characters and 10 words; sitelink text at
  most 25, sitelink descriptions at most 35.
- Yandex Direct text-and-image ads: title 1 at most 56, title 2 at most 30, text at most 81, display
  link at most 20; a keyword at most 7 words; up to 8 sitelinks, their text at most 30 and description
  at most 60. (Direct counts narrow punctuation separately; we count every character, which is stricter.)
- VK Ads: title at most 40; text at most 220, and formats with a short description cut it at 90
  (a warning).
- Telegram Ads: the ad text at most 160.
- Meta: primary text of 125 and a headline of 40 are what shows without truncation (warnings only).
- Russian ad labelling: creatives on VK Ads and Telegram Ads carry «Реклама» and the advertiser, and the
  ERID token from the advertising data operator. Yandex Direct registers and marks its ads itself.

Our own headlines/descriptions lists map onto Direct as title 1 = headlines[0], title 2 = headlines[1],
text = descriptions[0], display link = path1; onto targeting platforms as title and text.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import Platform

ERROR = "error"
WARNING = "warning"

GOOGLE = {
    "headline": 30,
    "headlines": (3, 15),
    "description": 90,
    "descriptions": (2, 4),
    "path": 15,
    "keyword_chars": 80,
    "keyword_words": 10,
    "sitelink_text": 25,
    "sitelink_description": 35,
}
YANDEX = {
    "title1": 56,
    "title2": 30,
    "text": 81,
    "display_link": 20,
    "keyword_words": 7,
    "sitelinks": 8,
    "sitelink_text": 30,
    "sitelink_description": 60,
}
VK = {"title": 40, "text": 220, "short_text": 90}
TELEGRAM = {"text": 160}
META = {"text": 125, "title": 40}
# Platforms whose creatives must carry the Russian advertising label and the ERID token.
LABELLED_PLATFORMS = (Platform.VK_ADS, Platform.TELEGRAM_ADS)
AD_LABEL = "Реклама"


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    severity: str = ERROR
    platform: str = ""
    item: str = ""  # which ad, keyword or ad group: "ad 2", "keyword «стрижка»", ...

    def __str__(self):
        where = f"{self.item}: " if self.item else ""
        return f"[{self.severity}] {self.platform} {where}{self.field}: {self.message}"


def ad_label(campaign) -> str:
    """The marking shown on a labelled creative: «Реклама. <advertiser>»."""
    return f"{AD_LABEL}. {campaign.advertiser}" if campaign.advertiser else AD_LABEL


def errors(problems) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


class _Checker:
    def __init__(self, campaign):
        self.campaign = campaign
        self.platform = campaign.platform
        self.problems: list[Problem] = []

    def add(self, field, message, item="", severity=ERROR):
        self.problems.append(Problem(field, str(message), severity, self.platform, item))

    def length(self, value, limit, field, item, severity=ERROR):
        if value and len(value) > limit:
            self.add(
                field,
                _("%(n)d characters, the limit is %(limit)d: «%(value)s»")
                % {"n": len(value), "limit": limit, "value": value},
                item,
                severity,
            )

    def count(self, values, bounds, field, item):
        low, high = bounds
        if len(values) < low:
            self.add(
                field, _("at least %(n)d needed, there are %(have)d") % {"n": low, "have": len(values)}, item
            )
        elif len(values) > high:
            self.add(
                field, _("at most %(n)d allowed, there are %(have)d") % {"n": high, "have": len(values)}, item
            )


def _ad_item(index):
    return _("ad %(n)d") % {"n": index}


def _keyword_item(keyword):
    return _("keyword «%(text)s»") % {"text": keyword.text}


def _check_google(c: _Checker, ads, keywords):
    for i, ad in enumerate(ads, 1):
        item = _ad_item(i)
        headlines = [h for h in ad.headlines if h.strip()]
        descriptions = [d for d in ad.descriptions if d.strip()]
        c.count(headlines, GOOGLE["headlines"], "headlines", item)
        c.count(descriptions, GOOGLE["descriptions"], "descriptions", item)
        for n, headline in enumerate(headlines, 1):
            c.length(headline, GOOGLE["headline"], f"headline {n}", item)
        for n, description in enumerate(descriptions, 1):
            c.length(description, GOOGLE["description"], f"description {n}", item)
        c.length(ad.path1, GOOGLE["path"], "path 1", item)
        c.length(ad.path2, GOOGLE["path"], "path 2", item)
        for link in ad.sitelinks:
            c.length(link.get("text", ""), GOOGLE["sitelink_text"], "sitelink text", item)
            c.length(
                link.get("description", ""), GOOGLE["sitelink_description"], "sitelink description", item
            )
    for keyword in keywords:
        c.length(keyword.text, GOOGLE["keyword_chars"], "keyword", _keyword_item(keyword))
        if len(keyword.text.split()) > GOOGLE["keyword_words"]:
            c.add(
                "keyword", _("more than %(n)d words") % {"n": GOOGLE["keyword_words"]}, _keyword_item(keyword)
            )


def _check_yandex(c: _Checker, ads, keywords):
    for i, ad in enumerate(ads, 1):
        item = _ad_item(i)
        title1 = ad.headlines[0] if ad.headlines else ""
        if not title1.strip():
            c.add("title 1", _("is required"), item)
        c.length(title1, YANDEX["title1"], "title 1", item)
        c.length(ad.headlines[1] if len(ad.headlines) > 1 else "", YANDEX["title2"], "title 2", item)
        text = ad.descriptions[0] if ad.descriptions else ""
        if not text.strip():
            c.add("text", _("is required"), item)
        c.length(text, YANDEX["text"], "text", item)
        c.length(ad.path1, YANDEX["display_link"], "display link", item)
        if len(ad.sitelinks) > YANDEX["sitelinks"]:
            c.add("sitelinks", _("at most %(n)d allowed") % {"n": YANDEX["sitelinks"]}, item)
        for link in ad.sitelinks:
            c.length(link.get("text", ""), YANDEX["sitelink_text"], "sitelink text", item)
            c.length(
                link.get("description", ""), YANDEX["sitelink_description"], "sitelink description", item
            )
    for keyword in keywords:
        if len(keyword.text.split()) > YANDEX["keyword_words"]:
            c.add(
                "keyword", _("more than %(n)d words") % {"n": YANDEX["keyword_words"]}, _keyword_item(keyword)
            )


def _check_creatives(c: _Checker, ads):
    for i, ad in enumerate(ads, 1):
        item = _ad_item(i)
        if c.platform == Platform.VK_ADS:
            c.length(ad.title, VK["title"], "title", item)
            c.length(ad.text, VK["text"], "text", item)
            if len(ad.text) <= VK["text"]:
                c.length(ad.text, VK["short_text"], "text", item, WARNING)
        elif c.platform == Platform.TELEGRAM_ADS:
            c.length(ad.text, TELEGRAM["text"], "text", item)
        elif c.platform == Platform.META:
            c.length(ad.title, META["title"], "headline", item, WARNING)
            c.length(ad.text, META["text"], "primary text", item, WARNING)
        if not (ad.text or "").strip():
            c.add("text", _("is required"), item)


def check(campaign) -> list[Problem]:
    """Every limit the campaign's ads and keywords break on its platform, errors and warnings."""
    c = _Checker(campaign)
    ads = list(campaign.ads.all())
    keywords = [k for group in campaign.ad_groups.all() for k in group.keywords.all()]
    if not ads:
        c.add("ads", _("the campaign has no ads"))
    if campaign.platform == Platform.GOOGLE_ADS:
        _check_google(c, ads, keywords)
    elif campaign.platform == Platform.YANDEX_DIRECT:
        _check_yandex(c, ads, keywords)
    else:
        _check_creatives(c, ads)
    if campaign.platform in (Platform.GOOGLE_ADS, Platform.YANDEX_DIRECT):
        for group in campaign.ad_groups.all():
            if not group.keywords.exists():
                c.add(
                    "keywords",
                    _("ad group «%(name)s» has no keywords") % {"name": group.name},
                    severity=WARNING,
                )
        for i, ad in enumerate(ads, 1):
            if not (ad.final_url or (ad.ad_group and ad.ad_group.final_url)):
                c.add("final URL", _("is required"), _ad_item(i))
    if campaign.platform in LABELLED_PLATFORMS:
        if not campaign.advertiser.strip():
            c.add(
                "advertiser", _("ads in Russia are labelled «Реклама» with the advertiser's name: fill it in")
            )
        if not campaign.erid.strip():
            c.add(
                "ERID",
                _("get the ERID token from your advertising data operator before launch"),
                severity=WARNING,
            )
    return c.problems
