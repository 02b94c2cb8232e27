"""smmdesk.lib.spreadsheet (formula-safe cells, the XLSX guard), lib.text (storable text) and
lib.redirects (where a form may send the browser back to)."""

import io
import zipfile
from functools import cache

import pytest
from django.test import RequestFactory

from smmdesk.lib import redirects, spreadsheet
from smmdesk.lib.text import storable
from tests.corpus import strings, tables


@pytest.mark.parametrize("formula", strings.FORMULAS)
def test_safe_cell_neutralises_every_formula_and_unquote_cell_undoes_it(formula):
    safe = spreadsheet.safe_cell(formula)
    assert safe == "'" + formula and not strings.is_formula(safe)
    assert spreadsheet.unquote_cell(safe) == formula


@pytest.mark.parametrize("text", ["Стрижка", "", "'quoted already", "100", "https://example.com/?a=1"])
def test_plain_text_is_left_alone(text):
    assert spreadsheet.safe_cell(text) == text
    assert spreadsheet.unquote_cell(text) == text


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("+на дому", "+на дому"),  # Direct: a fixed stop word
        ("-бесплатно -своими", "-бесплатно -своими"),  # minus words
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("-SUM(1)", "'-SUM(1)"),
        ("=1+1", "'=1+1"),
        ("@x", "'@x"),
        ('"фраза"', '"фраза"'),
    ],
)
def test_operator_cells_keep_the_platforms_operators_only(cell, expected):
    assert spreadsheet.safe_operator_cell(cell) == expected


def _xlsx(parts: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


@cache
def xlsx_case(name: str) -> tables.Case:
    return {case.name: case for case in tables.xlsx_cases(["Фраза", "Показов"], ["стрижка", "10"], 0)}[name]


def test_check_xlsx_passes_a_real_workbook_and_anything_that_is_not_a_zip():
    spreadsheet.check_xlsx(tables.xlsx(tables.sheet_xml([["a", "b"], ["1", "2"]])))
    spreadsheet.check_xlsx(b"not a zip at all")
    spreadsheet.check_xlsx(b"PK\x03\x04 truncated")


@pytest.mark.parametrize("case", ["xlsx_zip_bomb_sheet", "xlsx_zip_bomb_shared_strings", "xlsx_many_entries"])
def test_check_xlsx_refuses_the_corpus_bombs(case):
    with pytest.raises(spreadsheet.UnsafeWorkbook):
        spreadsheet.check_xlsx(xlsx_case(case).data)


def test_check_xlsx_refuses_a_workbook_past_the_total_size_even_when_it_compresses_little(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_UNPACKED", 1000)
    data = _xlsx({"xl/worksheets/sheet1.xml": bytes(range(256)) * 8}, zipfile.ZIP_STORED)
    with pytest.raises(spreadsheet.UnsafeWorkbook, match="unpacks to more than"):
        spreadsheet.check_xlsx(data)


def test_check_xlsx_reads_a_path_too(tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(xlsx_case("xlsx_zip_bomb_sheet").data)
    with pytest.raises(spreadsheet.UnsafeWorkbook, match="sheet1.xml"):
        spreadsheet.check_xlsx(path)


def test_keyword_volumes_read_a_sheet_at_its_real_width():
    """A sheet that declares A1:XFD1048576 is read as the two columns it holds, not 16,384."""
    from smmdesk.keywords import volumes

    rows = volumes.read_rows(xlsx_case("xlsx_lying_dimension").data)
    assert rows[:2] == [["Фраза", "Показов"], ["стрижка", "10"]]


def test_storable_takes_out_nul_and_lone_surrogates_everywhere():
    value = {"a\x00": ["x\x00y", ("\ud800", 1)], "n": None, "t": "Привет 👋"}
    assert storable(value) == {"a": ["xy", ("\ufffd", 1)], "n": None, "t": "Привет 👋"}
    assert strings.storable(storable(strings.NUL)) and strings.storable(storable(strings.LONE_SURROGATE))


@pytest.mark.parametrize(
    "given,expected",
    [
        ("/w/salon/inbox/", "/w/salon/inbox/"),
        ("Стрижка\x00-20%", "/fallback/"),  # a word, not a path: redirect() would reverse it and fail
        ("inbox:list", "/fallback/"),
        ("https://evil.example/", "/fallback/"),
        ("//evil.example/", "/fallback/"),
        ("", "/fallback/"),
    ],
)
def test_back_goes_only_to_a_path_on_this_site(given, expected):
    request = RequestFactory().post("/x/", {"next": given})
    response = redirects.back(request, "/fallback/")
    assert response.status_code == 302 and response["Location"] == expected
