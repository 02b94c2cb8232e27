"""Each ad platform's text limits, and `check(campaign)` that lists what breaks them.

Facts from the platforms' published help (characters, counted as Python counts them):
- Google Ads responsive search ads: 3–15 headlines of at most 30 characters, 2–4 descriptions of at most
  90, display paths of at most 15 each; keywords at most 80 characters and 10 words; sitelink text at
  most 25 and two description lines of at most 35 each, both or neither (Google Ads API, SitelinkFeedItem).
  We keep at most 8 sitelinks per ad (our own cap; Google takes more).
- Yandex Direct text-and-image ads (Direct's help, "Управление кампаниями с помощью файлов XLS и XLSX"
  and "Быстрые ссылки"): title 1 at most 56 and title 2 at most 30 characters with no word over 22, text
  at most 81 with no word over 23, display link at most 20 of letters, digits and - № / % #; a keyword
  at most 7 words of at most 35 characters; up to 8 sitelinks, their text at most 30 and description
  at most 60, no word over 23, no «!», «?», «[» or «]», and the texts of sitelinks 1–4 (and of 5–8) at
  most 66 together. (Direct counts narrow punctuation separately; we count every character, which is
  stricter.)
- VK Ads: title at most 40 (the API's text block "title_40_vkads"); text at most 220, and formats with a
  short description cut it at 90 (a warning). The text sizes differ by ad format ("text_90",
  "text_220", "text_2000" blocks); 220 is the common long text, not confirmed by VK's own help.
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
    "sitelinks": 8,
    "sitelink_text": 25,
    "sitelink_description": 35,
}
YANDEX = {
    "title1": 56,
    "title2": 30,
    "text": 81,
    "display_link": 20,
    "keyword_words": 7,
    "keyword_word": 35,
    "title_word": 22,
    "text_word": 23,
    "sitelinks": 8,
    "sitelink_text": 30,
    "sitelink_description": 60,
    "sitelink_word": 23,
    "sitelink_texts_per_four": 66,
}
YANDEX_SITELINK_FORBIDDEN = "!?[]"
YANDEX_DISPLAY_LINK_SIGNS = "-№/%#"
MAX_URL = 1024  # Direct's limit for a sitelink's address, the shorter of the two platforms'
# A sitelink's parts as the limits list names them.
SITELINK_FIELDS = {
    "text": "sitelink text",
    "url": "sitelink URL",
    "description": "sitelink description",
    "description2": "sitelink description 2",
    "sitelinks": "sitelinks",
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


def too_long(value: str, limit: int) -> str | None:
    if value and len(value) > limit:
        return _("%(n)d characters, the limit is %(limit)d: «%(value)s»") % {
            "n": len(value),
            "limit": limit,
            "value": value,
        }
    return None


def long_word(value: str, limit: int) -> str | None:
    word = next((w for w in (value or "").split() if len(w) > limit), None)
    if word is None:
        return None
    return _("the word «%(word)s» is longer than %(limit)d characters") % {"word": word, "limit": limit}


def http_url(value: str) -> bool:
    """An absolute http(s) address with a host and no spaces: what both platforms take for a link."""
    from urllib.parse import urlsplit

    if not value or len(value) > MAX_URL or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def sitelink_problems(platform: str, links) -> list[tuple[int | None, str, str]]:
    """What breaks the platform's sitelink rules: (the link's index, or None for the whole set; the part:
    text, url, description, description2 or sitelinks; the message). Google Ads and Yandex Direct only."""
    google = platform == Platform.GOOGLE_ADS
    table = GOOGLE if google else YANDEX
    found: list[tuple[int | None, str, str]] = []
    links = [link if isinstance(link, dict) else {} for link in links or []]
    if len(links) > table["sitelinks"]:
        found.append((None, "sitelinks", _("at most %(n)d allowed") % {"n": table["sitelinks"]}))
    parts = ("description", "description2") if google else ("description",)
    for index, link in enumerate(links):
        text = str(link.get("text") or "")
        if not text.strip():
            found.append((index, "text", _("is required")))
        if not http_url(str(link.get("url") or "")):
            found.append(
                (index, "url", _("must be an http(s) address of at most %(n)d characters") % {"n": MAX_URL})
            )
        for part in ("text", *parts):
            value = str(link.get(part) or "")
            limit = table["sitelink_text" if part == "text" else "sitelink_description"]
            message = too_long(value, limit)
            if not google:
                message = message or long_word(value, YANDEX["sitelink_word"])
                if any(ch in YANDEX_SITELINK_FORBIDDEN for ch in value):
                    message = message or _("may not contain ! ? [ ]")
            if message:
                found.append((index, part, message))
        if google and bool(str(link.get("description") or "").strip()) != bool(
            str(link.get("description2") or "").strip()
        ):
            missing = "description2" if str(link.get("description") or "").strip() else "description"
            found.append((index, missing, _("Google Ads takes both description lines or neither")))
    if not google:
        size = YANDEX["sitelink_texts_per_four"]
        for start in range(0, len(links), 4):
            total = sum(len(str(link.get("text") or "")) for link in links[start : start + 4])
            if total > size:
                found.append(
                    (
                        None,
                        "sitelinks",
                        _(
                            "the texts of sitelinks %(first)d–%(last)d have %(n)d characters together, the limit is %(limit)d"
                        )
                        % {"first": start + 1, "last": min(start + 4, len(links)), "n": total, "limit": size},
                    )
                )
    return found


class _Checker:
    def __init__(self, campaign):
        self.campaign = campaign
        self.platform = campaign.platform
        self.problems: list[Problem] = []

    def add(self, field, message, item="", severity=ERROR):
        self.problems.append(Problem(field, str(message), severity, self.platform, item))

    def length(self, value, limit, field, item, severity=ERROR):
        message = too_long(value, limit)
        if message:
            self.add(field, message, item, severity)

    def words(self, value, limit, field, item):
        message = long_word(value, limit)
        if message:
            self.add(field, message, item)

    def sitelinks(self, links, item):
        for index, part, message in sitelink_problems(self.platform, links):
            where = _("sitelink %(n)d: ") % {"n": index + 1} if index is not None else ""
            self.add(SITELINK_FIELDS[part], where + message, item)

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
        c.sitelinks(ad.sitelinks, item)
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
        title2 = ad.headlines[1] if len(ad.headlines) > 1 else ""
        if not title1.strip():
            c.add("title 1", _("is required"), item)
        c.length(title1, YANDEX["title1"], "title 1", item)
        c.length(title2, YANDEX["title2"], "title 2", item)
        c.words(title1, YANDEX["title_word"], "title 1", item)
        c.words(title2, YANDEX["title_word"], "title 2", item)
        text = ad.descriptions[0] if ad.descriptions else ""
        if not text.strip():
            c.add("text", _("is required"), item)
        c.length(text, YANDEX["text"], "text", item)
        c.words(text, YANDEX["text_word"], "text", item)
        c.length(ad.path1, YANDEX["display_link"], "display link", item)
        if any(not (ch.isalnum() or ch in YANDEX_DISPLAY_LINK_SIGNS) for ch in ad.path1):
            c.add("display link", _("only letters, digits and - № / % # are allowed"), item)
        c.sitelinks(ad.sitelinks, item)
    for keyword in keywords:
        if len(keyword.text.split()) > YANDEX["keyword_words"]:
            c.add(
                "keyword", _("more than %(n)d words") % {"n": YANDEX["keyword_words"]}, _keyword_item(keyword)
            )
        c.words(keyword.text, YANDEX["keyword_word"], "keyword", _keyword_item(keyword))


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
