"""Landing-page use cases: build one page per keyword cluster, edit a page's copy, publish it.

Regenerating rewrites only pages nobody has edited, and never changes a page's address once it exists
(links to it may be out in the world). Live facts — prices, address, opening hours — are not copied into
the page: the template reads them from the business profile, so a new price shows on every page at once.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.roles import allowed
from smmdesk.channels.webhook.payload import has_unstorable
from smmdesk.keywords.models import Cluster, Intent, Keyword
from smmdesk.sites import text
from smmdesk.sites.models import Page

MAX_FAQ = 8
MAX_SECTIONS = 12
LIMITS = {"title": 120, "description": 300, "h1": 200, "intro": 5000}
SECTION_TEXT_MAX = 10000
FAQ_TEXT_MAX = 1000
ALT_MAX = 200


class NotAllowed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PageError(Exception):
    """Refused input; `field` names it ("title", "sections[1].heading")."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _require(membership, permission: str) -> None:
    if not allowed(membership.role, permission):
        raise NotAllowed(_("Your role does not allow this."))


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    value = f"{amount:.2f}".removesuffix(".00")
    return {"RUB": f"{value} ₽", "EUR": f"{value} €", "USD": f"${value}"}.get(currency, f"{value} {currency}")


def _facts(workspace, cluster: Cluster, main: str) -> dict:
    profile = getattr(workspace, "profile", None)
    service = cluster.service
    currency = profile.currency if profile else "RUB"
    business = (profile.name if profile else "") or workspace.name
    service_name = service.name if service else main
    return {
        "query": main,
        "Query": text.capitalized(main),
        "business": business,
        "city": profile.city if profile else "",
        "address": (profile.address if profile else "") or (profile.city if profile else ""),
        "service": service_name,
        "service_lower": service_name[:1].lower() + service_name[1:],
        "price": money(service.price, currency) if service else "",
        "duration": service.duration_minutes if service else 60,
    }


def _title(copy: dict, facts: dict) -> str:
    # The main query first; the business and city only as far as they fit in 60 characters.
    for tail in (copy["title_tail"], copy["title_short"], ""):
        candidate = facts["Query"] + tail.format(**facts)
        if len(candidate) <= 60:
            return candidate
    return text.clip(facts["Query"], 60)


def _faq(cluster: Cluster, copy: dict, facts: dict, language: str) -> list[dict]:
    questions = (
        Keyword.objects.filter(cluster=cluster, intent=Intent.INFORMATIONAL, excluded=False)
        .order_by("-volume", "query")
        .values_list("query", flat=True)[:MAX_FAQ]
    )
    faq = [
        {"question": text.as_question(q, language), "answer": copy["answer"].format(**facts)}
        for q in questions
    ]
    if cluster.service_id:
        faq.append(
            {
                "question": copy["price_question"].format(**facts),
                "answer": copy["price_answer"].format(**facts),
            }
        )
        faq.append(
            {
                "question": copy["duration_question"].format(**facts),
                "answer": copy["duration_answer"].format(**facts),
            }
        )
    return faq


def copy_for_cluster(cluster: Cluster) -> dict:
    """The generated copy of a cluster's page (title, description, h1, intro, sections, faq)."""
    language = cluster.language if cluster.language in text.COPY else "en"
    copy = text.copy_for(language)
    main = cluster.main.query if cluster.main_id else cluster.name
    facts = _facts(cluster.workspace, cluster, main)

    def paragraphs(key: str) -> str:
        return "\n\n".join(p.format(**facts) for p in copy[key])

    sections = [
        {"kind": "service", "heading": copy["service_heading"].format(**facts), "text": paragraphs("service")}
    ]
    if cluster.service_id:
        sections.append({"kind": "prices", "heading": copy["prices_heading"], "text": paragraphs("prices")})
    sections.append({"kind": "address", "heading": copy["address_heading"], "text": paragraphs("address")})
    sections.append({"kind": "hours", "heading": copy["hours_heading"], "text": paragraphs("hours")})
    return {
        "language": language,
        "title": _title(copy, facts),
        "description": text.clip(copy["description"].format(**facts).replace(" .", "."), 160),
        "h1": facts["Query"],
        "intro": copy["intro"].format(**facts),
        "sections": sections,
        "faq": _faq(cluster, copy, facts, language),
    }


def _free_slug(workspace, wanted: str, taken: set[str]) -> str:
    slug, n = wanted, 2
    while slug in taken:
        suffix = f"-{n}"
        slug = wanted[: text.SLUG_MAX - len(suffix)] + suffix
        n += 1
    return slug


def build_pages(membership) -> dict:
    """One page per cluster: new clusters get a page, unedited pages get fresh copy, edited ones are kept.
    Answers {"created", "updated", "kept", "orphaned"} (orphaned: pages whose cluster is gone)."""
    _require(membership, "sites.manage")
    workspace = membership.workspace
    counts = {"created": 0, "updated": 0, "kept": 0, "orphaned": 0}
    with transaction.atomic():
        clusters = list(
            Cluster.objects.filter(workspace=workspace)
            .select_related("main", "service", "workspace__profile")
            .order_by("-volume", "pk")
        )
        pages = {p.cluster_id: p for p in Page.objects.select_for_update().filter(workspace=workspace)}
        taken = {p.slug for p in pages.values()}
        now = timezone.now()
        for cluster in clusters:
            if cluster.main_id is None and not cluster.keywords.exists():
                continue  # an empty cluster has nothing to be about
            page = pages.get(cluster.pk)
            if page is not None and page.edited:
                counts["kept"] += 1
                continue
            generated = copy_for_cluster(cluster)
            if page is None:
                slug = _free_slug(
                    workspace, text.slug_of(cluster.main.query if cluster.main_id else cluster.name), taken
                )
                taken.add(slug)
                Page.objects.create(
                    workspace=workspace,
                    cluster=cluster,
                    slug=slug,
                    created_at=now,
                    updated_at=now,
                    **generated,
                )
                counts["created"] += 1
            else:
                for name, value in generated.items():
                    setattr(page, name, value)
                page.updated_at = now
                page.save()
                counts["updated"] += 1
        counts["orphaned"] = sum(1 for key in pages if key is None)
    return counts


def _text(data: dict, field: str, limit: int, required: bool = True) -> str:
    value = data.get(field, "")
    if not isinstance(value, str):
        raise PageError(field, _("must be text"))
    if has_unstorable(value):
        raise PageError(field, _("contains characters that are not allowed (NUL or a lone surrogate)"))
    value = value.strip()
    if required and not value:
        raise PageError(field, _("This field is required."))
    if len(value) > limit:
        raise PageError(
            field, _("at most %(limit)d characters (now %(count)d)") % {"limit": limit, "count": len(value)}
        )
    return value


def _items(data: dict, field: str, keys: tuple[str, ...], limit: int, most: int) -> list[dict]:
    items = data.get(field, [])
    if not isinstance(items, list):
        raise PageError(field, _("must be a list"))
    if len(items) > most:
        raise PageError(field, _("at most %(limit)d items") % {"limit": most})
    cleaned = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PageError(f"{field}[{i}]", _("must be an object"))
        row = {k: v for k, v in item.items() if k == "kind" and isinstance(v, str)}
        for key in keys:
            try:
                row[key] = _text(item, key, limit, required=key != "text")
            except PageError as error:
                raise PageError(f"{field}[{i}].{key}", error.message) from None
        cleaned.append(row)
    return cleaned


def update_page(membership, page: Page, data: dict) -> Page:
    """The editor's save: every given field is checked (the error names it), then all are stored together.
    Fields left out keep their value. The page is marked edited, so regenerating keeps it."""
    _require(membership, "sites.edit")
    if page.workspace_id != membership.workspace_id:
        raise NotAllowed(_("Your role does not allow this."))
    if not isinstance(data, dict):
        raise PageError("body", _("must be an object"))
    changes: dict = {}
    for name, limit in LIMITS.items():
        if name in data:
            try:
                changes[name] = _text(data, name, limit)
            except PageError as error:
                raise PageError(name, error.message) from None
    if "sections" in data:
        sections = _items(data, "sections", ("heading", "text"), SECTION_TEXT_MAX, MAX_SECTIONS)
        for i, section in enumerate(sections):
            if len(section["heading"]) > 200:
                raise PageError(f"sections[{i}].heading", _("at most %(limit)d characters") % {"limit": 200})
        changes["sections"] = sections
    if "faq" in data:
        changes["faq"] = _items(data, "faq", ("question", "answer"), FAQ_TEXT_MAX, MAX_FAQ + 4)
    if "images" in data:
        alts = data["images"]
        if not isinstance(alts, list) or len(alts) != len(page.images):
            raise PageError(
                "images", _("give one alt text per image (%(count)d)") % {"count": len(page.images)}
            )
        images = []
        for i, (image, alt) in enumerate(zip(page.images, alts, strict=True)):
            value = alt.get("alt", "") if isinstance(alt, dict) else alt
            if isinstance(value, str) and has_unstorable(value):
                raise PageError(
                    f"images[{i}].alt",
                    _("contains characters that are not allowed (NUL or a lone surrogate)"),
                )
            if not isinstance(value, str) or len(value.strip()) > ALT_MAX:
                raise PageError(f"images[{i}].alt", _("at most %(limit)d characters") % {"limit": ALT_MAX})
            images.append({**image, "alt": value.strip()})
        changes["images"] = images
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page.pk)
        for name, value in changes.items():
            setattr(page, name, value)
        page.edited = True
        page.updated_at = timezone.now()
        page.save()
    return page


def set_published(membership, page: Page, published: bool) -> Page:
    _require(membership, "sites.manage")
    if page.workspace_id != membership.workspace_id:
        raise NotAllowed(_("Your role does not allow this."))
    Page.objects.filter(pk=page.pk).update(published=bool(published), updated_at=timezone.now())
    page.refresh_from_db()
    return page
