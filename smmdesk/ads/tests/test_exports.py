"""Every exporter round-trips through our parser: exact header names, encoding and separator checked on
the raw bytes, then every field compared with the campaign in the database."""

import io
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from smmdesk.ads import parsers
from smmdesk.ads.cli import ads as ads_cli
from smmdesk.ads.exports import ExportError, export
from smmdesk.ads.models import MatchType, Platform

from . import builders

GOOGLE_HEADERS = (
    ["Campaign", "Campaign Type", "Networks", "Campaign Daily Budget", "Campaign Status", "Location"]
    + ["Ad Group", "Max CPC", "Keyword", "Criterion Type", "Ad type"]
    + [f"Headline {n}" for n in range(1, 16)]
    + [f"Description {n}" for n in range(1, 5)]
    + ["Path 1", "Path 2", "Final URL", "Link text", "Description line 1", "Description line 2"]
)
DIRECT_HEADERS = [
    "Доп. объявление группы",
    "Тип объявления",
    "Номер группы",
    "Название группы",
    "Фраза (с минус-словами)",
    "Ставка",
    "Заголовок 1",
    "Заголовок 2",
    "Текст",
    "Ссылка",
    "Отображаемая ссылка",
    "Регион",
    "Заголовки быстрых ссылок",
    "Описания быстрых ссылок",
    "Адреса быстрых ссылок",
    "Минус-фразы на группу",
]
SITELINKS = [
    {"text": "Цены", "description": "Стрижки от 600 ₽", "url": "https://example.test/prices"},
    {"text": "Запись", "description": "Онлайн за минуту", "url": "https://example.test/book"},
]
# Google Ads wants a sitelink's two description lines together.
GOOGLE_SITELINKS = [{**link, "description2": "Без очереди"} for link in SITELINKS]


def contextual(workspace, platform):
    """Two ad groups; keywords of every match type with and without a bid; the first group has two ads
    (the second with sitelinks), the second group one ad and no negatives."""
    campaign = builders.campaign(workspace, platform)
    first = builders.group(campaign)
    second = builders.group(campaign, name="Детские стрижки «Локон»", negatives=(), position=1)
    builders.keyword(first, "мужская стрижка", MatchType.BROAD, Decimal("25.50"))
    builders.keyword(first, "стрижка ленинский район", MatchType.PHRASE)
    builders.keyword(first, "барбершоп оренбург", MatchType.EXACT, Decimal("40"))
    builders.keyword(second, "детская стрижка", MatchType.PHRASE)
    builders.ad(campaign, first)
    if platform == Platform.GOOGLE_ADS:
        builders.ad(
            campaign,
            first,
            position=1,
            headlines=[f"Заголовок «{n}»" for n in range(1, 16)],
            descriptions=["Стрижка; быстро, «чисто»", 'Скидка "10 %"', "Третье", "Четвёртое"],
            sitelinks=GOOGLE_SITELINKS,
        )
    else:
        builders.ad(
            campaign, first, position=1, headlines=["Стрижка рядом", "Без очереди"], sitelinks=SITELINKS
        )
    builders.ad(campaign, second, final_url="https://example.test/kids?utm_source=x&utm_campaign=y")
    return campaign


def expected_groups(campaign, platform):
    """The campaign as our parser should read it back, built from the database rows."""
    groups = []
    for group in campaign.ad_groups.all():
        ads = []
        for ad in group.ads.all():
            url = ad.final_url or group.final_url
            if platform == Platform.GOOGLE_ADS:
                ads.append(
                    {
                        "headlines": ad.headlines,
                        "descriptions": ad.descriptions,
                        "path1": ad.path1,
                        "path2": ad.path2,
                        "final_url": url,
                        "sitelinks": [
                            {k: link[k] for k in ("text", "description", "description2", "url")}
                            for link in ad.sitelinks
                        ],
                    }
                )
            else:
                ads.append(
                    {
                        "headlines": ad.headlines[:2],
                        "descriptions": ad.descriptions[:1],
                        "path1": ad.path1,
                        "final_url": url,
                        "sitelinks": ad.sitelinks,
                    }
                )
        keywords = [
            {"text": k.text, "match_type": k.match_type, "max_cpc": f"{k.max_cpc:.2f}" if k.max_cpc else ""}
            for k in group.keywords.all()
        ]
        groups.append(
            {"name": group.name, "keywords": keywords, "negatives": group.negative_keywords, "ads": ads}
        )
    return groups


def test_google_ads_editor_round_trip(cast):
    campaign = contextual(cast.workspace, Platform.GOOGLE_ADS)
    data, name, content_type = export(campaign, "google-ads-editor")
    assert data[:2] == b"\xff\xfe"  # UTF-16 LE byte order mark
    text = data[2:].decode("utf-16-le")
    assert text.split("\r\n")[0].split("\t") == GOOGLE_HEADERS
    assert name.endswith(".csv") and content_type.startswith("text/csv")
    parsed = parsers.google_campaign(parsers.read_google_ads_editor(data))
    assert parsed["name"] == campaign.name
    assert parsed["daily_budget"] == "500.00"
    assert parsed["location"] == "Оренбург"
    assert parsed["ad_groups"] == expected_groups(campaign, Platform.GOOGLE_ADS)
    rows = parsers.read_google_ads_editor(data)
    assert {r["Criterion Type"] for r in rows if r["Keyword"]} == {
        "Broad",
        "Phrase",
        "Exact",
        "Negative Broad",
    }
    assert rows[0]["Campaign Status"] == "Paused"


@pytest.mark.parametrize("fmt", ["direct-commander-tsv", "direct-commander-xlsx"])
def test_direct_commander_round_trip(cast, fmt):
    campaign = contextual(cast.workspace, Platform.YANDEX_DIRECT)
    data, name, _type = export(campaign, fmt)
    if fmt == "direct-commander-tsv":
        assert not data.startswith(b"\xef\xbb\xbf")  # UTF-8 without a BOM
        header = data.decode("utf-8").split("\r\n")[0]
        assert header.split("\t") == DIRECT_HEADERS
        rows = parsers.read_direct_tsv(data)
        assert name.endswith(".tsv")
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        assert [c.value for c in sheet[1]] == DIRECT_HEADERS
        assert sheet.title == campaign.name
        rows = parsers.read_direct_xlsx(data)
        assert name.endswith(".xlsx")
    parsed = parsers.direct_campaign(rows)["ad_groups"]
    assert [group.pop("region") for group in parsed] == ["Оренбург", "Оренбург"]
    assert parsed == expected_groups(campaign, Platform.YANDEX_DIRECT)
    phrases = [r["Фраза (с минус-словами)"] for r in rows if r["Фраза (с минус-словами)"]]
    assert phrases == [
        "мужская стрижка",
        '"стрижка ленинский район"',
        '"!барбершоп !оренбург"',
        '"детская стрижка"',
    ]
    # Direct's help: group negative phrases are separated by commas, so a phrase of two words stays one.
    assert rows[0]["Минус-фразы на группу"] == "бесплатно, своими руками"
    assert [r["Доп. объявление группы"] for r in rows] == ["-", "-", "-", "+", "-"]
    # The region is filled on the main ad's rows only, as Direct's help says.
    assert [r["Регион"] for r in rows] == ["Оренбург", "Оренбург", "Оренбург", "", "Оренбург"]


def test_the_direct_xlsx_keeps_formula_like_text_as_text(cast):
    campaign = builders.campaign(cast.workspace, Platform.YANDEX_DIRECT)
    group = builders.group(campaign, name="=1+1")
    builders.keyword(group, "стрижка")
    builders.ad(campaign, group)
    data, _name, _type = export(campaign, "direct-commander-xlsx")
    cell = load_workbook(io.BytesIO(data)).active["D2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_vk_round_trip(cast):
    campaign = builders.campaign(
        cast.workspace,
        Platform.VK_ADS,
        gender="female",
        age_min=25,
        age_max=45,
        districts=["Ленинский"],
        radius_km=Decimal("3.0"),
        interests=["красота", "стрижки"],
        monthly_budget=Decimal("15000"),
    )
    builders.ad(campaign, final_url=builders.URL.format(p="vk"))
    builders.ad(campaign, position=1, title="Свадебная укладка", text="Запишитесь заранее.")
    data, name, content_type = export(campaign, "vk")
    assert not data.startswith(b"\xef\xbb\xbf") and content_type == "application/json"
    parsed = parsers.read_vk(data)
    assert parsed["format"] == "smmdesk-vk-ads/1"
    assert parsed["campaign"]["name"] == campaign.name
    assert (
        parsed["campaign"]["budget_limit_day"] == "500.00"
        and parsed["campaign"]["budget_limit"] == "15000.00"
    )
    assert parsed["audience"] == {
        "geo": {"city": "Оренбург", "districts": ["Ленинский"], "radius_km": "3.0"},
        "sex": "female",
        "age_from": 25,
        "age_to": 45,
        "interests": ["красота", "стрижки"],
    }
    assert [(a["title"], a["text"], a["url"]) for a in parsed["ads"]] == [
        (ad.title, ad.text, ad.final_url) for ad in campaign.ads.all()
    ]
    for creative in parsed["ads"]:
        assert creative["label"] == f"Реклама. {campaign.advertiser}"
        assert (creative["advertiser"], creative["erid"]) == (campaign.advertiser, campaign.erid)
    assert "Реклама" in data.decode("utf-8")  # not \u-escaped


def test_an_export_refuses_a_campaign_with_errors_naming_each(cast):
    campaign = builders.campaign(cast.workspace, Platform.GOOGLE_ADS)
    group = builders.group(campaign)
    builders.keyword(group, "стрижка")
    builders.ad(campaign, group, headlines=["ж" * 31, "Два", "Три"], path1="p" * 16)
    with pytest.raises(ExportError) as error:
        export(campaign, "google-ads-editor")
    assert "ad 1: headline 1" in str(error.value) and "ad 1: path 1" in str(error.value)


def test_warnings_do_not_stop_an_export(cast):
    campaign = builders.campaign(cast.workspace, Platform.VK_ADS, erid="")
    builders.ad(campaign, text="т" * 150)
    data, _name, _type = export(campaign, "vk")
    assert json.loads(data)["ads"][0]["erid"] == ""


def test_a_format_for_another_platform_or_an_unknown_one_is_refused(cast):
    campaign = builders.campaign(cast.workspace, Platform.YANDEX_DIRECT)
    with pytest.raises(ExportError, match="Google Ads"):
        export(campaign, "google-ads-editor")
    with pytest.raises(ExportError, match="bing"):
        export(campaign, "bing")


def test_cli_export_writes_the_file(cast, tmp_path):
    campaign = contextual(cast.workspace, Platform.YANDEX_DIRECT)
    out = tmp_path / "direct.tsv"
    result = CliRunner().invoke(
        ads_cli,
        ["export", "--campaign", str(campaign.pk), "--format", "direct-commander-tsv", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == export(campaign, "direct-commander-tsv")[0]


@pytest.mark.parametrize(
    ("fmt", "missing", "message"),
    [("vk", False, "is for VK Ads campaigns"), ("direct-commander-xlsx", True, "no campaign")],
)
def test_cli_export_errors_exit_2_and_write_nothing(cast, tmp_path, fmt, missing, message):
    campaign = contextual(cast.workspace, Platform.YANDEX_DIRECT)
    out = tmp_path / "out.file"
    pk = campaign.pk + 1000 if missing else campaign.pk
    result = CliRunner().invoke(
        ads_cli, ["export", "--campaign", str(pk), "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_cli_export_lists_limit_errors(cast, tmp_path):
    campaign = builders.campaign(cast.workspace, Platform.YANDEX_DIRECT)
    builders.ad(campaign, builders.group(campaign), descriptions=["т" * 82])
    out = tmp_path / "out.tsv"
    args = ["export", "--campaign", str(campaign.pk), "--format", "direct-commander-tsv", "--out", str(out)]
    result = CliRunner().invoke(ads_cli, args)
    assert result.exit_code == 2 and "ad 1: text: 82 characters, the limit is 81" in result.output
    assert not out.exists()


def test_the_cli_offers_exactly_the_export_formats():
    from smmdesk.ads.cli import EXPORT_FORMATS
    from smmdesk.ads.exports import FORMATS

    assert EXPORT_FORMATS == list(FORMATS)
