"""Cleaning one order: raw cells in (text from a CSV or a form, numbers and datetimes from XLSX), the
Order's field values and a (field, message) pair per problem out.

The rules (docs/audience.md repeats them for users):
- order id, date and service are required;
- dates: a date or datetime cell; an Excel serial number (1900 date system, where serial 60 is the
  29 February 1900 that never was, and is refused); text as yyyy-mm-dd (also with / or .), dd.mm.yyyy
  (also with -), and with "/" day first (04/03/2026 is 4 March) unless the second part is over 12 and
  so cannot be a month (3/14/2026 is American, 14 March). A time after the date is ignored. Not later than tomorrow (a CRM's clock may be ahead);
- price: "1200", "1 200,50", "1.200,50", "1,200.50", "1200 ₽", "€12.5". A single separator followed by
  exactly three digits groups thousands ("1.200" is 1200); with one or two digits it is the decimal one.
  Rounded to cents; never negative;
- gender in en/ru/sk and short forms (f/m, ж/м, ž/m, woman/man, женский/мужской, žena/muž); an empty or
  "unknown" cell is unknown; anything else is an error;
- age 0..120, or a birth year 1900..this year (a birth date is taken for its year); the age is then the
  age in the order's year;
- the service name is kept as written: a name that matches no profile service is not an error.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smmdesk.audience.models import Gender, ServiceAlias
from smmdesk.business.models import Service

# (name, label, required), in the order a mapping form shows them.
FIELDS: list[tuple[str, str, bool]] = [
    ("order_id", gettext_lazy("Order ID"), True),
    ("date", gettext_lazy("Date"), True),
    ("service", gettext_lazy("Service"), True),
    ("price", gettext_lazy("Price"), False),
    ("client_id", gettext_lazy("Client ID"), False),
    ("gender", gettext_lazy("Gender"), False),
    ("age", gettext_lazy("Age"), False),
    ("birth_year", gettext_lazy("Birth year"), False),
    ("district", gettext_lazy("District"), False),
    ("source", gettext_lazy("Source"), False),
    ("utm_campaign", gettext_lazy("UTM campaign"), False),
]
FIELD_NAMES = [name for name, _label, _required in FIELDS]
REQUIRED = [name for name, _label, required in FIELDS if required]
TEXT_LIMITS = {"order_id": 100, "client_id": 100, "district": 120, "source": 120, "utm_campaign": 200}
SERVICE_LIMIT = 200
MAX_AGE = 120
MIN_YEAR = 1900
MAX_PRICE = Decimal("9999999999.99")  # Order.price: 12 digits, 2 of them decimals
CENT = Decimal("0.01")
# Excel's day 0 is 1899-12-31, but Excel also counts a 29 February 1900 (serial 60): from serial 61 on,
# days are one more than the calendar's.
EXCEL_1900 = date(1899, 12, 31)
EXCEL_1900_LATE = date(1899, 12, 30)
EXCEL_1904 = date(1904, 1, 1)
EXCEL_LEAP_BUG = 60
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31


class Bad(ValueError):
    """A value that cannot be read; the message is for the person."""


# --- services ------------------------------------------------------------------------------------------


def service_key(name: str) -> str:
    """A service name as matched (and as ServiceAlias.name stores it): case-folded, ё as е, spaces
    collapsed."""
    return " ".join(str(name).casefold().replace("ё", "е").split())


class ServiceIndex:
    """The workspace's service names, built once per import: resolves a name as written to a profile
    Service, or None. A mapping the person made (ServiceAlias) wins over a profile name, which wins over
    a synonym."""

    def __init__(self, services: list[Service], aliases: list[ServiceAlias] = ()):
        by_id = {service.pk: service for service in services}
        self._names: dict[str, Service] = {}
        for service in services:
            for synonym in service.synonyms or []:
                if isinstance(synonym, str) and service_key(synonym):
                    self._names.setdefault(service_key(synonym), service)
        for service in services:
            self._names[service_key(service.name)] = service
        for alias in aliases:
            service = by_id.get(alias.service_id)
            if service is not None:
                self._names[service_key(alias.name)] = service
        self._seen: dict[str, Service | None] = {}

    @classmethod
    def for_workspace(cls, workspace) -> ServiceIndex:
        services = list(Service.objects.filter(workspace=workspace))
        return cls(services, list(ServiceAlias.objects.filter(workspace=workspace)))

    def resolve(self, name: str) -> Service | None:
        try:
            return self._seen[name]
        except KeyError:
            found = self._seen[name] = self._names.get(service_key(name))
            return found


# --- cells ---------------------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as text: numbers without a spurious ".0", dates as yyyy-mm-dd, surrounding spaces off."""
    if type(value) is str:  # nearly every cell: the first test, for speed
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def excel_serial_date(serial: float, mac: bool = False) -> date:
    """The date of an Excel serial day number (the time of day, its fraction, is dropped)."""
    day = int(serial)
    if serial < 0 or day > EXCEL_MAX_SERIAL or (not mac and day < 1):
        raise Bad(_("%(value)s is not an Excel date.") % {"value": cell_text(serial)})
    if mac:
        return EXCEL_1904 + timedelta(days=day)
    if day == EXCEL_LEAP_BUG:
        raise Bad(_("Excel's 29 February 1900 does not exist; check the date."))
    return (EXCEL_1900 if day < EXCEL_LEAP_BUG else EXCEL_1900_LATE) + timedelta(days=day)


_TIME = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2}|[ap]\.?m\.?)?)?"
_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME, re.I)
_DAY_FIRST = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})" + _TIME, re.I)


@lru_cache(maxsize=8192)
def parse_date_text(text: str) -> date:
    match = _YEAR_FIRST.fullmatch(text)
    if match:
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    else:
        match = _DAY_FIRST.fullmatch(text)
        if not match:
            raise Bad(_("Not a date; write it as 2026-03-14 or 14.03.2026."))
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        # "/" is the one separator Americans write month first with: 3/14/2026, where 14 cannot be a month.
        day, month = (second, first) if match[2] == "/" and second > 12 >= first else (first, second)
    try:
        return date(year, month, day)
    except ValueError:
        raise Bad(_("There is no such day.")) from None


def parse_date(value, today: date) -> date:
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    elif isinstance(value, bool) or isinstance(value, time):
        raise Bad(_("Not a date; write it as 2026-03-14 or 14.03.2026."))
    elif isinstance(value, int | float):
        found = excel_serial_date(value)
    else:
        found = parse_date_text(cell_text(value))
    if found.year < MIN_YEAR:
        raise Bad(_("The year must be %(year)s or later.") % {"year": MIN_YEAR})
    if found > today + timedelta(days=1):
        raise Bad(_("The date is in the future."))
    return found


_MONEY = r"(?:₽|руб\.?|р\.?|rub|€|eur|\$|usd|kč|czk)"
_CURRENCY = re.compile(rf"^{_MONEY}|{_MONEY}$")
_GROUPING = re.compile(r"[\s\u00a0\u202f\u2009']+")
_NUMBER = re.compile(r"-?[\d.,]*\d")


def _grouped(digits: str, separator: str) -> str:
    """Digits with thousands separators ("1.200.000") without them; Bad if the groups are not of three."""
    parts = digits.split(separator)
    if not parts[0] or len(parts[0]) > 3 or any(len(part) != 3 for part in parts[1:]):
        raise Bad(_("Not a price; write it as 1200 or 1200.50."))
    return "".join(parts)


@lru_cache(maxsize=8192)
def parse_price_text(text: str) -> Decimal:
    plain = _CURRENCY.sub("", text.casefold().strip()).strip()
    plain = _GROUPING.sub("", plain)
    if not _NUMBER.fullmatch(plain):
        raise Bad(_("Not a price; write it as 1200 or 1200.50."))
    sign, plain = ("-", plain[1:]) if plain.startswith("-") else ("", plain)
    commas, dots = plain.count(","), plain.count(".")
    if commas and dots:
        decimal_mark = "," if plain.rfind(",") > plain.rfind(".") else "."
        group_mark = "." if decimal_mark == "," else ","
        whole, _sep, fraction = plain.rpartition(decimal_mark)
        if group_mark in fraction:
            raise Bad(_("Not a price; write it as 1200 or 1200.50."))
        plain = _grouped(whole, group_mark) + "." + fraction
    elif commas + dots == 1:
        mark = "," if commas else "."
        whole, _sep, fraction = plain.partition(mark)
        if len(fraction) == 3 and whole and whole != "0":
            plain = _grouped(plain, mark)
        else:
            plain = (whole or "0") + "." + fraction
    elif commas or dots:
        plain = _grouped(plain, "," if commas else ".")
    try:
        return Decimal(sign + plain)
    except InvalidOperation:
        raise Bad(_("Not a price; write it as 1200 or 1200.50.")) from None


def parse_price(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise Bad(_("Not a price; write it as 1200 or 1200.50."))
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            raise Bad(_("Not a price; write it as 1200 or 1200.50."))
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        amount = parse_price_text(cell_text(value))
    if not amount.is_finite():
        raise Bad(_("Not a price; write it as 1200 or 1200.50."))
    if amount < 0:
        raise Bad(_("The price cannot be negative."))
    # Checked before rounding too: quantize raises on a number of more digits than the context holds.
    if amount > MAX_PRICE or amount.quantize(CENT, rounding=ROUND_HALF_UP) > MAX_PRICE:
        raise Bad(_("The price is too large."))
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


GENDERS = {
    Gender.FEMALE: (
        "f", "female", "woman", "w", "fem", "ж", "жен", "женский", "женская", "женщина", "девушка",
        "ž", "z", "žena", "zena", "ženský", "zensky", "ženská", "zenska", "ženské", "zenske",
    ),
    Gender.MALE: (
        "m", "male", "man", "м", "муж", "мужской", "мужская", "мужчина", "парень",
        "muž", "muz", "mužský", "muzsky", "mužská", "muzska", "mužské", "muzske",
    ),
    Gender.UNKNOWN: (
        "", "-", "—", "–", "?", "unknown", "n/a", "na", "none", "other", "x", "u",
        "не указан", "не указано", "неизвестно", "нет данных", "другой", "другое",
        "neuvedené", "neuvedene", "neznáme", "nezname", "neznámy", "iné", "ine",
    ),
}  # fmt: skip
_GENDER_WORDS = {word: str(gender.value) for gender, words in GENDERS.items() for word in words}


def parse_gender(value) -> str:
    key = " ".join(cell_text(value).casefold().replace("ё", "е").rstrip(".").split())
    try:
        return _GENDER_WORDS[key]
    except KeyError:
        raise Bad(_("Not a gender; write female, male or leave it empty.")) from None


_AGE = re.compile(r"(\d{1,4})(?:[.,]0+)?\s*(?:лет|год|года|г|y|yo|yrs|years?|r|rokov|roky|rok)?\.?", re.I)


def parse_age(value, today: date) -> int | None:
    text = cell_text(value)
    if not text:
        return None
    match = None if isinstance(value, bool) else _AGE.fullmatch(text)
    if not match:
        raise Bad(_("Not an age; write a whole number of years."))
    age = int(match[1])
    if MIN_YEAR <= age <= today.year:
        raise Bad(_("This looks like a birth year: map this column to the birth year."))
    if age > MAX_AGE:
        raise Bad(_("The age must be from 0 to %(max)s.") % {"max": MAX_AGE})
    return age


def parse_birth_year(value, today: date) -> int | None:
    if isinstance(value, datetime | date):
        year = value.year
    else:
        text = cell_text(value)
        if not text:
            return None
        if re.fullmatch(r"\d{4}(?:[.,]0+)?", text):
            year = int(text[:4])
        else:
            try:
                year = parse_date_text(text).year
            except Bad:
                raise Bad(_("Not a birth year; write it as 1990.")) from None
    if not MIN_YEAR <= year <= today.year:
        raise Bad(_("The birth year must be from %(min)s to %(max)s.") % {"min": MIN_YEAR, "max": today.year})
    return year


# --- the row -------------------------------------------------------------------------------------------


def clean_order(values: dict[str, object], *, today: date, services: ServiceIndex) -> tuple[dict, list]:
    """Order field values from raw cells (field -> cell; a missing field is an empty cell), and the
    problems as (field, message). The values of the fields that were read are returned either way."""
    errors: list[tuple[str, str]] = []
    out: dict = {}

    def read(field, parse, *args):
        try:
            out[field] = parse(values.get(field), *args)
        except Bad as problem:
            errors.append((field, str(problem)))

    for field in ("order_id", "client_id", "district", "source", "utm_campaign"):
        text = cell_text(values.get(field))
        if field == "order_id" and not text:
            errors.append((field, _("The order id is missing.")))
        elif len(text) > TEXT_LIMITS[field]:
            errors.append((field, _("Longer than %(max)s characters.") % {"max": TEXT_LIMITS[field]}))
        else:
            out[field] = text
    if cell_text(values.get("date")):
        read("date", parse_date, today)
    else:
        errors.append(("date", _("The date is missing.")))
    name = cell_text(values.get("service"))
    if not name:
        errors.append(("service", _("The service is missing.")))
    elif len(name) > SERVICE_LIMIT:
        errors.append(("service", _("Longer than %(max)s characters.") % {"max": SERVICE_LIMIT}))
    else:
        out["service_name"] = name
        out["service"] = services.resolve(name)
    read("price", parse_price)
    read("gender", parse_gender)
    read("age", parse_age, today)
    read("birth_year", parse_birth_year, today)
    _age_from_birth_year(out, errors)
    return out, errors


def _age_from_birth_year(out: dict, errors: list) -> None:
    born, ordered = out.get("birth_year"), out.get("date")
    if born is None or ordered is None or out.get("age") is not None or "age" in dict(errors):
        return
    age = ordered.year - born
    if age < 0:
        errors.append(("birth_year", _("The birth year is after the order's date.")))
    elif age > MAX_AGE:
        errors.append(("birth_year", _("The age must be from 0 to %(max)s.") % {"max": MAX_AGE}))
    else:
        out["age"] = age
