"""Read our own export files back into plain dicts: the tests' proof that each file is what the platform
reads (exact header names, encoding, separator), and a way to inspect a file a user downloaded.

`read_*` returns the raw rows (header -> cell text); `google_campaign` and `direct_campaign` assemble
those rows into {"name", "daily_budget", "ad_groups": [{"name", "keywords", "negatives", "ads"}]}.
"""

from __future__ import annotations

import csv
import io
import json

from smmdesk.lib.spreadsheet import unquote_cell

from .exports import direct_commander as direct
from .exports import google_ads_editor as google
from .models import MatchType


class ParseError(ValueError):
    pass


def _table(text: str, separator: str) -> list[dict]:
    lines = text.split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ParseError("the file is empty")
    headers = lines[0].split(separator)
    table = []
    for number, line in enumerate(lines[1:], 2):
        cells = line.split(separator)
        if len(cells) != len(headers):
            raise ParseError(f"line {number}: {len(cells)} cells, the header has {len(headers)}")
        table.append(dict(zip(headers, map(unquote_cell, cells), strict=True)))
    return table


def read_google_ads_editor(data: bytes) -> list[dict]:
    if not data.startswith(google.BOM):
        raise ParseError("not UTF-16 LE with a BOM")
    text = data[len(google.BOM) :].decode("utf-16-le")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=google.SEPARATOR)
    rows = list(reader)
    if reader.fieldnames is None:
        raise ParseError("the file is empty")
    if any(None in row or None in row.values() for row in rows):
        raise ParseError("a row's cell count differs from the header's")
    return [{name: unquote_cell(value) for name, value in row.items()} for row in rows]


def read_direct_tsv(data: bytes) -> list[dict]:
    if data.startswith(b"\xef\xbb\xbf"):
        raise ParseError("UTF-8 with a BOM; Direct Commander expects none")
    return _table(data.decode("utf-8"), direct.SEPARATOR)


def read_direct_xlsx(data: bytes) -> list[dict]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    values = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
    if not values:
        raise ParseError("the sheet is empty")
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def read_vk(data: bytes) -> dict:
    return json.loads(data.decode("utf-8"))


_CRITERIA = {text: value for value, text in google.CRITERION.items()}


def google_campaign(rows: list[dict]) -> dict:
    campaign, groups = {}, {}
    for row in rows:
        if not row["Ad Group"]:
            if row["Campaign Type"]:
                campaign = {"name": row["Campaign"], "daily_budget": row["Campaign Daily Budget"]}
            if row["Location"]:
                campaign["location"] = row["Location"]
            continue
        group = groups.setdefault(
            row["Ad Group"], {"name": row["Ad Group"], "keywords": [], "negatives": [], "ads": []}
        )
        if row["Criterion Type"] == google.NEGATIVE:
            group["negatives"].append(row["Keyword"])
        elif row["Keyword"]:
            group["keywords"].append(
                {
                    "text": row["Keyword"],
                    "match_type": _CRITERIA[row["Criterion Type"]],
                    "max_cpc": row["Max CPC"],
                }
            )
        elif row["Ad type"]:
            group["ads"].append(
                {
                    "headlines": [row[h] for h in google.HEADLINES if row[h]],
                    "descriptions": [row[d] for d in google.DESCRIPTIONS if row[d]],
                    "path1": row["Path 1"],
                    "path2": row["Path 2"],
                    "final_url": row["Final URL"],
                    "sitelinks": [],
                }
            )
        elif row["Link text"]:
            group["ads"][-1]["sitelinks"].append(
                {
                    "text": row["Link text"],
                    "description": row["Description line 1"],
                    "description2": row["Description line 2"],
                    "url": row["Final URL"],
                }
            )
    return {**campaign, "ad_groups": list(groups.values())}


def direct_keyword(cell: str) -> dict:
    if cell.startswith('"') and cell.endswith('"'):
        words = cell[1:-1].split()
        if words and all(w.startswith("!") for w in words):
            return {"text": " ".join(w[1:] for w in words), "match_type": MatchType.EXACT}
        return {"text": " ".join(words), "match_type": MatchType.PHRASE}
    return {"text": cell, "match_type": MatchType.BROAD}


def _split(cell: str) -> list[str]:
    return cell.split(direct.LIST_SEPARATOR) if cell else []


def _direct_ad(row: dict) -> dict:
    texts, descriptions, urls = (
        _split(row[c])
        for c in ("Заголовки быстрых ссылок", "Описания быстрых ссылок", "Адреса быстрых ссылок")
    )
    return {
        "headlines": [h for h in (row["Заголовок 1"], row["Заголовок 2"]) if h],
        "descriptions": [row["Текст"]] if row["Текст"] else [],
        "path1": row["Отображаемая ссылка"],
        "final_url": row["Ссылка"],
        "sitelinks": [
            {"text": t, "description": d, "url": u} for t, d, u in zip(texts, descriptions, urls, strict=True)
        ],
    }


def direct_campaign(rows: list[dict]) -> dict:
    groups = {}
    for row in rows:
        group = groups.get(row["Номер группы"])
        if group is None:
            negatives = row["Минус-фразы на группу"]
            group = groups[row["Номер группы"]] = {
                "name": row["Название группы"],
                "region": row["Регион"],
                "keywords": [],
                "negatives": [n.strip() for n in negatives.split(direct.NEGATIVE_SEPARATOR) if n.strip()],
                "ads": [_direct_ad(row)]
                if row["Заголовок 1"] and row["Доп. объявление группы"] == "-"
                else [],
            }
        if row["Фраза (с минус-словами)"]:
            group["keywords"].append(
                {**direct_keyword(row["Фраза (с минус-словами)"]), "max_cpc": row["Ставка"]}
            )
        if row["Доп. объявление группы"] == "+":
            group["ads"].append(_direct_ad(row))
    return {"ad_groups": list(groups.values())}
