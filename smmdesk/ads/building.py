"""What a contextual campaign is made of, worked out from a keyword cluster and its landing page: the
final URL with UTM tags, keywords with match types, negative keywords, and the ad's headlines,
descriptions, display path and sitelinks, each trimmed to the platform's limits.

Pure functions over loaded rows; actions.py validates the input and writes the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.utils import translation
from django.utils.translation import gettext as _

from smmdesk.ads import limits
from smmdesk.ads.models import MatchType, Platform
from smmdesk.keywords.models import Cluster, NegativeKeyword
from smmdesk.keywords.normalize import DEFAULT_NEGATIVES
from smmdesk.sites.models import Page
from smmdesk.sites.render import page_path
from smmdesk.sites.text import capitalized, clip, slug_of

# What the builder fills, in each platform's limits (A1's limits.py): a list of sizes is one per item,
# so Direct's two titles get 56 and 30 characters.
LIMITS = {
    Platform.GOOGLE_ADS: {
        "headlines": [limits.GOOGLE["headline"]] * limits.GOOGLE["headlines"][1],
        "descriptions": [limits.GOOGLE["description"]] * limits.GOOGLE["descriptions"][1],
        "path": limits.GOOGLE["path"],
        "sitelink_text": limits.GOOGLE["sitelink_text"],
        "sitelink_description": limits.GOOGLE["sitelink_description"],
        "keyword_chars": limits.GOOGLE["keyword_chars"],
        "keyword_words": limits.GOOGLE["keyword_words"],
    },
    Platform.YANDEX_DIRECT: {
        "headlines": [limits.YANDEX["title1"], limits.YANDEX["title2"]],
        "descriptions": [limits.YANDEX["text"]],
        "path": limits.YANDEX["display_link"],
        "sitelink_text": limits.YANDEX["sitelink_text"],
        "sitelink_description": limits.YANDEX["sitelink_description"],
        "keyword_chars": 300,
        "keyword_words": limits.YANDEX["keyword_words"],
    },
}
# Creatives of targeting platforms: (title, text) sizes.
CREATIVE_LIMITS = {
    Platform.VK_ADS: (limits.VK["title"], limits.VK["text"]),
    Platform.TELEGRAM_ADS: (200, limits.TELEGRAM["text"]),
    Platform.META: (limits.META["title"], limits.META["text"]),
}
MAX_SITELINKS = 4  # what the builder writes; an owner may add more, up to the platform's number
YANDEX_SITELINK_FORBIDDEN = re.compile(r"[!?\[\]]")
# Operators the platforms give a meaning to; our keywords carry the match type in its own field.
OPERATORS = re.compile(r"[+!\"\[\]()|~]")


def limit(platform: str, name: str):
    return LIMITS[platform][name]


def final_url(base: str, page: Page, platform: str, utm_campaign: str) -> str:
    tags = {"utm_source": platform, "utm_medium": "cpc", "utm_campaign": utm_campaign}
    return f"{base.rstrip('/')}{page_path(page)}?{urlencode(tags)}"


def plain(query: str) -> str:
    """The query without operators or minus-words, spaces collapsed."""
    words = [w for w in OPERATORS.sub(" ", query).split() if not w.startswith("-")]
    return " ".join(words).strip()


@dataclass
class KeywordSpec:
    text: str
    match_type: str


def keywords_for(cluster: Cluster, platform: str) -> list[KeywordSpec]:
    """The main query as exact and phrase, every other kept query as phrase; each once. A query longer
    than the platform takes is left out rather than cut, since a cut query means something else."""
    main = cluster.main if cluster.main_id and not cluster.main.excluded else None
    ordered = sorted(
        cluster.keywords.filter(excluded=False), key=lambda k: (k.pk != getattr(main, "pk", None), k.pk)
    )
    found: list[KeywordSpec] = []
    seen: set[tuple[str, str]] = set()
    for keyword in ordered:
        text = plain(keyword.query)[:300]
        if not text or len(text) > limit(platform, "keyword_chars"):
            continue
        if len(text.split()) > limit(platform, "keyword_words"):
            continue
        matches = (
            [MatchType.EXACT, MatchType.PHRASE] if main and keyword.pk == main.pk else [MatchType.PHRASE]
        )
        for match in matches:
            if (text.casefold(), match) not in seen:
                seen.add((text.casefold(), match))
                found.append(KeywordSpec(text, match))
    return found


def negatives_for(workspace, language: str) -> list[str]:
    """The workspace's negative keywords, then the language's defaults; each once (case-insensitive)."""
    phrases = list(NegativeKeyword.objects.filter(workspace=workspace).values_list("phrase", flat=True))
    phrases += DEFAULT_NEGATIVES.get(language, [])
    found, seen = [], set()
    for phrase in phrases:
        text = plain(phrase)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            found.append(text)
    return found


@dataclass
class AdSpec:
    headlines: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    path1: str = ""
    path2: str = ""
    sitelinks: list[dict] = field(default_factory=list)


def _unique_clipped(texts: list[str], sizes: list[int]) -> list[str]:
    """Each text cut to the size of the slot it lands in; blanks and repeats skipped."""
    found: list[str] = []
    for text in texts:
        if len(found) == len(sizes):
            break
        cut = capitalized(clip(text, sizes[len(found)]))
        if cut and cut.casefold() not in {f.casefold() for f in found}:
            found.append(cut)
    return found


def _price(service, currency: str) -> str:
    if service is None or service.price is None:
        return ""
    amount = f"{service.price.normalize():f}"
    return _("From %(price)s %(currency)s") % {"price": amount, "currency": currency}


def ad_for(cluster: Cluster, page: Page, others: list[Page], platform: str, base: str, utm: str) -> AdSpec:
    """The cluster's ad in its own language: the main query, the service, the city, the price and a call
    to book as headlines; the service and the address as descriptions; the service and the district as
    the display path; the site's other pages as sitelinks."""
    profile = getattr(cluster.workspace, "profile", None)
    city = profile.city if profile else ""
    address = profile.address if profile else ""
    name = profile.name if profile else ""
    phone = profile.phone if profile else ""
    currency = profile.currency if profile else "RUB"
    districts = profile.districts if profile and isinstance(profile.districts, list) else []
    service = cluster.service
    main = plain(cluster.main.query) if cluster.main_id else cluster.name
    service_name = service.name if service else cluster.name
    with translation.override(cluster.language or None):
        book = _("Book online")
        # Direct shows only two titles: the main query, then the shortest strong one (the call to book).
        if platform == Platform.YANDEX_DIRECT:
            headlines = [main, book, service_name]
        else:
            headlines = [
                main,
                service_name,
                f"{service_name} {city}".strip(),
                _price(service, currency),
                book,
            ]
            headlines.append(name)
        descriptions = [
            _("%(service)s in %(city)s. %(book)s.") % {"service": service_name, "city": city, "book": book}
            if city
            else f"{service_name}. {book}.",
            address,
            f"{name}. {phone}".strip(" ."),
        ]
    spec = AdSpec(
        headlines=_unique_clipped(headlines, limit(platform, "headlines")),
        descriptions=_unique_clipped(descriptions, limit(platform, "descriptions")),
        path1=clip(slug_of(service_name), limit(platform, "path")),
        # Direct has one display link; Google takes two path parts.
        path2=clip(slug_of(str(districts[0])), limit(platform, "path"))
        if districts and platform == Platform.GOOGLE_ADS
        else "",
    )
    spec.sitelinks = _sitelinks([p for p in others if p.pk != page.pk], platform, base, utm, book)
    return spec


def _sitelinks(pages: list[Page], platform: str, base: str, utm: str, book: str) -> list[dict]:
    """The site's other pages as sitelinks. Direct takes at most 66 characters for the texts of four
    together, so a page whose text would pass that is left out; Google wants both description lines or
    neither, so a description that fits one line gets the call to book as its second."""
    size = limit(platform, "sitelink_description")
    links: list[dict] = []
    for other in pages:
        if len(links) == MAX_SITELINKS:
            break
        text = clip(other.h1 or other.title, limit(platform, "sitelink_text"))
        if platform == Platform.YANDEX_DIRECT:
            text = clip(YANDEX_SITELINK_FORBIDDEN.sub(" ", text), limit(platform, "sitelink_text"))
            used = sum(len(link["text"]) for link in links)
            if not text or used + len(text) > limits.YANDEX["sitelink_texts_per_four"]:
                continue
        link = {"text": text, "url": final_url(base, other, platform, utm), "description": ""}
        description = " ".join((other.description or "").split())
        if platform == Platform.GOOGLE_ADS:
            first = clip(description, size)
            second = clip(description[len(first) :].lstrip(" ,.;:—–-|"), size) or (
                clip(book, size) if first else ""
            )
            link["description"], link["description2"] = first, second
        else:
            link["description"] = clip(YANDEX_SITELINK_FORBIDDEN.sub(" ", description), size)
        if text:
            links.append(link)
    return links
