"""The hairdresser's services and a small set of orders whose report is worked out by hand in the tests.

Orders are written straight to the table (not through the import), so the report's tests check only the
report. Import the fixtures with `from .report_fixtures import *`.
"""

from datetime import date
from decimal import Decimal

import pytest

from smmdesk.audience.models import Order
from smmdesk.business.models import Service

__all__ = ["services", "hairdresser"]

SERVICES = {
    "men": ("Men's haircut", "600", ["мужская стрижка", "barber"]),
    "women": ("Women's haircut", "1200", ["женская стрижка"]),
    "children": ("Children's haircut", "400", ["детская стрижка"]),
    "wedding": ("Wedding hairstyle", "3000", ["свадебная прическа", "Barber"]),
}

# (order id, date, service key, price, gender, age, district, source, client id) for March 2026.
MARCH = [
    ("M1", "2026-03-02", "men", "600", "male", 30, "Leninsky", "vk", "c1"),
    ("M2", "2026-03-05", "men", "600", "male", 41, "Leninsky", "vk", "c2"),
    ("M3", "2026-03-09", "men", "600", "male", 22, "Central", "instagram", "c3"),
    ("M4", "2026-03-20", "men", None, "unknown", None, "", "", ""),
    ("W1", "2026-03-03", "women", "1200", "female", 27, "Leninsky", "vk", "c4"),
    ("W2", "2026-03-06", "women", "1200", "female", 33, "Leninsky", "telegram", "c5"),
    ("W3", "2026-03-11", "women", "1500", "female", 48, "Promyshlenny", "vk", "c4"),
    ("W4", "2026-03-15", "women", "1200", "female", 19, "Leninsky", "vk", "c6"),
    ("W5", "2026-03-31", "women", "1200", "unknown", 60, "Central", "", "c7"),
    ("C1", "2026-03-07", "children", "400", "female", 8, "Leninsky", "vk", "c8"),
    ("C2", "2026-03-21", "children", "400", "male", 11, "Leninsky", "instagram", "c9"),
    ("D1", "2026-03-01", "wedding", "3000", "female", 26, "Central", "instagram", "c10"),
]

# The 31 days before March: 29 January .. 28 February, both ends used; 28 January is outside.
BEFORE = [
    ("P1", "2026-01-29", "men", "600", "male", 35, "Leninsky", "vk", "p1"),
    ("P2", "2026-02-28", "men", "600", "male", 36, "Leninsky", "vk", "p2"),
    ("P3", "2026-02-02", "women", "1200", "female", 30, "Leninsky", "vk", "p3"),
    ("P4", "2026-02-09", "women", "1200", "female", 31, "Leninsky", "vk", "p4"),
    ("P5", "2026-02-16", "women", "1200", "female", 32, "Central", "vk", "p5"),
    ("P6", "2026-02-23", "women", "1200", "female", 33, "Central", "vk", "p6"),
    ("P7", "2026-02-10", "children", "400", "female", 7, "Leninsky", "vk", "p7"),
    ("P8", "2026-02-11", "children", "400", "male", 9, "Leninsky", "vk", "p8"),
    ("X1", "2026-01-28", "men", "600", "male", 40, "Leninsky", "vk", "x1"),
]
# After the period: must not count anywhere.
AFTER = [("X2", "2026-04-01", "women", "1200", "female", 25, "Leninsky", "vk", "x2")]


def make_services(workspace) -> dict[str, Service]:
    return {
        key: Service.objects.create(workspace=workspace, name=name, price=Decimal(price), synonyms=synonyms)
        for key, (name, price, synonyms) in SERVICES.items()
    }


def add_orders(workspace, services: dict[str, Service], rows) -> list[Order]:
    created = []
    for order_id, day, key, price, gender, age, district, source, client in rows:
        service = services[key]
        created.append(
            Order.objects.create(
                workspace=workspace,
                order_id=order_id,
                date=date.fromisoformat(day),
                service=service,
                service_name=service.name,
                price=None if price is None else Decimal(price),
                gender=gender,
                age=age,
                district=district,
                source=source,
                client_id=client,
            )
        )
    return created


@pytest.fixture
def services(cast):
    return make_services(cast.workspace)


@pytest.fixture
def hairdresser(cast, services):
    """March's 12 orders, the previous 31 days' 8 (and one just before), one in April, and one order of
    the rival workspace in March."""
    add_orders(cast.workspace, services, MARCH + BEFORE + AFTER)
    rival = make_services(cast.other)
    add_orders(
        cast.other, rival, [("R1", "2026-03-10", "wedding", "3000", "female", 30, "Leninsky", "vk", "r1")]
    )
    return services
