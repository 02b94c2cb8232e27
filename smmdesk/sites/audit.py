"""The SEO audit of one landing page: checks run on the RENDERED page (parsed with html.parser), not on
the model, so what is checked is what a search engine gets. A score 0–100 (the weighted share of passed
checks) and a to-do list of the failed ones.

Matching the main query is by lemmas for the title, H1 and first paragraph ("стрижка в Ленинском районе"
is found in "стрижку в Ленинском районе"), and by transliterated words for the address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.utils.translation import gettext as _

from smmdesk.nlp.lemmas import lemma_set
from smmdesk.sites import text
from smmdesk.sites.models import Page
from smmdesk.sites.render import Links, render_page

TITLE_MAX, DESCRIPTION_MAX, DESCRIPTION_MIN = 60, 160, 50
THIN_WORDS = 300
# Weights: what costs most in search counts most in the score.
WEIGHTS = {
    "query_title": 12, "query_h1": 10, "query_url": 6, "query_intro": 8, "title_length": 8,
    "description_length": 6, "duplicate_title": 8, "duplicate_description": 6, "image_alt": 5,
    "thin_content": 8, "internal_links": 5, "json_ld": 10, "one_h1": 8, "lang": 3, "canonical": 3,
}  # fmt: skip


@dataclass
class Item:
    code: str
    ok: bool
    message: str


@dataclass
class Audit:
    score: int
    items: list[Item] = field(default_factory=list)

    @property
    def todo(self) -> list[Item]:
        return [item for item in self.items if not item.ok]


class Parsed(HTMLParser):
    """What the audit needs from the page: title, meta description, canonical, h1s, first paragraph,
    images, links, JSON-LD blocks and the visible words."""

    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.title = ""
        self.description = None
        self.canonical = None
        self.h1: list[str] = []
        self.paragraphs: list[str] = []
        self.images: list[dict] = []
        self.links: list[str] = []
        self.json_ld: list[str] = []
        self.words: list[str] = []
        self._stack: list[str] = []
        self._buffer: list[str] | None = None
        self._script_ld = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        elif tag == "meta" and (a.get("name") or "").lower() == "description":
            self.description = a.get("content") or ""
        elif tag == "link" and "canonical" in (a.get("rel") or "").lower().split():
            self.canonical = a.get("href") or ""
        elif tag == "img":
            self.images.append(a)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "script":
            self._script_ld = (a.get("type") or "").lower() == "application/ld+json"
        if tag in ("h1", "p", "title") or (tag == "script" and self._script_ld):
            self._buffer = []
        if tag not in ("meta", "link", "img", "br", "input"):
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if self._buffer is not None and tag in ("h1", "p", "title", "script"):
            content = "".join(self._buffer).strip()
            if tag == "h1":
                self.h1.append(content)
            elif tag == "p":
                self.paragraphs.append(content)
            elif tag == "title":
                self.title = content
            elif self._script_ld:
                self.json_ld.append(content)
            self._buffer = None
        if tag == "script":
            self._script_ld = False
        while self._stack:
            if self._stack.pop() == tag:
                break

    def handle_data(self, data):
        if self._buffer is not None:
            self._buffer.append(data)
        if not self.SKIP.intersection(self._stack):
            self.words.extend(data.split())


def _contains(haystack: str, query: str, language: str) -> bool:
    if query.casefold() in haystack.casefold():
        return True
    wanted = lemma_set(query, language)
    return bool(wanted) and wanted <= lemma_set(haystack, language)


def _json_ld_problems(blocks: list[str]) -> list[str]:
    problems, types = [], set()
    for raw in blocks:
        try:
            data = json.loads(raw)
        except ValueError:
            problems.append(_("a JSON-LD block does not parse"))
            continue
        if not isinstance(data, dict):
            problems.append(_("a JSON-LD block is not an object"))
            continue
        kind = data.get("@type", "")
        types.add(kind)
        missing = [k for k in ("@context", "@type") if not data.get(k)]
        if kind in ("LocalBusiness", "HairSalon"):
            missing += [k for k in ("name", "address") if not data.get(k)]
        if kind == "FAQPage" and not data.get("mainEntity"):
            missing.append("mainEntity")
        if missing:
            problems.append(
                _("%(type)s lacks %(fields)s") % {"type": kind or "?", "fields": ", ".join(missing)}
            )
    if not types.intersection({"LocalBusiness", "HairSalon"}):
        problems.append(_("no LocalBusiness block"))
    return problems


def check_html(html: str, page: Page, siblings: list[Page]) -> Audit:
    parsed = Parsed()
    parsed.feed(html)
    parsed.close()
    main = page.cluster.main.query if page.cluster_id and page.cluster and page.cluster.main_id else page.h1
    language = page.language
    first = next((p for p in parsed.paragraphs if p), "")
    others = [p for p in siblings if p.pk != page.pk]
    items: list[Item] = []

    def check(code: str, ok: bool, message: str) -> None:
        items.append(Item(code, bool(ok), message))

    check(
        "query_title",
        _contains(parsed.title, main, language),
        _("Put the main query “%(q)s” in the title.") % {"q": main},
    )
    check(
        "query_h1",
        any(_contains(h, main, language) for h in parsed.h1),
        _("Put the main query in the H1 heading."),
    )
    slug_words = set(page.slug.split("-"))
    check(
        "query_url",
        set(text.slug_of(main).split("-")) <= slug_words,
        _("The address does not contain the main query."),
    )
    check("query_intro", _contains(first, main, language), _("Use the main query in the first paragraph."))
    check(
        "title_length",
        0 < len(parsed.title) <= TITLE_MAX,
        _("The title has %(n)d characters: keep it to %(max)d.") % {"n": len(parsed.title), "max": TITLE_MAX},
    )
    description = parsed.description or ""
    check(
        "description_length",
        DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX,
        _("The meta description has %(n)d characters: write %(min)d–%(max)d.")
        % {"n": len(description), "min": DESCRIPTION_MIN, "max": DESCRIPTION_MAX},
    )
    same_title = [p.slug for p in others if p.title.strip().casefold() == parsed.title.strip().casefold()]
    check(
        "duplicate_title",
        not same_title,
        _("The same title is on: %(pages)s.") % {"pages": ", ".join(same_title)},
    )
    same_description = [
        p.slug
        for p in others
        if description and p.description.strip().casefold() == description.strip().casefold()
    ]
    check(
        "duplicate_description",
        not same_description,
        _("The same meta description is on: %(pages)s.") % {"pages": ", ".join(same_description)},
    )
    no_alt = [img.get("src", "") for img in parsed.images if not (img.get("alt") or "").strip()]
    check("image_alt", not no_alt, _("%(n)d images have no alt text.") % {"n": len(no_alt)})
    check(
        "thin_content",
        len(parsed.words) >= THIN_WORDS,
        _("Only %(n)d words: write at least %(min)d.") % {"n": len(parsed.words), "min": THIN_WORDS},
    )
    internal = [
        h for h in parsed.links if not h.startswith(("http://", "https://", "//", "mailto:", "tel:", "#"))
    ]
    to_others = [
        h for h in internal if any(h.endswith((f"/{p.slug}/", f"{p.slug}/index.html")) for p in others)
    ]
    check(
        "internal_links",
        bool(to_others) if others else bool(internal),
        _("Link to the other pages of the site."),
    )
    problems = _json_ld_problems(parsed.json_ld)
    check("json_ld", not problems, _("Structured data: %(problems)s.") % {"problems": "; ".join(problems)})
    check(
        "one_h1",
        len(parsed.h1) == 1,
        _("The page has %(n)d H1 headings: it needs exactly one.") % {"n": len(parsed.h1)},
    )
    check("lang", bool(parsed.lang), _("The page does not say its language."))
    check("canonical", bool(parsed.canonical), _("The page has no canonical address."))
    total = sum(WEIGHTS[i.code] for i in items)
    passed = sum(WEIGHTS[i.code] for i in items if i.ok)
    return Audit(round(100 * passed / total), items)


def audit(page: Page, siblings: list[Page]) -> Audit:
    """Render the page as it is served (with links to its published siblings) and check the result."""
    return check_html(render_page(page, Links(""), siblings), page, siblings)
