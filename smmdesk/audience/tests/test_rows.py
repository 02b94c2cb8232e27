"""Cleaning one order row (rows.clean_order) and resolving service names (rows.ServiceIndex)."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from smmdesk.audience.models import ServiceAlias
from smmdesk.audience.rows import (
    Bad,
    ServiceIndex,
    clean_order,
    excel_serial_date,
    parse_age,
    parse_date,
    parse_gender,
    parse_price,
    service_key,
)
from smmdesk.business.models import Service

TODAY = date(2026, 3, 20)


def services() -> ServiceIndex:
    men = Service(pk=1, name="Men's haircut", synonyms=["Стрижка мужская", "Pánsky strih"])
    women = Service(pk=2, name="Women's haircut", synonyms=["Стрижка женская", "Men's haircut (long)"])
    return ServiceIndex([men, women], [ServiceAlias(name=service_key("Муж. стрижка"), service_id=1)])


def clean(**values):
    row = {"order_id": "A1", "date": "2026-03-14", "service": "Men's haircut", **values}
    return clean_order(row, today=TODAY, services=services())


def fields_of(errors):
    return [field for field, _message in errors]


# --- dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-14", date(2026, 3, 14)),
        ("2026/3/4", date(2026, 3, 4)),
        ("14.03.2026", date(2026, 3, 14)),
        ("4.3.2026", date(2026, 3, 4)),
        ("14-03-2026", date(2026, 3, 14)),
        ("14/03/2026", date(2026, 3, 14)),  # "/": day first ...
        ("04/03/2026", date(2026, 3, 4)),
        ("3/14/2026", date(2026, 3, 14)),  # ... unless the first part cannot be a month
        ("2026-03-14 18:45", date(2026, 3, 14)),
        ("2026-03-14T18:45:10+05:00", date(2026, 3, 14)),
        ("14.03.2026 9:05:00", date(2026, 3, 14)),
        ("  2026-03-14  ", date(2026, 3, 14)),
    ],
)
def test_text_dates(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["14 March 2026", "2026-02-30", "31.04.2026", "13/13/2026", "14.03.26", "x"])
def test_bad_text_dates(text):
    with pytest.raises(Bad):
        parse_date(text, TODAY)


def test_date_and_datetime_cells():
    assert parse_date(datetime(2026, 3, 14, 23, 59), TODAY) == date(2026, 3, 14)
    assert parse_date(date(2026, 3, 1), TODAY) == date(2026, 3, 1)
    with pytest.raises(Bad):
        parse_date(time(10, 30), TODAY)


@pytest.mark.parametrize(
    "serial, expected",
    [
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (46095, date(2026, 3, 14)),
        (46095.75, date(2026, 3, 14)),  # the fraction is the time of day
    ],
)
def test_excel_serial_dates(serial, expected):
    assert excel_serial_date(serial) == expected


def test_excel_serial_60_is_the_day_that_never_was():
    with pytest.raises(Bad):
        excel_serial_date(60)
    with pytest.raises(Bad):
        excel_serial_date(0)
    assert excel_serial_date(0, mac=True) == date(1904, 1, 1)
    assert excel_serial_date(44633, mac=True) == date(2026, 3, 14)


def test_serial_number_in_a_date_cell():
    fields, errors = clean(date=46095)
    assert errors == [] and fields["date"] == date(2026, 3, 14)


def test_a_date_may_be_tomorrow_but_not_later():
    assert clean(date="2026-03-21")[1] == []
    fields, errors = clean(date="22.03.2026")
    assert fields_of(errors) == ["date"] and "date" not in fields


# --- prices --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1200", "1200.00"),
        ("1 200,50", "1200.50"),
        ("1\u00a0200,5", "1200.50"),
        ("1.200,50", "1200.50"),
        ("1,200.50", "1200.50"),
        ("1200 ₽", "1200.00"),
        ("1 200 руб.", "1200.00"),
        ("€12.5", "12.50"),
        ("12,5 EUR", "12.50"),
        ("1.200", "1200.00"),  # one separator and three digits: thousands
        ("1,200", "1200.00"),
        ("0,500", "0.50"),
        ("1.200.000", "1200000.00"),
        ("99.999", "99999.00"),
        ("10.005", "10005.00"),
        ("10.0051", "10.01"),
        (1200, "1200.00"),
        (1200.5, "1200.50"),
        (0.1 + 0.2, "0.30"),
    ],
)
def test_prices(value, expected):
    assert parse_price(value) == Decimal(expected)


@pytest.mark.parametrize(
    "value", ["abc", "12a34", "1,2.5", "12 34,5,6", "-100", "1.2.3", "1,20,000", -5, True]
)
def test_bad_prices(value):
    with pytest.raises(Bad):
        parse_price(value)


def test_empty_price_is_none():
    assert parse_price(None) is None and parse_price("  ") is None
    assert clean(price="")[0]["price"] is None


# --- gender, age, birth year ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("F", "female"), ("female", "female"), ("Woman", "female"), ("ж", "female"), ("Ж", "female"),
        ("жен.", "female"), ("Женский", "female"), ("женщина", "female"), ("žena", "female"),
        ("Ž", "female"), ("ženské", "female"),
        ("M", "male"), ("male", "male"), ("man", "male"), ("м", "male"), ("муж.", "male"),
        ("Мужской", "male"), ("muž", "male"), ("Mužské", "male"),
        ("", "unknown"), (None, "unknown"), ("-", "unknown"), ("не указан", "unknown"),
        ("neuvedené", "unknown"), ("Unknown", "unknown"),
    ],
)  # fmt: skip
def test_genders(value, expected):
    assert parse_gender(value) == expected


def test_unreadable_gender_is_an_error():
    fields, errors = clean(gender="да")
    assert fields_of(errors) == ["gender"] and "gender" not in fields


@pytest.mark.parametrize(
    "value, expected", [("35", 35), (35, 35), (35.0, 35), ("0", 0), ("120", 120), ("35 лет", 35)]
)
def test_ages(value, expected):
    assert parse_age(value, TODAY) == expected


@pytest.mark.parametrize("value", ["121", "-3", "35.5", "thirty", 200])
def test_bad_ages(value):
    with pytest.raises(Bad):
        parse_age(value, TODAY)


def test_an_age_column_holding_birth_years_says_so():
    _fields, errors = clean(age="1990")
    assert errors == [("age", "This looks like a birth year: map this column to the birth year.")]


def test_age_from_birth_year_at_the_order_date():
    fields, errors = clean(date="2020-06-01", birth_year="1990")
    assert errors == [] and fields["birth_year"] == 1990 and fields["age"] == 30
    fields, errors = clean(date="2026-03-14", birth_year=1990.0)
    assert errors == [] and fields["age"] == 36
    # a birth date gives its year
    fields, errors = clean(date="2026-03-14", birth_year="02.05.1985")
    assert errors == [] and fields["birth_year"] == 1985 and fields["age"] == 41


def test_given_age_wins_over_birth_year():
    fields, errors = clean(age="40", birth_year="1990")
    assert errors == [] and fields["age"] == 40 and fields["birth_year"] == 1990


@pytest.mark.parametrize("value", ["1899", "2027", "19x0"])
def test_bad_birth_years(value):
    assert fields_of(clean(birth_year=value)[1]) == ["birth_year"]


def test_birth_year_after_the_order_date():
    assert fields_of(clean(date="2020-01-10", birth_year="2024")[1]) == ["birth_year"]


# --- the row -------------------------------------------------------------------------------------------


def test_a_full_row():
    fields, errors = clean(
        order_id=1001.0,
        price="1 200,50",
        client_id=" C-7 ",
        gender="ж",
        age=34,
        district="Ленинский",
        source="VK",
        utm_campaign="spring",
    )
    assert errors == []
    assert fields == {
        "order_id": "1001",
        "client_id": "C-7",
        "district": "Ленинский",
        "source": "VK",
        "utm_campaign": "spring",
        "date": date(2026, 3, 14),
        "service_name": "Men's haircut",
        "service": fields["service"],
        "price": Decimal("1200.50"),
        "gender": "female",
        "age": 34,
        "birth_year": None,
    }
    assert fields["service"].pk == 1


def test_missing_required_fields_are_each_reported():
    _fields, errors = clean_order({}, today=TODAY, services=services())
    assert fields_of(errors) == ["order_id", "date", "service"]


def test_every_bad_field_of_a_row_is_reported():
    _fields, errors = clean(date="yesterday", price="free", gender="?!", age="old", district="x" * 121)
    assert sorted(fields_of(errors)) == ["age", "date", "district", "gender", "price"]


# --- services ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Men's haircut", 1),
        ("  men's   HAIRCUT ", 1),
        ("Стрижка мужская", 1),
        ("стрижка  МУЖСКАЯ", 1),
        ("pánsky strih", 1),
        ("Стрижка женская", 2),
        ("муж. стрижка", 1),  # a mapping the person made
        ("Men's haircut (long)", 2),
        ("Окрашивание", None),
    ],
)
def test_service_names_resolve(name, expected):
    found = services().resolve(name)
    assert (found.pk if found else None) == expected


def test_unknown_service_is_kept_as_written_and_not_an_error():
    fields, errors = clean(service="  Окрашивание корней ")
    assert errors == [] and fields["service"] is None and fields["service_name"] == "Окрашивание корней"


def test_priority_alias_over_name_over_synonym():
    first = Service(pk=1, name="Cut", synonyms=["Trim"])
    second = Service(pk=2, name="Trim", synonyms=["Cut"])
    index = ServiceIndex([first, second])
    assert index.resolve("cut").pk == 1 and index.resolve("trim").pk == 2
    index = ServiceIndex([first, second], [ServiceAlias(name="cut", service_id=2)])
    assert index.resolve("Cut").pk == 2


def test_service_key_folds_case_spaces_and_yo():
    assert service_key("  Свадебная   ПРИЧЁСКА ") == "свадебная прическа"
    index = services()
    assert index.resolve("Стрижка мужская") is index.resolve("стрижка мужская") is not None
