"""Google Ads Editor CSV (Account > Import > From file).

Editor recognises columns by their English header (case and spaces ignored) and reads one item per row:
the campaign row, then for each ad group its row, its keyword rows ("Criterion Type" Broad, Phrase or
Exact; negatives as "Negative Broad"), its responsive search ad rows ("Headline 1".."Headline 15",
"Description 1".."Description 4", "Path 1", "Path 2", "Final URL") and its sitelink rows ("Link text",
"Description line 1", "Description line 2", "Final URL"). A blank cell means "no change".

Encoding: we write what Editor itself writes when it exports CSV, UTF-16 little-endian with a BOM and
tab-separated, so Cyrillic and accented text survives and spreadsheet programs open it correctly; Editor
imports that as well as UTF-8. The campaign is created paused so the owner reviews it before it spends.

Spreadsheets open this file too, so text a person typed (names, headlines, descriptions, paths, links)
is written through safe_cell: one that starts like a formula gets an apostrophe in front. The keyword
column keeps a leading "+" or "-" (the platforms' operators) unless the cell could still be a formula
(safe_operator_cell); the other columns hold our own fixed words and numbers.
"""

import csv
import io

from smmdesk.lib.spreadsheet import safe_cell, safe_operator_cell

from ..models import MatchType
from ._common import amount, final_url, groups_with_ads

FILE = ("csv", "text/csv; charset=utf-16")
BOM = b"\xff\xfe"
SEPARATOR = "\t"
HEADLINES = [f"Headline {n}" for n in range(1, 16)]
DESCRIPTIONS = [f"Description {n}" for n in range(1, 5)]
HEADERS = [
    "Campaign",
    "Campaign Type",
    "Networks",
    "Campaign Daily Budget",
    "Campaign Status",
    "Location",
    "Ad Group",
    "Max CPC",
    "Keyword",
    "Criterion Type",
    "Ad type",
    *HEADLINES,
    *DESCRIPTIONS,
    "Path 1",
    "Path 2",
    "Final URL",
    "Link text",
    "Description line 1",
    "Description line 2",
]
FREE_TEXT = {
    *("Campaign", "Location", "Ad Group", *HEADLINES, *DESCRIPTIONS, "Path 1", "Path 2", "Final URL"),
    *("Link text", "Description line 1", "Description line 2"),
}
OPERATOR_TEXT = {"Keyword"}
CRITERION = {MatchType.BROAD: "Broad", MatchType.PHRASE: "Phrase", MatchType.EXACT: "Exact"}
NEGATIVE = "Negative Broad"
RSA = "Responsive search ad"


def _rows(campaign):
    name = campaign.name
    yield {
        "Campaign": name,
        "Campaign Type": "Search",
        "Networks": "Google search",
        "Campaign Daily Budget": amount(campaign.daily_budget),
        "Campaign Status": "Paused",
    }
    if campaign.city:
        yield {"Campaign": name, "Location": campaign.city}
    for group, keywords, ads in groups_with_ads(campaign):
        here = {"Campaign": name, "Ad Group": group.name}
        yield here
        for keyword in keywords:
            yield {
                **here,
                "Keyword": keyword.text,
                "Criterion Type": CRITERION[keyword.match_type],
                "Max CPC": amount(keyword.max_cpc),
            }
        for negative in group.negative_keywords:
            yield {**here, "Keyword": negative, "Criterion Type": NEGATIVE}
        for ad in ads:
            row = {**here, "Ad type": RSA, "Path 1": ad.path1, "Path 2": ad.path2, "Final URL": final_url(ad)}
            row.update(zip(HEADLINES, ad.headlines, strict=False))
            row.update(zip(DESCRIPTIONS, ad.descriptions, strict=False))
            yield row
            for link in ad.sitelinks:
                yield {
                    **here,
                    "Link text": link.get("text", ""),
                    "Description line 1": link.get("description", ""),
                    "Description line 2": link.get("description2", ""),
                    "Final URL": link.get("url", ""),
                }


def _cell(name: str, value):
    if name in FREE_TEXT:
        return safe_cell(value)
    if name in OPERATOR_TEXT:
        return safe_operator_cell(value)
    return value


def write(campaign) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADERS, delimiter=SEPARATOR, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows({name: _cell(name, value) for name, value in row.items()} for row in _rows(campaign))
    return BOM + out.getvalue().encode("utf-16-le")
