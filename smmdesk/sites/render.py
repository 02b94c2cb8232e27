"""A landing page as HTML: the same template serves /site/<workspace>/<page>/, the editor's preview, the
audit and the static export; only the links differ (`Links`).

Canonical URLs: SMMDESK_PUBLIC_URL + /site/<workspace>/<page>/ when it is set; otherwise the address the
page was asked for on (served pages), or the site-relative path /site/<workspace>/<page>/ when there is
no request (an export made outside a request). Search engines prefer absolute canonicals, hence the
public URL first. The exported copy keeps the served page as canonical: it is a copy of that page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.safestring import mark_safe

from smmdesk.business.models import OpeningHours
from smmdesk.channels.models import Channel
from smmdesk.sites import text
from smmdesk.sites.actions import money
from smmdesk.sites.models import Page

SCHEMA_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Words that make a business a hairdresser for schema.org (HairSalon is a LocalBusiness subtype): in its
# name or its services. There is no business-type field in the profile.
HAIR_STEMS = ("hair", "barber", "парикмахер", "стриж", "барбер", "kaderník", "kadernic", "strih", "účes")


def json_ld(data) -> str:
    """JSON for a <script> block: <, > and & escaped, so no text in it can close the script element."""
    dumped = json.dumps(data, ensure_ascii=False, indent=None, separators=(",", ":"))
    dumped = dumped.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(dumped)  # noqa: S308 - escaped just above, and never inside an HTML attribute


def public_base(request=None) -> str:
    if settings.SMMDESK_PUBLIC_URL:
        return settings.SMMDESK_PUBLIC_URL.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return ""


def page_path(page: Page) -> str:
    return f"/site/{page.workspace.slug}/{page.slug}/"


def index_path(workspace) -> str:
    return f"/site/{workspace.slug}/"


def widget_key(workspace) -> str | None:
    """The public key of the workspace's first working site chat widget, if it has one."""
    for channel in (
        Channel.objects.filter(workspace=workspace, kind="webchat")
        .exclude(status=Channel.Status.DISABLED)
        .order_by("pk")
    ):
        try:
            return channel.typed_config().public_key
        except ValueError:
            continue
    return None


@dataclass
class Links:
    """Where a rendered page points. Served pages use site paths; the export uses relative file paths so
    the folder opens from disk or any host."""

    base: str  # the smmdesk address for canonical URLs and the widget ("" when unknown)
    exported: bool = False
    depth: int = 1  # exported: 0 for index.html, 1 for <page>/index.html

    def home(self, workspace) -> str:
        if self.exported:
            return "../" * self.depth + "index.html"
        return index_path(workspace)

    def page(self, page: Page) -> str:
        if self.exported:
            return "../" * self.depth + f"{page.slug}/index.html"
        return page_path(page)

    def css(self) -> str:
        if self.exported:
            return "../" * self.depth + "assets/site.css"
        return static("sites/site.css")

    def canonical(self, path: str) -> str:
        return self.base + path

    def widget(self, key: str | None) -> str | None:
        if not key:
            return None
        src = f"/hooks/chat/{key}/widget.js"
        if self.exported:
            # The copy lives on another host: the widget must come from smmdesk itself.
            return self.base + src if self.base else None
        return src


def is_hairdresser(workspace, profile) -> bool:
    names = [
        profile.name if profile else "",
        workspace.name,
        *workspace.services.values_list("name", flat=True),
    ]
    blob = " ".join(names).casefold()
    return any(stem in blob for stem in HAIR_STEMS)


def opening_hours(workspace) -> list[OpeningHours]:
    return list(OpeningHours.objects.filter(workspace=workspace).order_by("weekday", "opens"))


def hours_table(rows: list[OpeningHours], language: str) -> list[tuple[str, str]]:
    names = text.weekdays_for(language)
    closed = text.copy_for(language)["closed"]
    by_day: dict[int, list[str]] = {}
    for row in rows:
        by_day.setdefault(row.weekday, []).append(f"{row.opens:%H:%M}–{row.closes:%H:%M}")
    return [(names[day], ", ".join(by_day.get(day, [])) or closed) for day in range(7)]


def map_url(address: str) -> str:
    # Built by us from the profile's address, never a user-given link.
    return "https://www.openstreetmap.org/search?query=" + quote(address, safe="")


def structured_data(page: Page, profile, rows, canonical: str, home: str, hair: bool) -> list[dict]:
    workspace = page.workspace
    name = (profile.name if profile else "") or workspace.name
    business: dict = {
        "@context": "https://schema.org",
        "@type": "HairSalon" if hair else "LocalBusiness",
        "@id": home + "#business",
        "name": name,
        "url": home,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": (profile.address if profile else "") or "",
            "addressLocality": profile.city if profile else "",
        },
        "openingHoursSpecification": [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": f"https://schema.org/{SCHEMA_DAYS[row.weekday]}",
                "opens": f"{row.opens:%H:%M}",
                "closes": f"{row.closes:%H:%M}",
            }
            for row in rows
        ],
    }
    if profile and profile.phone:
        business["telephone"] = profile.phone
    blocks = [business]
    service = page.cluster.service if page.cluster_id and page.cluster else None
    if service is not None:
        blocks.append(
            {
                "@context": "https://schema.org",
                "@type": "Service",
                "name": service.name,
                "serviceType": service.name,
                "url": canonical,
                "provider": {"@id": business["@id"], "name": name},
                "areaServed": profile.city if profile else "",
                "offers": {
                    "@type": "Offer",
                    "price": f"{service.price:.2f}",
                    "priceCurrency": profile.currency if profile else "RUB",
                },
            }
        )
    if page.faq:
        blocks.append(
            {
                "@context": "https://schema.org",
                "@type": "FAQPage",
                "mainEntity": [
                    {
                        "@type": "Question",
                        "name": item["question"],
                        "acceptedAnswer": {"@type": "Answer", "text": item["answer"]},
                    }
                    for item in page.faq
                ],
            }
        )
    blocks.append(
        {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": name, "item": home},
                {"@type": "ListItem", "position": 2, "name": page.h1, "item": canonical},
            ],
        }
    )
    return blocks


def _paragraphs(value: str) -> list[str]:
    return [p.strip() for p in (value or "").split("\n\n") if p.strip()]


def _safe_src(src) -> bool:
    return isinstance(src, str) and (
        src.startswith(("https://", "http://")) or src.startswith("/") and not src.startswith("//")
    )


def page_context(page: Page, links: Links, siblings: list[Page]) -> dict:
    workspace = page.workspace
    profile = getattr(workspace, "profile", None)
    copy = text.copy_for(page.language)
    rows = opening_hours(workspace)
    canonical = links.canonical(page_path(page))
    home = links.canonical(index_path(workspace))
    service = page.cluster.service if page.cluster_id and page.cluster else None
    currency = profile.currency if profile else "RUB"
    sections = []
    for section in page.sections:
        sections.append(
            {
                "kind": section.get("kind", ""),
                "heading": section.get("heading", ""),
                "paragraphs": _paragraphs(section.get("text", "")),
            }
        )
    prices = [(s.name, money(s.price, currency)) for s in workspace.services.order_by("name")]
    if service is not None:
        prices.sort(key=lambda row: row[0] != service.name)  # this page's service first
    address = (profile.address if profile else "") or ""
    return {
        "page": page,
        "business_name": (profile.name if profile else "") or workspace.name,
        "copy": copy,
        "css": links.css(),
        "home": links.home(workspace),
        "canonical": canonical,
        "intro": _paragraphs(page.intro),
        "sections": sections,
        "prices": prices,
        "price_from": copy["price_from"],
        "address": address,
        "map_url": map_url(
            f"{address}, {profile.city}" if profile and profile.city not in address else address
        )
        if address
        else "",
        "phone": profile.phone if profile else "",
        "hours": hours_table(rows, page.language),
        "images": [i for i in page.images if _safe_src(i.get("src"))],
        "others": [(p.h1, links.page(p)) for p in siblings if p.pk != page.pk],
        "json_ld": [
            json_ld(block)
            for block in structured_data(
                page, profile, rows, canonical, home, is_hairdresser(workspace, profile)
            )
        ],
        "widget": links.widget(widget_key(workspace)),
    }


def render_page(page: Page, links: Links, siblings: list[Page]) -> str:
    return render_to_string("sites/page.html", page_context(page, links, siblings))


def render_index(workspace, pages: list[Page], links: Links) -> str:
    profile = getattr(workspace, "profile", None)
    language = pages[0].language if pages else ((profile.languages or ["en"])[0] if profile else "en")
    return render_to_string(
        "sites/index.html",
        {
            "workspace": workspace,
            "business_name": (profile.name if profile else "") or workspace.name,
            "language": language,
            "copy": text.copy_for(language),
            "css": links.css(),
            "canonical": links.canonical(index_path(workspace)),
            "pages": [(p.h1, p.description, links.page(p)) for p in pages],
            "widget": links.widget(widget_key(workspace)),
        },
    )
