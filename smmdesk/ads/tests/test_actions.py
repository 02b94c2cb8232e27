"""Building campaigns: targeting from a segment, contextual from clusters with pages; UTM tags, negative
keywords, platform limits, permissions and other workspaces' objects."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from smmdesk.ads import actions, building, limits
from smmdesk.ads.models import Ad, AdGroup, AdKeyword, Campaign, MatchType
from smmdesk.ads.tests.a3_fixtures import *  # noqa: F403
from smmdesk.ads.tests.a3_fixtures import member
from smmdesk.audience.models import Segment
from smmdesk.channels.actions import create_channel
from smmdesk.keywords.models import Cluster
from smmdesk.keywords.normalize import DEFAULT_NEGATIVES
from smmdesk.publishing.models import Post, Variant
from smmdesk.sites.models import Page


def _fields(error: actions.InvalidInput) -> set[str]:
    return {field for field, _message in error.errors}


def _contextual(built, platform="google", name="Search", **extra):
    ids = [c.pk for c in built["clusters"]]
    return actions.create_contextual(
        built["owner"], {"name": name, "platform": platform, "clusters": ids, **extra}
    )


def test_targeting_copies_the_segment(built):
    campaign = actions.create_targeting(
        built["owner"],
        {"name": "Женщины осень", "platform": "vk", "segment": built["segment"].pk, "daily_budget": "500",
         "radius_km": 3, "text": "Скидка 10%"},
    )  # fmt: skip
    assert campaign.kind == "targeting" and campaign.platform == "vk"
    assert campaign.city == "Оренбург" and campaign.districts == ["Ленинский"]
    assert (campaign.gender, campaign.age_min, campaign.age_max) == ("female", 25, 44)
    assert "Женская стрижка" in campaign.interests
    assert campaign.daily_budget == Decimal("500.00") and campaign.radius_km == Decimal("3.0")
    assert campaign.utm_campaign == "zhenshchiny-osen"
    ad = campaign.ads.get()
    assert ad.text == "Скидка 10%" and ad.title == "Женщины осень"


def test_targeting_creative_from_a_post_needs_an_approved_one(built):
    post = Post.objects.create(workspace=built["workspace"], title="Autumn", state=Post.State.DRAFT)
    data = {"name": "From post", "platform": "telegram", "segment": built["segment"].pk, "post": post.pk}
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_targeting(built["owner"], data)
    assert _fields(refused.value) == {"post"}
    Post.objects.filter(pk=post.pk).update(state=Post.State.PUBLISHED)
    campaign = actions.create_targeting(built["owner"], data)
    assert campaign.ads.get().post_id == post.pk and campaign.ads.get().title == "Autumn"


def test_refusals_name_every_field_and_write_nothing(built):
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_targeting(
            built["owner"],
            {"name": "", "platform": "yandex", "segment": "x", "daily_budget": "abc", "radius_km": -1},
        )
    assert _fields(refused.value) == {"name", "platform", "segment", "daily_budget", "radius_km"}
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_contextual(built["owner"], {"name": "C", "platform": "vk", "clusters": []})
    assert _fields(refused.value) == {"platform", "clusters"}
    assert not Campaign.objects.exists()


def test_utm_is_unique_and_names_are_too(built):
    first = _contextual(built, name="Стрижки")
    Campaign.objects.filter(pk=first.pk).update(name="Old")
    second = _contextual(built, name="Стрижки")
    assert first.utm_campaign == "strizhki" and second.utm_campaign == "strizhki-2"
    with pytest.raises(actions.InvalidInput) as refused:
        _contextual(built, name="Стрижки")
    assert _fields(refused.value) == {"name"}


def test_contextual_groups_urls_keywords_and_negatives(built):
    campaign = _contextual(built, platform="google")
    groups = list(campaign.ad_groups.all())
    assert [g.cluster_id for g in groups] == [c.pk for c in built["clusters"]]
    page = Page.objects.get(cluster=built["clusters"][0])
    url = urlsplit(groups[0].final_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"https://smm.example/site/salon/{page.slug}/"
    assert parse_qs(url.query) == {
        "utm_source": ["google"], "utm_medium": ["cpc"], "utm_campaign": [campaign.utm_campaign],
    }  # fmt: skip
    keywords = {(k.text, k.match_type) for k in AdKeyword.objects.filter(ad_group=groups[0])}
    main = built["clusters"][0].main.query
    assert (main, MatchType.EXACT) in keywords and (main, MatchType.PHRASE) in keywords
    assert ("женская стрижка оренбург", MatchType.PHRASE) in keywords
    assert len(keywords) == len(AdKeyword.objects.filter(ad_group=groups[0]))
    negatives = groups[0].negative_keywords
    assert "бесплатно" in negatives
    assert set(DEFAULT_NEGATIVES["ru"]) - {"бесплатно"} <= set(negatives)
    assert len(negatives) == len({n.casefold() for n in negatives})


def test_excluded_queries_and_yandex_operators_are_left_out(built):
    c1 = built["clusters"][0]
    c1.keywords.exclude(pk=c1.main_id).update(excluded=True)
    c1.keywords.filter(pk=c1.main_id).update(query="+женская !стрижка в ленинском районе -курсы")
    campaign = _contextual(built, platform="yandex")
    texts = set(
        AdKeyword.objects.filter(ad_group__cluster=c1, ad_group__campaign=campaign).values_list(
            "text", flat=True
        )
    )
    assert texts == {"женская стрижка в ленинском районе"}


@pytest.mark.parametrize("platform", ["google", "yandex"])
def test_ads_fit_the_platform_limits(built, platform):
    campaign = _contextual(built, platform=platform)
    for ad in Ad.objects.filter(campaign=campaign):
        assert ad.headlines and ad.descriptions and ad.path1
        sizes = building.limit(platform, "headlines")
        assert len(ad.headlines) <= len(sizes)
        assert all(len(h) <= size for h, size in zip(ad.headlines, sizes, strict=False))
        sizes = building.limit(platform, "descriptions")
        assert all(len(d) <= size for d, size in zip(ad.descriptions, sizes, strict=False))
        assert len(ad.path1) <= building.limit(platform, "path") and len(ad.path2) <= building.limit(
            platform, "path"
        )
        assert 1 <= len(ad.sitelinks) <= 4
        assert all(link["url"].startswith("https://smm.example/site/salon/") for link in ad.sitelinks)
        assert ad.final_url not in [link["url"] for link in ad.sitelinks]
        assert all(len(link["text"]) <= building.limit(platform, "sitelink_text") for link in ad.sitelinks)
    assert limits.errors(limits.check(campaign)) == []


@pytest.mark.parametrize("platform", ["vk", "telegram", "meta"])
def test_a_long_post_becomes_a_creative_within_limits(built, platform):
    post = Post.objects.create(workspace=built["workspace"], title="T" * 60, state=Post.State.APPROVED)
    channel = create_channel(built["workspace"], "fake", "VK", {"account_id": "a1", "api_token": "t"})
    Variant.objects.create(post=post, channel=channel, text="Очень длинный текст поста. " * 30)
    campaign = actions.create_targeting(
        built["owner"], {"name": "P", "platform": platform, "segment": built["segment"].pk, "post": post.pk}
    )
    assert campaign.ads.get().text.startswith("Очень длинный текст поста.")
    assert limits.errors(limits.check(campaign)) == []


def test_a_fresh_creative_names_the_segments_services(built):
    campaign = actions.create_targeting(
        built["owner"], {"name": "F", "platform": "vk", "segment": built["segment"].pk}
    )
    assert "Женская стрижка" in campaign.ads.get().text
    assert campaign.advertiser == built["workspace"].profile.name
    assert limits.errors(limits.check(campaign)) == []


def test_a_cluster_without_a_page_is_named(built):
    lonely = Cluster.objects.create(workspace=built["workspace"], name="стрижка налысо", language="ru")
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_contextual(
            built["owner"], {"name": "X", "platform": "google", "clusters": [lonely.pk]}
        )
    assert refused.value.errors[0][0] == "clusters" and "стрижка налысо" in refused.value.errors[0][1]


def test_roles_and_other_workspaces(built):
    cast = built["cast"]
    data = {"name": "N", "platform": "vk", "segment": built["segment"].pk}
    with pytest.raises(actions.NotAllowed):
        actions.create_targeting(member(cast, "content_manager"), data)
    actions.create_targeting(member(cast, "smm_manager"), data)
    foreign = Segment.objects.create(workspace=cast.other, name="Theirs")
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_targeting(built["owner"], {**data, "name": "M", "segment": foreign.pk})
    assert _fields(refused.value) == {"segment"}
    foreign_cluster = Cluster.objects.create(workspace=cast.other, name="theirs", language="ru")
    with pytest.raises(actions.InvalidInput):
        actions.create_contextual(
            built["owner"], {"name": "Q", "platform": "google", "clusters": [foreign_cluster.pk]}
        )
    theirs = Campaign.objects.create(
        workspace=cast.other, name="T", kind="targeting", platform="vk", utm_campaign="t"
    )
    for call in (
        lambda: actions.update_campaign(built["owner"], theirs, {"name": "Mine"}),
        lambda: actions.delete_campaign(built["owner"], theirs),
    ):
        with pytest.raises(actions.NotAllowed):
            call()
    assert Campaign.objects.filter(pk=theirs.pk, name="T").exists()


def test_update_campaign_and_ad(built):
    campaign = _contextual(built, platform="google")
    actions.update_campaign(
        built["owner"], campaign,
        {"monthly_budget": "15000", "assumptions": {"ctr": 0.03}, "starts_on": "2026-12-01", "status": "ready"},
    )  # fmt: skip
    campaign.refresh_from_db()
    assert campaign.monthly_budget == Decimal("15000.00") and campaign.assumptions == {"ctr": 0.03}
    assert campaign.status == "ready"
    with pytest.raises(actions.InvalidInput) as refused:
        actions.update_campaign(built["owner"], campaign, {"ends_on": "2026-11-01", "status": "bogus"})
    assert _fields(refused.value) == {"ends_on", "status"}
    ad = campaign.ads.first()
    with pytest.raises(actions.InvalidInput) as refused:
        actions.update_ad(built["owner"], ad, {"headlines": ["x" * 31], "path1": "y" * 16})
    assert _fields(refused.value) == {"headlines.0", "path1"}
    actions.update_ad(built["owner"], ad, {"headlines": ["Стрижка", "Запись онлайн"]})
    ad.refresh_from_db()
    assert ad.headlines == ["Стрижка", "Запись онлайн"]


def test_delete_campaign_removes_its_parts(built):
    campaign = _contextual(built)
    actions.delete_campaign(built["owner"], campaign)
    assert not Campaign.objects.exists() and not AdGroup.objects.exists() and not Ad.objects.exists()


@pytest.mark.parametrize("platform", ["google", "yandex"])
def test_sitelinks_from_long_page_titles_keep_the_platform_rules(built, platform):
    for n in range(4):  # enough pages for four sitelinks per ad
        Page.objects.create(
            workspace=built["workspace"], slug=f"extra-{n}", language="ru", title="x", description="x",
            h1="x", intro="x", published=True,
        )  # fmt: skip
    for n, page in enumerate(Page.objects.filter(workspace=built["workspace"])):
        page.h1 = f"Стрижки и укладки для всех {n}!"  # 30 characters with Direct's forbidden sign
        page.description = "Мастера с опытом, запись онлайн, скидка на первый визит и удобная парковка рядом."
        page.save()
    campaign = _contextual(built, platform=platform)
    assert limits.errors(limits.check(campaign)) == []
    for ad in campaign.ads.all():
        assert ad.sitelinks
        if platform == "yandex":
            assert 1 < len(ad.sitelinks) < 4  # 29-character texts: only two fit in 66
            assert sum(len(link["text"]) for link in ad.sitelinks[:4]) <= 66
            assert not any("!" in link["text"] for link in ad.sitelinks)
        else:
            assert len(ad.sitelinks) == 4
            assert all(link["description"] and link["description2"] for link in ad.sitelinks)
            assert all(len(link["description2"]) <= 35 for link in ad.sitelinks)
