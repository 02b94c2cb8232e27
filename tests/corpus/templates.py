"""Each importer's own table shape: a header it recognises, one good row, the text column that gets the
hostile cell and the number column that gets the hostile numbers."""

from __future__ import annotations

from dataclasses import dataclass

from tests.corpus import tables


@dataclass(frozen=True)
class Template:
    header: list[str]
    good: list[str]
    text_column: int
    number_column: int | None = None
    delimiter: str = ","
    unique: int | None = None  # the column an importer keys its records on

    def csv_cases(self) -> list[tables.Case]:
        return tables.csv_cases(
            self.header, self.good, self.text_column, self.number_column, self.delimiter, self.unique
        )

    def xlsx_cases(self) -> list[tables.Case]:
        return tables.xlsx_cases(self.header, self.good, self.text_column, self.unique)


TEMPLATES = {
    "audience_orders": Template(
        ["order_id", "date", "service", "price", "gender", "age", "district", "source"],
        ["H-1", "14.03.2026", "Стрижка женская", "1200", "ж", "34", "Ленинский", "vk"],
        text_column=6,
        number_column=3,
        delimiter=";",
        unique=0,
    ),
    "ads_stats": Template(
        ["Дата", "Кампания", "Группа", "Показы", "Клики", "Расход"],
        ["14.03.2026", "Стрижки", "Женские", "1000", "50", "250.00"],
        text_column=2,
        number_column=3,
        delimiter=";",
    ),
    "keywords_volumes": Template(
        ["Фраза", "Показов в месяц"],
        ["женская стрижка", "1300"],
        text_column=0,
        number_column=1,
        delimiter=";",
    ),
    "publishing_plan": Template(
        ["date", "time", "channels", "text", "media_url"],
        ["2026-04-01", "10:00", "VK", "Весенняя акция: стрижка -20%", ""],
        text_column=3,
        number_column=1,
    ),
    "sites_positions": Template(
        ["query", "date", "position", "url", "engine"],
        ["женская стрижка", "2026-03-14", "3", "https://example.com/zhenskaya-strizhka/", "yandex"],
        text_column=0,
        number_column=2,
    ),
    "sites_visits": Template(
        ["date", "page", "visits", "chats", "leads"],
        ["2026-03-14", "zhenskaya-strizhka", "120", "3", "1"],
        text_column=1,
        number_column=2,
    ),
}
