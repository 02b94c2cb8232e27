"""Demo audience data for the Orenburg hairdresser: a year of orders as its booking system would export
them (about 300: men's, women's, children's haircuts and wedding hairstyles, plus a few under the CRM's
own name "Стрижка машинкой" for the "Services in orders" tab), and two saved segments.

The orders go in through the real import (a CSV written to a temporary file), so the demo shows a past
import job too. The "random" year is the same every time (a seeded generator); dates are counted back
from the business's today so the report's presets find them whenever the demo is loaded. Loading again
adds nothing: the import runs only while the workspace has no orders, and segments are made once.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role
from smmdesk.audience import actions, imports
from smmdesk.audience.models import Order, Segment
from smmdesk.business.models import Service

WORKSPACE = "demo-orenburg"
SEED = 9
DAYS = 365
HEADERS = [
    "№ заказа",
    "Дата",
    "Услуга",
    "Сумма",
    "Клиент",
    "Пол",
    "Возраст",
    "Район",
    "Источник",
    "utm_campaign",
]

# (service name as the CRM writes it, orders, price range, gender weights (female, male, unknown), ages)
SERVICES = [
    ("Мужская стрижка", 120, (600, 800), (2, 92, 6), (16, 70)),
    ("Женская стрижка", 105, (1200, 1900), (94, 1, 5), (17, 75)),
    ("Детская стрижка", 55, (450, 550), (48, 48, 4), (3, 14)),
    ("Свадебная причёска", 20, (3500, 5500), (100, 0, 0), (19, 36)),
    # The CRM's own name for a quick clipper cut: not a service of the profile until someone maps it.
    ("Стрижка машинкой", 8, (400, 400), (0, 100, 0), (18, 60)),
]
DISTRICTS = [("Ленинский", 50), ("Центральный", 20), ("Дзержинский", 14), ("Промышленный", 10), ("", 6)]
SOURCES = [
    ("ВКонтакте", 30),
    ("2ГИС", 18),
    ("Яндекс Карты", 15),
    ("Сарафанное радио", 15),
    ("Telegram", 10),
    ("Вывеска", 12),
]
SEGMENTS = [
    {
        "name": "Мужчины 25–44, Ленинский район",
        "services": ["Мужская стрижка"],
        "gender": "male",
        "age_min": 25,
        "age_max": 44,
        "districts": ["Ленинский"],
    },
    {
        "name": "Невесты 18–34",
        "services": ["Свадебная причёска"],
        "gender": "female",
        "age_min": 18,
        "age_max": 34,
    },
]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _age(rng: random.Random, low: int, high: int) -> str:
    if rng.random() < 0.08:
        return ""  # not every client says
    # Most clients are in the middle of the range; a triangular draw keeps the edges rarer.
    return str(int(rng.triangular(low, high, (low + high) / 2)))


def rows(today) -> list[list[str]]:
    """The demo's orders, oldest first, as the CSV's rows."""
    rng = random.Random(SEED)
    # Regular clients come back: ids from a pool smaller than the number of orders.
    pool = [f"K-{n:04d}" for n in range(1, 181)]
    found = []
    for name, count, (low, high), genders, (young, old) in SERVICES:
        for _n in range(count):
            # More orders lately: the business is growing, so the report shows a rise on the last period.
            back = int(DAYS * rng.random() ** 1.25)
            gender = _pick(rng, list(zip(("ж", "м", ""), genders, strict=True)))
            source = _pick(rng, SOURCES)
            campaign = "vk_target_leninsky" if source == "ВКонтакте" and rng.random() < 0.5 else ""
            found.append(
                [
                    today - timedelta(days=back),
                    name,
                    str(rng.randrange(low, high + 1, 50)),
                    rng.choice(pool),
                    gender,
                    _age(rng, young, old),
                    _pick(rng, DISTRICTS),
                    source,
                    campaign,
                ]
            )
    found.sort(key=lambda row: row[0])
    return [[f"LK-{n:04d}", day.strftime("%d.%m.%Y"), *rest] for n, (day, *rest) in enumerate(found, 1)]


def _owner(workspace) -> Membership | None:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).select_related("workspace").first()


def _import(owner: Membership) -> None:
    today = actions.business_today(owner.workspace)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crm-export.csv"
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=";")
            writer.writerow(HEADERS)
            writer.writerows(rows(today))
        imports.import_path(owner.workspace, path, membership=owner)


def _segments(owner: Membership) -> None:
    services = {s.name: s.pk for s in Service.objects.filter(workspace=owner.workspace)}
    for spec in SEGMENTS:
        if Segment.objects.filter(workspace=owner.workspace, name=spec["name"]).exists():
            continue
        data = {**spec, "services": [services[name] for name in spec["services"] if name in services]}
        actions.save_segment(owner, data)


def load(workspace) -> None:
    if workspace.slug != WORKSPACE:
        return
    owner = _owner(workspace)
    if owner is None:
        return
    if not Order.objects.filter(workspace=workspace).exists():
        _import(owner)
    _segments(owner)
