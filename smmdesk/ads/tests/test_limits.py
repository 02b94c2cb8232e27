"""Every platform limit: at the limit it passes, one character (or item) over it is reported, naming
the platform, field and ad or keyword, with the right severity."""

import pytest

from smmdesk.ads import limits
from smmdesk.ads.models import Platform

from . import builders

G, Y, VK, TG, META = (
    Platform.GOOGLE_ADS,
    Platform.YANDEX_DIRECT,
    Platform.VK_ADS,
    Platform.TELEGRAM_ADS,
    Platform.META,
)


def problems_for(workspace, platform, with_group=True, keywords=("стрижка мужская",), **ad_fields):
    campaign = builders.campaign(workspace, platform)
    ad_group = builders.group(campaign) if with_group else None
    for text in keywords if with_group else ():
        builders.keyword(ad_group, text)
    builders.ad(campaign, ad_group, **ad_fields)
    return limits.check(campaign)


def fields(problems, severity=limits.ERROR):
    return {p.field for p in problems if p.severity == severity}


def three(first):
    return [first, "Запись онлайн", "Ленинский район"]


def sized(n, letter="з"):
    """n characters of short words: Direct also limits the length of each word."""
    text = ((letter * 9 + " ") * n)[:n]
    return text[:-1] + letter if text.endswith(" ") else text


CASES = [
    # (platform, field reported, ad fields at the limit, ad fields over it)
    (G, "headline 1", {"headlines": three("ж" * 30)}, {"headlines": three("ж" * 31)}),
    (G, "description 2", {"descriptions": ["Да.", "д" * 90]}, {"descriptions": ["Да.", "д" * 91]}),
    (G, "path 1", {"path1": "p" * 15}, {"path1": "p" * 16}),
    (G, "path 2", {"path2": "p" * 15}, {"path2": "p" * 16}),
    (G, "headlines", {"headlines": [f"Заголовок {n}" for n in range(15)]}, {"headlines": ["Один", "Два"]}),
    (G, "headlines", {"headlines": three("x")}, {"headlines": [f"Заголовок {n}" for n in range(16)]}),
    (G, "descriptions", {"descriptions": ["a", "b", "c", "d"]}, {"descriptions": ["a", "b", "c", "d", "e"]}),
    (G, "descriptions", {"descriptions": ["a", "b"]}, {"descriptions": ["a"]}),
    (
        G,
        "sitelink text",
        {"sitelinks": [{"text": "s" * 25, "url": builders.URL}]},
        {"sitelinks": [{"text": "s" * 26}]},
    ),
    (Y, "title 1", {"headlines": [sized(56), "Запись"]}, {"headlines": [sized(57), "Запись"]}),
    (Y, "title 2", {"headlines": ["Стрижка", sized(30)]}, {"headlines": ["Стрижка", sized(31)]}),
    (Y, "title 1", {"headlines": ["Стрижка"]}, {"headlines": []}),
    (Y, "text", {"descriptions": [sized(81, "т")]}, {"descriptions": [sized(82, "т")]}),
    (Y, "display link", {"path1": "l" * 20}, {"path1": "l" * 21}),
    (Y, "sitelinks", {"sitelinks": [{"text": "s"}] * 8}, {"sitelinks": [{"text": "s"}] * 9}),
    (
        Y,
        "sitelink text",
        {"sitelinks": [{"text": sized(30, "s")}]},
        {"sitelinks": [{"text": sized(31, "s")}]},
    ),
    (
        Y,
        "sitelink description",
        {"sitelinks": [{"text": "s", "description": sized(60, "d")}]},
        {"sitelinks": [{"text": "s", "description": sized(61, "d")}]},
    ),
    (VK, "title", {"title": "з" * 40}, {"title": "з" * 41}),
    (VK, "text", {"text": "т" * 220}, {"text": "т" * 221}),
    (TG, "text", {"text": "т" * 160}, {"text": "т" * 161}),
]


@pytest.mark.parametrize(("platform", "field", "at_limit", "over"), CASES)
def test_a_limit_passes_at_the_limit_and_fails_over_it(cast, platform, field, at_limit, over):
    targeting = platform in (VK, TG)
    assert field not in fields(problems_for(cast.workspace, platform, not targeting, **at_limit))
    reported = [p for p in problems_for(cast.workspace, platform, not targeting, **over) if p.field == field]
    assert [p.severity for p in reported] == [limits.ERROR]
    assert reported[0].platform == platform
    assert reported[0].item == "ad 1"


@pytest.mark.parametrize(
    ("platform", "field", "at_limit", "over"),
    [
        (VK, "text", {"text": "т" * 90}, {"text": "т" * 91}),
        (META, "primary text", {"text": "т" * 125}, {"text": "т" * 126}),
        (META, "headline", {"title": "з" * 40}, {"title": "з" * 41}),
    ],
)
def test_recommended_lengths_only_warn(cast, platform, field, at_limit, over):
    assert field not in fields(problems_for(cast.workspace, platform, False, **at_limit), limits.WARNING)
    problems = problems_for(cast.workspace, platform, False, **over)
    assert field in fields(problems, limits.WARNING)
    assert field not in fields(problems)


def test_the_message_gives_the_length_the_limit_and_the_text(cast):
    (problem,) = [
        p for p in problems_for(cast.workspace, G, headlines=three("ж" * 31)) if p.field == "headline 1"
    ]
    assert "31" in problem.message and "30" in problem.message and "ж" * 31 in problem.message
    assert str(problem).startswith("[error] google ad 1: headline 1:")


def test_direct_keywords_have_at_most_seven_words(cast):
    seven, eight = "а б в г д е ж", "а б в г д е ж з"
    problems = problems_for(cast.workspace, Y, keywords=[seven, eight])
    reported = [p for p in problems if p.field == "keyword"]
    assert [p.item for p in reported] == [f"keyword «{eight}»"]


def test_google_keywords_have_at_most_ten_words_and_80_characters(cast):
    long_words = " ".join(["слово"] * 11)
    problems = problems_for(cast.workspace, G, keywords=["а" * 80, "б" * 81, long_words])
    reported = {p.item for p in problems if p.field == "keyword"}
    assert reported == {f"keyword «{long_words}»", f"keyword «{'б' * 81}»"}


def test_a_contextual_ad_needs_a_final_url(cast):
    campaign = builders.campaign(cast.workspace, G)
    builders.ad(campaign)  # no ad group, no URL of its own
    assert "final URL" in fields(limits.check(campaign))
    with_url = builders.campaign(cast.workspace, Y, name="другая", utm_campaign="other")
    builders.ad(with_url, final_url=builders.URL)
    assert "final URL" not in fields(limits.check(with_url))


def test_a_campaign_without_ads_is_an_error_and_a_group_without_keywords_a_warning(cast):
    campaign = builders.campaign(cast.workspace, G)
    builders.group(campaign, name="Пустая")
    problems = limits.check(campaign)
    assert "ads" in fields(problems)
    assert any(
        "Пустая" in p.message for p in problems if p.severity == limits.WARNING and p.field == "keywords"
    )


@pytest.mark.parametrize("platform", [VK, TG])
def test_russian_targeting_needs_the_advertiser_and_warns_without_erid(cast, platform):
    campaign = builders.campaign(cast.workspace, platform, advertiser="", erid="")
    builders.ad(campaign)
    problems = limits.check(campaign)
    assert "advertiser" in fields(problems)
    assert "ERID" in fields(problems, limits.WARNING)
    campaign.advertiser, campaign.erid = "ИП Локонова", "2Vtzq"
    campaign.save()
    assert not {"advertiser", "ERID"} & {p.field for p in limits.check(campaign)}


@pytest.mark.parametrize("platform", [G, Y, META])
def test_other_platforms_need_no_russian_label(cast, platform):
    campaign = builders.campaign(cast.workspace, platform, advertiser="", erid="")
    builders.ad(campaign, builders.group(campaign))
    assert not {"advertiser", "ERID"} & {p.field for p in limits.check(campaign)}


def test_the_label_names_the_advertiser(cast):
    campaign = builders.campaign(cast.workspace, VK, advertiser="ИП Локонова")
    assert limits.ad_label(campaign) == "Реклама. ИП Локонова"


def test_a_clean_campaign_has_no_errors(cast):
    for platform in (G, Y):
        campaign = builders.campaign(cast.workspace, platform)
        ad_group = builders.group(campaign)
        builders.keyword(ad_group, "мужская стрижка")
        builders.ad(campaign, ad_group)
        assert limits.errors(limits.check(campaign)) == []


def test_direct_limits_the_length_of_each_word(cast):
    fine = {"headlines": ["а" * 22, "б" * 22], "descriptions": ["в" * 23]}
    assert not {"title 1", "title 2", "text"} & fields(problems_for(cast.workspace, Y, **fine))
    over = {"headlines": ["а" * 23, "Запись " + "б" * 23], "descriptions": ["Мастер " + "в" * 24]}
    problems = [
        p for p in problems_for(cast.workspace, Y, **over) if p.field in ("title 1", "title 2", "text")
    ]
    assert sorted(p.field for p in problems) == ["text", "title 1", "title 2"]
    assert all("longer than" in p.message for p in problems)
    keyword = "к" * 36
    reported = [
        p for p in problems_for(cast.workspace, Y, keywords=["к" * 35, keyword]) if p.field == "keyword"
    ]
    assert [p.item for p in reported] == [f"keyword «{keyword}»"]


@pytest.mark.parametrize(
    ("path", "ok"), [("strizhka-№1/50%#", True), ("стрижка", True), ("cut_here", False), ("a.b", False)]
)
def test_direct_display_link_takes_letters_digits_and_few_signs(cast, path, ok):
    reported = "display link" in fields(problems_for(cast.workspace, Y, path1=path))
    assert reported is not ok


def link(text, **parts):
    return {"text": text, "url": builders.URL.format(p="yandex"), **parts}


def test_direct_sitelink_texts_of_each_four_add_up_to_at_most_66(cast):
    at_limit = [link(sized(16, "а")), link(sized(16, "б")), link(sized(16, "в")), link(sized(18, "г"))]
    assert "sitelinks" not in fields(problems_for(cast.workspace, Y, sitelinks=at_limit + at_limit))
    over = at_limit[:3] + [link(sized(19, "г"))]
    (problem,) = [
        p for p in problems_for(cast.workspace, Y, sitelinks=at_limit + over) if p.field == "sitelinks"
    ]
    assert "5–8" in problem.message and "67" in problem.message and "66" in problem.message


@pytest.mark.parametrize("sign", ["!", "?", "[", "]"])
def test_direct_sitelinks_refuse_some_signs(cast, sign):
    problems = problems_for(cast.workspace, Y, sitelinks=[link(f"Цены{sign}", description=f"Скидки{sign}")])
    assert {"sitelink text", "sitelink description"} <= fields(problems)
    assert not {"sitelink text", "sitelink description"} & fields(
        problems_for(cast.workspace, Y, sitelinks=[link("Цены", description="Скидки, акции.")])
    )


def test_google_sitelinks_take_both_description_lines_or_neither(cast):
    def reported(**parts):
        problems = problems_for(cast.workspace, G, sitelinks=[link("Цены", **parts)])
        return fields(problems) & {"sitelink description", "sitelink description 2"}

    assert reported() == set()
    assert reported(description="Стрижки от 600 ₽", description2="Запись онлайн") == set()
    assert reported(description="Стрижки от 600 ₽") == {"sitelink description 2"}
    assert reported(description2="Запись онлайн") == {"sitelink description"}
    assert reported(description="д" * 35, description2="д" * 36) == {"sitelink description 2"}


@pytest.mark.parametrize(
    "url", ["", "ftp://example.test/", "javascript:alert(1)", "https://", "https://a b.test/"]
)
def test_a_sitelink_needs_an_http_address(cast, url):
    for platform in (G, Y):
        problems = problems_for(cast.workspace, platform, sitelinks=[{"text": "Цены", "url": url}])
        assert "sitelink URL" in fields(problems)
