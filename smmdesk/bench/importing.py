"""`smmdesk bench import [--rows N]`: import N orders of the demo hairdresser from a CSV.

In a throwaway data dir with a fresh SQLite database, the benchmark loads the demo hairdresser's
workspace (its profile and services, as `smmdesk demo` does), writes a CSV of N orders as its CRM would
export them (semicolon-separated, Russian headers, comma decimals, dd.mm.yyyy dates, a few service names
the profile does not know, some birth years instead of ages), and times the product's synchronous import
(imports.import_path, what `smmdesk audience import` runs): reading, checking every row and writing the
orders in one transaction.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from datetime import date, timedelta
from pathlib import Path

from smmdesk.bench import BenchError, run_child, say, setup_child

DEFAULT_ROWS = 100_000
SEED = 9
HEADERS = [
    "№ заказа", "Дата", "Услуга", "Сумма", "Клиент", "Пол", "Возраст", "Год рождения", "Район", "Источник",
]  # fmt: skip
# How the CRM writes the services, with a share of orders each; the last two are not in the profile.
SERVICES = [
    ("Мужская стрижка", 600, 0.36),
    ("стрижка мужская", 600, 0.08),
    ("Женская стрижка", 1200, 0.3),
    ("Детская стрижка", 450, 0.14),
    ("Свадебная причёска", 3500, 0.04),
    ("Окрашивание", 2500, 0.05),
    ("Укладка", 800, 0.03),
]
SOURCES = ["ВКонтакте", "Telegram", "Яндекс Карты", "Сарафан", "Вывеска", ""]
GENDERS = {"Мужская стрижка": "м", "стрижка мужская": "муж", "Свадебная причёска": "ж"}


def run_import(rows: int = DEFAULT_ROWS, echo=print) -> str:
    """Run the benchmark in a child process; returns its last line."""
    return run_child("smmdesk.bench.importing", ["--rows", str(int(rows))], echo)


def write_orders(path: Path, count: int, districts: list[str], today: date) -> None:
    chance = random.Random(SEED)
    names = [name for name, _price, _share in SERVICES]
    weights = [share for _name, _price, share in SERVICES]
    prices = {name: price for name, price, _share in SERVICES}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADERS)
        for number in range(1, count + 1):
            service = chance.choices(names, weights)[0]
            day = today - timedelta(days=chance.randrange(365))
            gender = GENDERS.get(service) or chance.choice(["ж", "м", "ж", ""])
            age = chance.randrange(4, 12) if service == "Детская стрижка" else chance.randrange(17, 75)
            by_year = chance.random() < 0.2
            price = prices[service] + chance.choice([0, 0, 100, 250])
            writer.writerow(
                [
                    f"L-{number:07d}",
                    day.strftime("%d.%m.%Y"),
                    service,
                    f"{price:,}".replace(",", " ") + ",00",
                    f"C{chance.randrange(count // 3 + 1):06d}",
                    gender,
                    "" if by_year else age,
                    day.year - age if by_year else "",
                    chance.choice(districts),
                    chance.choice(SOURCES),
                ]
            )


def run(count: int) -> str:
    setup_child()
    from django.conf import settings
    from django.utils import timezone

    from smmdesk.audience import imports
    from smmdesk.core import demo

    spec = next(spec for spec in demo.WORKSPACES if spec["slug"] == "demo-orenburg")
    workspace, _users = demo.load_workspace(spec)
    path = Path(settings.DATA_DIR) / "orders.csv"
    write_orders(path, count, spec["profile"]["districts"], timezone.localdate())
    size = path.stat().st_size / (1024 * 1024)
    say(f"import: {count} orders of {workspace.slug} in a {size:.1f} MB CSV")
    started = time.perf_counter()
    job = imports.import_path(workspace, path)
    seconds = time.perf_counter() - started
    if job.status != job.Status.DONE:
        problems = "; ".join(f"row {e['row']}, {e['field']}: {e['message']}" for e in job.errors[:5])
        raise BenchError(f"the import was refused: {problems}")
    unknown = ", ".join(f"{name} {orders}" for name, orders in job.unknown_services.items())
    say(f"import: created {job.created}; services not in the profile: {unknown}")
    return f"import: {job.created} rows in {seconds:.1f} s = {job.created / seconds:.0f} rows/s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk bench import")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    say(run(args.rows))


if __name__ == "__main__":
    main()
