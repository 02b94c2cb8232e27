"""Reading order files (importer.py): encodings, separators, XLSX cells, refusals, header recognition."""

import codecs
from datetime import datetime

import pytest

from smmdesk.audience import importer
from smmdesk.audience.importer import ImportRefused, find_header, guess_mapping, header_key, open_table, sniff
from smmdesk.audience.tests.fixtures.orders import csv_bytes, xlsx_bytes

RU_ROWS = [
    ["№ заказа", "Дата", "Услуга", "Сумма", "Пол", "Район"],
    ["1", "14.03.2026", "Стрижка мужская", "1 200,50", "м", "Ленинский"],
    ["2", "15.03.2026", "Свадебная причёска, с укладкой", "3500", "ж", "Центральный"],
]


def read_all(path, info):
    with open_table(path, info.format, info.encoding, info.delimiter) as table:
        return table.headers, list(table)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize(
    "encoding, data_encoding, expected",
    [
        ("utf-8", "utf-8", "utf-8"),
        ("utf-8 with BOM", "utf-8-sig", "utf-8-sig"),
        ("cp1251", "cp1251", "cp1251"),
    ],
)
def test_every_encoding_and_separator(tmp_path, delimiter, encoding, data_encoding, expected):
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_bytes(RU_ROWS, delimiter, data_encoding))
    info = sniff(path)
    assert (info.format, info.encoding, info.delimiter) == ("csv", expected, delimiter)
    assert info.headers == RU_ROWS[0] and info.total_rows == 2
    headers, rows = read_all(path, info)
    # The BOM is not part of the first header, Cyrillic and quoted separators come through intact.
    assert headers == RU_ROWS[0]
    assert rows == [(2, RU_ROWS[1]), (3, RU_ROWS[2])]


def test_semicolon_file_with_comma_decimals_is_not_read_as_comma_separated(tmp_path):
    rows = [["order_id", "date", "service", "price"]] + [
        [str(n), "14.03.2026", "Стрижка", f"{n}00,50"] for n in range(1, 30)
    ]
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_bytes(rows, ";", "cp1251"))
    info = sniff(path)
    assert info.delimiter == ";" and info.encoding == "cp1251"
    assert read_all(path, info)[1][0] == (2, ["1", "14.03.2026", "Стрижка", "100,50"])


def test_single_line_files_and_the_header_count_fallback(tmp_path):
    path = tmp_path / "header-only.csv"
    path.write_text("order_id;date;service\n", encoding="utf-8")
    info = sniff(path)
    assert info.delimiter == ";" and info.total_rows == 0 and info.headers == ["order_id", "date", "service"]


def test_empty_rows_are_skipped_but_keep_their_numbers(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("\n\norder_id,date\n1,2026-03-01\n,\n\n2,2026-03-02\n", encoding="utf-8")
    info = sniff(path)
    assert info.total_rows == 2
    headers, rows = read_all(path, info)
    assert headers == ["order_id", "date"]
    assert rows == [(4, ["1", "2026-03-01"]), (7, ["2", "2026-03-02"])]


def test_quoted_newlines_stay_in_their_cell(tmp_path):
    path = tmp_path / "multiline.csv"
    path.write_text('order_id,service\n1,"Стрижка\nмужская"\n2,Укладка\n', encoding="utf-8")
    _headers, rows = read_all(path, sniff(path))
    assert rows == [(2, ["1", "Стрижка\nмужская"]), (3, ["2", "Укладка"])]


# --- XLSX ----------------------------------------------------------------------------------------------


def test_xlsx_with_real_datetime_cells(tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(
        xlsx_bytes(
            [
                ["Order ID", "Date", "Service", "Price"],
                [1001, datetime(2026, 3, 14, 10, 30), "Men's haircut", 600],
                [1002, datetime(2026, 3, 15), "Women's haircut", 1200.5],
            ],
            formats={1: "dd.mm.yyyy hh:mm"},
        )
    )
    info = sniff(path)
    assert (info.format, info.encoding, info.delimiter) == ("xlsx", "", "")
    assert info.headers == ["Order ID", "Date", "Service", "Price"] and info.total_rows == 2
    _headers, rows = read_all(path, info)
    assert rows == [
        (2, (1001, datetime(2026, 3, 14, 10, 30), "Men's haircut", 600)),
        (3, (1002, datetime(2026, 3, 15), "Women's haircut", 1200.5)),
    ]


def test_xlsx_date_column_typed_as_number_arrives_as_the_serial(tmp_path):
    path = tmp_path / "serials.xlsx"
    path.write_bytes(
        xlsx_bytes([["order_id", "date"], ["A1", 46095], ["A2", 46096.5]], formats={1: "General"})
    )
    info = sniff(path)
    with open_table(path, info.format) as table:
        assert not table.mac_epoch
        assert list(table) == [(2, ("A1", 46095)), (3, ("A2", 46096.5))]


def test_xlsx_1904_date_system_is_detected(tmp_path):
    path = tmp_path / "mac.xlsx"
    path.write_bytes(xlsx_bytes([["order_id", "date"], ["A1", 44633]], date1904=True))
    with open_table(path, "xlsx") as table:
        assert table.mac_epoch


def test_xlsx_empty_rows_keep_their_spreadsheet_numbers(tmp_path):
    path = tmp_path / "gaps.xlsx"
    path.write_bytes(xlsx_bytes([[None], ["order_id", "date"], ["A1", "2026-03-01"], [None], ["A2", "x"]]))
    info = sniff(path)
    assert info.headers == ["order_id", "date"]
    assert [number for number, _cells in read_all(path, info)[1]] == [3, 5]


# --- refusals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le"), "UTF-16"),
        (b"order_id,date\n1,\x00\x01\x02\n", "not a CSV"),
        (b"PK\x03\x04 this is no workbook", "XLSX"),
        (codecs.BOM_UTF8 + b"order_id\n\xff\xfe\n", "UTF-8"),
        (b"\n\n  \n", "no header"),
        (b"order_id\n\x98\n", "encoding"),  # 0x98 is the one byte cp1251 leaves undefined
    ],
)
def test_unusable_files_are_refused_with_the_reason(tmp_path, data, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(ImportRefused) as refused:
        sniff(path)
    assert words in refused.value.message and refused.value.field == "file"


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_BYTES", 1024 * 1024)
    path = tmp_path / "big.csv"
    path.write_bytes(b"order_id\n" + b"1\n" * (1024 * 1024 // 2))
    with pytest.raises(ImportRefused) as refused:
        sniff(path)
    assert "larger than 1 MB" in refused.value.message


def test_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    path = tmp_path / "long.csv"
    path.write_text("order_id\n1\n2\n3\n", encoding="utf-8")
    assert sniff(path).total_rows == 3
    path.write_text("order_id\n1\n2\n3\n4\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        sniff(path)
    assert "more than 3 rows" in refused.value.message


# --- headers -------------------------------------------------------------------------------------------

FIELDS_IN_ORDER = [
    "order_id", "date", "service", "price", "client_id", "gender", "age", "birth_year", "district",
    "source", "utm_campaign",
]  # fmt: skip


@pytest.mark.parametrize(
    "headers",
    [
        ["Order ID", "Date", "Service", "Price", "Client ID", "Gender", "Age", "Birth year", "District",
         "Source", "utm_campaign"],
        ["№ заказа", "Дата", "Услуга", "Цена", "Клиент", "Пол", "Возраст", "Год рождения", "Район",
         "Источник", "UTM_CAMPAIGN"],
        ["Číslo objednávky", "Dátum", "Služba", "Cena", "ID klienta", "Pohlavie", "Vek", "Rok narodenia",
         "Mestská časť", "Zdroj", "Kampaň"],
    ],
)  # fmt: skip
def test_headers_in_three_languages(headers):
    assert guess_mapping(headers) == {field: index for index, field in enumerate(FIELDS_IN_ORDER)}


def test_the_issue_headers():
    headers = "order_id,date,service,price,gender,age,district,source".split(",")
    assert guess_mapping(headers) == {field: index for index, field in enumerate(headers)}


def test_header_variants():
    mapping = guess_mapping(["Сумма", "Okres", "DATUM", "  Order   id ", "Kanál", "Dátum narodenia", "Цвет"])
    assert mapping == {"price": 0, "district": 1, "date": 2, "order_id": 3, "source": 4, "birth_year": 5}


def test_longer_headers_by_their_words():
    mapping = guess_mapping(
        ["Номер", "Дата рождения клиента", "Дата и время визита", "Total price, RUB", "x"]
    )
    assert mapping == {"order_id": 0, "birth_year": 1, "date": 2, "price": 3}


def test_each_column_and_field_is_used_once():
    mapping = guess_mapping(["Дата", "Date", "Дата визита", "Сумма", "Цена"])
    assert mapping == {"date": 0, "price": 3}


def test_header_key_and_find_header():
    assert header_key("Dátum objednávky:") == "datum objednavky"
    assert header_key("Год_рождения") == "год рождения"  # й and ё keep their letters apart from accents
    assert header_key("Район") == "район" and header_key("Ёлка") == "елка"
    headers = ["Order ID", "Dátum", "Service"]
    assert find_header(headers, "Dátum") == 1 and find_header(headers, "datum") == 1
    assert find_header(headers, "order_id") == 0 and find_header(headers, "price") is None
