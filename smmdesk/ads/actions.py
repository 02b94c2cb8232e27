"""Ads use cases for the pages, the API, the CLI and the demo: building a targeting campaign from a saved
audience segment, building a contextual campaign from keyword clusters with landing pages, changing a
campaign or an ad, deleting a campaign.

Every write checks the member's right (ads.manage) and that every object it names belongs to the
member's workspace, validates all input before touching the database, and refuses with InvalidInput
listing every bad field as (field, message). Nothing is half-written: each build is one transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import allowed
from smmdesk.ads import building, limits, planner
from smmdesk.ads.cleaning import AdsError, Form, InvalidInput, NotAllowed
from smmdesk.ads.models import (
    CONTEXTUAL_PLATFORMS,
    TARGETING_PLATFORMS,
    Ad,
    AdGroup,
    AdKeyword,
    Campaign,
    Kind,
    Platform,
)
from smmdesk.audience.actions import targeting_for
from smmdesk.audience.models import Segment
from smmdesk.keywords.models import Cluster
from smmdesk.publishing.models import MediaAsset, Post
from smmdesk.sites.models import Page
from smmdesk.sites.text import capitalized, clip, slug_of

MANAGE = "ads.manage"
MAX_CLUSTERS = 50
CREATIVE_POST_STATES = (Post.State.APPROVED, Post.State.SCHEDULED, Post.State.PUBLISHED)


def _require(membership: Membership | None, row=None) -> None:
    if membership is None or not allowed(membership.role, MANAGE):
        raise NotAllowed(_("Your role may not change ad campaigns."))
    workspace_id = getattr(row, "workspace_id", None) if row is not None else None
    if row is not None and workspace_id is None and hasattr(row, "campaign"):
        workspace_id = row.campaign.workspace_id
    if row is not None and workspace_id != membership.workspace_id:
        raise NotAllowed(_("This belongs to another workspace."))


# --- input ---------------------------------------------------------------------------------------------


def _common(form: Form, platforms) -> None:
    form.text("name", 120, required=True)
    form.choice("platform", platforms)
    for name in ("daily_budget", "monthly_budget", "target_cpa"):
        form.money(name)
    form.text("erid", 120)
    form.text("advertiser", 200)


def _utm_for(workspace, name: str) -> str:
    """A slug of the name not yet used by another campaign of the workspace."""
    base = slug_of(name)[:100].strip("-") or "campaign"
    taken = set(
        Campaign.objects.filter(workspace=workspace, utm_campaign__startswith=base).values_list(
            "utm_campaign", flat=True
        )
    )
    found, n = base, 2
    while found in taken:
        found, n = f"{base}-{n}", n + 1
    return found


def _name_taken(workspace, name: str, exclude: int | None = None) -> bool:
    return Campaign.objects.filter(workspace=workspace, name=name).exclude(pk=exclude).exists()


def _campaign(membership: Membership, form: Form, kind: str, **fields) -> Campaign:
    workspace = membership.workspace
    profile = getattr(workspace, "profile", None)
    cleaned = form.cleaned
    return Campaign.objects.create(
        workspace=workspace,
        kind=kind,
        name=cleaned["name"],
        platform=cleaned["platform"],
        currency=profile.currency if profile else "RUB",
        daily_budget=cleaned["daily_budget"],
        monthly_budget=cleaned["monthly_budget"],
        target_cpa=cleaned["target_cpa"],
        erid=cleaned["erid"],
        # Russian labelling names the advertiser; the business itself unless an agency says otherwise.
        advertiser=cleaned["advertiser"] or (profile.name if profile else ""),
        utm_campaign=_utm_for(workspace, cleaned["name"]),
        created_by=membership,
        **fields,
    )


def _save(build):
    try:
        with transaction.atomic():
            return build()
    except IntegrityError:
        raise InvalidInput([("name", _("There is already a campaign with this name."))]) from None


# --- targeting -----------------------------------------------------------------------------------------


def _creative_from(post: Post) -> tuple[str, MediaAsset | None]:
    variant = post.variants.order_by("pk").first()
    if variant is None:
        return "", None
    image = variant.media.filter(kind=MediaAsset.Kind.IMAGE).order_by("pk").first()
    return variant.text, image


def _fresh_text(workspace, aim) -> str:
    profile = getattr(workspace, "profile", None)
    language = (profile.languages or [None])[0] if profile and isinstance(profile.languages, list) else None
    with translation.override(language):
        services = ", ".join(aim.services[:3])
        where = f"{aim.city}, {', '.join(aim.districts)}" if aim.districts else aim.city
        return capitalized(
            " ".join(
                part
                for part in (
                    f"{services}." if services else "",
                    where + "." if where else "",
                    _("Book online") + ".",
                )
                if part
            )
        )


def create_targeting(membership: Membership, data: dict) -> Campaign:
    """A targeting campaign from a saved segment: {"name", "platform" (vk/telegram/meta), "segment" (id),
    "daily_budget"?, "monthly_budget"?, "radius_km"?, "post"? (an approved or published post whose text
    and first image become the creative), "title"?, "text"?, "erid"?, "advertiser"?, "target_cpa"?}."""
    _require(membership)
    workspace = membership.workspace
    form = Form(data)
    _common(form, TARGETING_PLATFORMS)
    form.radius("radius_km")
    title_size, text_size = building.CREATIVE_LIMITS.get(form.data.get("platform"), (200, 10000))
    form.text("title", title_size)
    form.text("text", text_size)
    segment = form.row("segment", Segment, workspace)
    post = None
    if form.given("post") and form.data["post"] != "":
        post = form.row("post", Post, workspace)
        if post is not None and post.state not in CREATIVE_POST_STATES:
            form.errors.append(("post", _("Only an approved or published post can become an ad.")))
    if "name" in form.cleaned and _name_taken(workspace, form.cleaned["name"]):
        form.errors.append(("name", _("There is already a campaign with this name.")))
    form.raise_if_errors()
    aim = targeting_for(segment)
    text, image = _creative_from(post) if post else ("", None)
    # A post is longer than a creative may be: cut it to fit; a fresh creative names the services.
    text = form.cleaned["text"] or clip(text, text_size) or _fresh_text(workspace, aim)
    title = clip(form.cleaned["title"] or (post.title if post else "") or form.cleaned["name"], title_size)

    def build():
        campaign = _campaign(
            membership,
            form,
            Kind.TARGETING,
            segment=segment,
            city=aim.city,
            districts=list(aim.districts),
            radius_km=form.cleaned["radius_km"],
            gender=aim.gender or "",
            age_min=aim.age_min,
            age_max=aim.age_max,
            interests=list(aim.interests),
        )
        Ad.objects.create(
            campaign=campaign,
            title=title,
            text=text,
            image=image,
            post=post,
        )
        return campaign

    return _save(build)


# --- contextual ----------------------------------------------------------------------------------------


def _public_base(base_url: str | None) -> str:
    return (base_url or settings.SMMDESK_PUBLIC_URL or "").rstrip("/")


def create_contextual(membership: Membership, data: dict, base_url: str | None = None) -> Campaign:
    """A contextual campaign from keyword clusters: {"name", "platform" (yandex/google), "clusters": [ids],
    "daily_budget"?, "monthly_budget"?, "target_cpa"?, "erid"?, "advertiser"?}. One ad group per cluster,
    landing on the cluster's page (SMMDESK_PUBLIC_URL, or `base_url`, + /site/<ws>/<page>/ + UTM tags)."""
    _require(membership)
    workspace = membership.workspace
    form = Form(data)
    _common(form, CONTEXTUAL_PLATFORMS)
    ids = form.data.get("clusters")
    clusters: list[Cluster] = []
    if not isinstance(ids, list) or not ids:
        form.errors.append(("clusters", _("Choose at least one keyword cluster.")))
    elif len(ids) > MAX_CLUSTERS:
        form.errors.append(("clusters", _("At most %(count)d clusters.") % {"count": MAX_CLUSTERS}))
    elif any(isinstance(i, bool) or not isinstance(i, int | str) or not str(i).isdigit() for i in ids):
        form.errors.append(("clusters", _("Must be a list of ids.")))
    else:
        wanted = list(dict.fromkeys(int(i) for i in ids))
        found = {
            c.pk: c
            for c in Cluster.objects.filter(workspace=workspace, pk__in=wanted).select_related(
                "main", "service", "workspace__profile"
            )
        }
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            form.errors.append(
                ("clusters", _("No such cluster in this workspace: %(ids)s.") % {"ids": ", ".join(missing)})
            )
        clusters = [found[i] for i in wanted if i in found]
    pages = {p.cluster_id: p for p in Page.objects.filter(workspace=workspace, cluster__in=clusters)}
    for cluster in clusters:
        if cluster.pk not in pages:
            form.errors.append(
                ("clusters", _("The cluster “%(name)s” has no landing page yet.") % {"name": cluster.name})
            )
    base = _public_base(base_url)
    if clusters and not base:
        form.errors.append(
            ("clusters", _("Set SMMDESK_PUBLIC_URL: the ads link to the public landing pages."))
        )
    if "name" in form.cleaned and _name_taken(workspace, form.cleaned["name"]):
        form.errors.append(("name", _("There is already a campaign with this name.")))
    form.raise_if_errors()
    site = list(Page.objects.filter(workspace=workspace, published=True).select_related("workspace"))

    def build():
        campaign = _campaign(membership, form, Kind.CONTEXTUAL)
        platform, utm = campaign.platform, campaign.utm_campaign
        for position, cluster in enumerate(clusters):
            page = pages[cluster.pk]
            group = AdGroup.objects.create(
                campaign=campaign,
                name=cluster.name[:120],
                cluster=cluster,
                final_url=building.final_url(base, page, platform, utm),
                negative_keywords=building.negatives_for(workspace, cluster.language),
                position=position,
            )
            AdKeyword.objects.bulk_create(
                AdKeyword(ad_group=group, text=k.text, match_type=k.match_type)
                for k in building.keywords_for(cluster, platform)
            )
            spec = building.ad_for(cluster, page, site, platform, base, utm)
            Ad.objects.create(
                campaign=campaign,
                ad_group=group,
                headlines=spec.headlines,
                descriptions=spec.descriptions,
                path1=spec.path1,
                path2=spec.path2,
                sitelinks=spec.sitelinks,
                final_url=group.final_url,
            )
        return campaign

    return _save(build)


# --- changes -------------------------------------------------------------------------------------------

NUMBER_ASSUMPTION = (int, float)


def _assumptions(form: Form) -> None:
    """The planner's assumptions this campaign overrides: {key: non-negative number}."""
    value = form.data["assumptions"] or {}
    if not isinstance(value, dict) or any(k not in planner.ASSUMPTION_KEYS for k in value):
        form.errors.append(
            ("assumptions", _("Use only: %(keys)s.") % {"keys": ", ".join(planner.ASSUMPTION_KEYS)})
        )
        return
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, NUMBER_ASSUMPTION) or not 0 <= number <= 1e9:
            form.errors.append((f"assumptions.{key}", _("Must be a non-negative number.")))
        elif key in planner.RATE_KEYS and number > 1:
            form.errors.append((f"assumptions.{key}", _("A rate is a share between 0 and 1 (0.05 is 5 %).")))
    form.cleaned["assumptions"] = value


def update_campaign(membership: Membership, campaign: Campaign, data: dict) -> Campaign:
    """Change what is given of: name, daily_budget, monthly_budget, assumptions ({name: number}),
    target_cpa, starts_on, ends_on, status, erid, advertiser."""
    _require(membership, campaign)
    form = Form(data)
    for name in ("daily_budget", "monthly_budget", "target_cpa"):
        if name in form.data:
            form.money(name)
    for name in ("starts_on", "ends_on"):
        if name in form.data:
            form.day(name)
    if form.given("name"):
        form.text("name", 120, required=True)
        if "name" in form.cleaned and _name_taken(campaign.workspace, form.cleaned["name"], campaign.pk):
            form.errors.append(("name", _("There is already a campaign with this name.")))
    if form.given("status"):
        form.choice("status", Campaign.Status.values)
    for name, size in (("erid", 120), ("advertiser", 200)):
        if name in form.data:
            form.text(name, size)
    if "assumptions" in form.data:
        _assumptions(form)
    starts = form.cleaned.get("starts_on", campaign.starts_on)
    ends = form.cleaned.get("ends_on", campaign.ends_on)
    if starts and ends and ends < starts:
        form.errors.append(("ends_on", _("The end is before the start.")))
    form.raise_if_errors()
    if not form.cleaned:
        return campaign
    for name, value in form.cleaned.items():
        setattr(campaign, name, value)
    _save(lambda: campaign.save(update_fields=list(form.cleaned)))
    return campaign


def _text_list(form: Form, name: str, sizes: list[int]) -> None:
    """A list of texts, the n-th within the n-th size (Direct's second title is shorter than its first)."""
    value = form.data.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        form.errors.append((name, _("Must be a list of texts.")))
        return
    cleaned = [v.strip() for v in value if v.strip()]
    if len(cleaned) > len(sizes):
        form.errors.append((name, _("At most %(count)d texts.") % {"count": len(sizes)}))
        return
    for index, text in enumerate(cleaned):
        if len(text) > sizes[index]:
            form.errors.append(
                (f"{name}.{index}", _("At most %(count)d characters.") % {"count": sizes[index]})
            )
    form.cleaned[name] = cleaned


SITELINK_PARTS = ("text", "url", "description", "description2")


def _sitelinks(form: Form, platform: str) -> None:
    """[{text, url, description, description2 (Google's second line)}] within the platform's rules
    (limits.sitelink_problems); each problem named as sitelinks.<n>.<part>."""
    value = form.data.get("sitelinks")
    if not isinstance(value, list) or not all(isinstance(link, dict) for link in value):
        form.errors.append(("sitelinks", _("Must be a list of sitelinks with text and url.")))
        return
    parts = SITELINK_PARTS if platform == Platform.GOOGLE_ADS else SITELINK_PARTS[:3]
    cleaned = []
    for link in value:
        if any(not isinstance(link.get(part) or "", str) for part in parts):
            form.errors.append(("sitelinks", _("Each part of a sitelink must be text.")))
            return
        cleaned.append({part: " ".join((link.get(part) or "").split()) for part in parts})
    for index, part, message in limits.sitelink_problems(platform, cleaned):
        form.errors.append((f"sitelinks.{index}.{part}" if index is not None else "sitelinks", message))
    form.cleaned["sitelinks"] = cleaned


def update_ad(membership: Membership, ad: Ad, data: dict) -> Ad:
    """Change what is given of: headlines, descriptions, path1, path2, sitelinks (contextual ads, within
    the platform's limits), title, text, final_url."""
    campaign = ad.campaign
    _require(membership, campaign)
    form = Form(data)
    platform = campaign.platform
    if platform in building.LIMITS:
        for name in ("headlines", "descriptions"):
            if name in form.data:
                _text_list(form, name, building.limit(platform, name))
        for name in ("path1", "path2"):
            if name in form.data:
                form.text(name, building.limit(platform, "path"))
        if "sitelinks" in form.data:
            _sitelinks(form, platform)
    title_size, text_size = building.CREATIVE_LIMITS.get(platform, (200, 10000))
    if "title" in form.data:
        form.text("title", title_size)
    if "text" in form.data:
        form.text("text", text_size)
    if "final_url" in form.data:
        form.text("final_url", 1000)
        url = form.cleaned.get("final_url", "")
        if url and not limits.http_url(url):
            form.errors.append(("final_url", _("Must be an http(s) address.")))
    form.raise_if_errors()
    if form.cleaned:
        for name, value in form.cleaned.items():
            setattr(ad, name, value)
        ad.save(update_fields=list(form.cleaned))
    return ad


def delete_campaign(membership: Membership, campaign: Campaign) -> None:
    """The campaign, its ad groups, keywords and ads; imported statistics stay, unlinked."""
    _require(membership, campaign)
    Campaign.objects.filter(pk=campaign.pk, workspace_id=membership.workspace_id).delete()


__all__ = [
    "AdsError",
    "InvalidInput",
    "NotAllowed",
    "Platform",
    "create_contextual",
    "create_targeting",
    "delete_campaign",
    "update_ad",
    "update_campaign",
]
