"""Yandex Direct Commander import files: TSV and XLSX with Direct's Russian column titles.

From Direct Commander's help, "File format and field population rules"
(yandex.com/support/direct-commander-new/en/advanced/file-format): columns are recognised by their
Russian title, order does not matter and missing columns are allowed. The CSV/TXT variant is UTF-8 with
the field names on the first line and a tab between fields (not cp1251); the XLSX variant holds one
campaign. We write the same table into both: the header row first, then one row per keyword.

The column titles and how each is filled are those of Direct's help on XLS/XLSX files
(yandex.ru/support/direct/ru/alternative-interfaces/xls-interface); the Commander's help links one of
Direct's XLSX templates: "Доп. объявление группы" is "-" for the group's main ad and "+" for the others; "Фраза (с
минус-словами)", "Ставка" and "Регион" are filled only on the main ad's rows; the sitelinks' titles,
descriptions and addresses are each joined with "||"; "Минус-фразы на группу" are separated by commas.
So the group's first ad is repeated on each keyword row, and further ads of the group get rows of their
own marked "+" with no phrase. Match types use Direct's operators: broad as is, phrase in quotes (the
word set is fixed), exact in quotes with "!" before each word (word forms fixed too). The value
"Текстово-графическое" of "Тип объявления" comes from the template's dictionary sheet, which we could not
read; docs/ads.md says which titles and values are confirmed and by what.

Opened in a spreadsheet, the TSV's text a person typed (group name, headlines, text, links, sitelinks,
region) is written through safe_cell; the phrase and minus-phrase columns keep Direct's "+" and "-"
operators (safe_operator_cell), and "-"/"+" in the first column are Direct's own markers. The XLSX types
every cell as a string, which no spreadsheet runs.

Yandex Direct marks ads «Реклама» and registers them with its own advertising data operator, so the
file has no ERID column.
"""

import io

from smmdesk.lib.spreadsheet import safe_cell, safe_operator_cell

from ..models import MatchType
from ._common import amount, final_url, groups_with_ads

TSV_FILE = ("tsv", "text/tab-separated-values; charset=utf-8")
XLSX_FILE = ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SEPARATOR = "\t"
LIST_SEPARATOR = "||"
NEGATIVE_SEPARATOR = ", "
HEADERS = [
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
AD_TYPE = "Текстово-графическое"
FREE_TEXT = {
    *("Название группы", "Заголовок 1", "Заголовок 2", "Текст", "Ссылка", "Отображаемая ссылка", "Регион"),
    *("Заголовки быстрых ссылок", "Описания быстрых ссылок", "Адреса быстрых ссылок"),
}
OPERATOR_TEXT = {"Фраза (с минус-словами)", "Минус-фразы на группу"}


def phrase(text: str, match_type: str) -> str:
    """A keyword in Direct's operator syntax."""
    if match_type == MatchType.EXACT:
        return '"' + " ".join("!" + word for word in text.split()) + '"'
    if match_type == MatchType.PHRASE:
        return f'"{text}"'
    return text


def negatives(phrases) -> str:
    return NEGATIVE_SEPARATOR.join(phrases)


def _ad_cells(ad, extra: bool) -> dict:
    links = ad.sitelinks
    return {
        "Доп. объявление группы": "+" if extra else "-",
        "Тип объявления": AD_TYPE,
        "Заголовок 1": ad.headlines[0] if ad.headlines else "",
        "Заголовок 2": ad.headlines[1] if len(ad.headlines) > 1 else "",
        "Текст": ad.descriptions[0] if ad.descriptions else "",
        "Ссылка": final_url(ad),
        "Отображаемая ссылка": ad.path1,
        "Заголовки быстрых ссылок": LIST_SEPARATOR.join(link.get("text", "") for link in links),
        "Описания быстрых ссылок": LIST_SEPARATOR.join(link.get("description", "") for link in links),
        "Адреса быстрых ссылок": LIST_SEPARATOR.join(link.get("url", "") for link in links),
    }


def rows(campaign):
    """The table as dicts keyed by the Russian titles (shared by both file types)."""
    for number, (group, keywords, ads) in enumerate(groups_with_ads(campaign), 1):
        base = {
            "Номер группы": str(number),
            "Название группы": group.name,
            "Минус-фразы на группу": negatives(group.negative_keywords),
        }
        first = _ad_cells(ads[0], extra=False) if ads else {}
        for keyword in keywords or [None]:
            row = {**base, **first, "Регион": campaign.city}
            if keyword is not None:
                row["Фраза (с минус-словами)"] = phrase(keyword.text, keyword.match_type)
                row["Ставка"] = amount(keyword.max_cpc)
            yield row
        for ad in ads[1:]:
            yield {**base, **_ad_cells(ad, extra=True)}


def write_tsv(campaign) -> bytes:
    # Direct's parser splits on tabs only and knows no quoting, so tabs and line breaks inside a value
    # would break the row: they become spaces.
    lines = [SEPARATOR.join(HEADERS)]
    lines += [SEPARATOR.join(_tsv_cell(h, row.get(h, "")) for h in HEADERS) for row in rows(campaign)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _flat(value: str) -> str:
    return " ".join(value.replace("\t", " ").splitlines())


def _tsv_cell(header: str, value: str) -> str:
    value = _flat(value)
    if header in FREE_TEXT:
        return safe_cell(value)
    if header in OPERATOR_TEXT:
        return safe_operator_cell(value)
    return value


def write_xlsx(campaign) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    # Sheet titles are limited to 31 characters and may not contain []:*?/\ .
    sheet.title = "".join(ch for ch in campaign.name if ch not in "[]:*?/\\")[:31] or "Campaign"
    sheet.append(HEADERS)
    for row in rows(campaign):
        # Stored as text so a spreadsheet never turns a phrase like "=..." or "-..." into a formula.
        sheet.append([_text_cell(sheet, row.get(h, "")) for h in HEADERS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(sheet, value):
    from openpyxl.cell.cell import Cell

    cell = Cell(sheet, value=value)
    cell.data_type = "s"
    return cell
