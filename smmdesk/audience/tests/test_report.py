"""The audience report against March 2026 of the hairdresser, worked out by hand (report_fixtures.MARCH).

March: 12 orders. Men's 4 (M1-M4), women's 5 (W1-W5), children's 2 (C1, C2), wedding 1 (D1).
Revenue: men's 600 × 3 + M4 without a price = 1800; women's 1200 + 1200 + 1500 + 1200 + 1200 = 6300;
children's 400 × 2 = 800; wedding 3000. Total 11900.
"""

from datetime import date
from decimal import Decimal

import pytest

from smmdesk.audience import actions, report
from smmdesk.audience.models import Order

from .report_fixtures import *  # noqa: F403
from .report_fixtures import add_orders

pytestmark = pytest.mark.django_db

MARCH_1, MARCH_31 = date(2026, 3, 1), date(2026, 3, 31)
NO_AGES = {"<18": 0.0, "18-24": 0.0, "25-34": 0.0, "35-44": 0.0, "45-54": 0.0, "55+": 0.0, "unknown": 0.0}


def by_name(data):
    return {row["service"]: row for row in data["services"]}


def test_march_totals_and_previous_period(cast, hairdresser):
    data = actions.report(cast.workspace, MARCH_1, MARCH_31)
    assert data["start"] == MARCH_1 and data["end"] == MARCH_31
    # The rival's March order and April's X2 are not counted.
    assert data["total_orders"] == 12
    assert data["total_revenue"] == Decimal("11900.00")
    # c1..c10, c4 twice; M4 has no client id.
    assert data["clients"] == 10
    # 31 days before 1 March: 29 Jan .. 28 Feb. P1..P8: men's 600 × 2, women's 1200 × 4, children's 400 × 2
    # = 1200 + 4800 + 800 = 6800; X1 (28 Jan) is one day too early.
    assert data["previous"] == {
        "start": date(2026, 1, 29),
        "end": date(2026, 2, 28),
        "total_orders": 8,
        "total_revenue": Decimal("6800.00"),
    }
    assert [row["service"] for row in data["services"]] == [
        "Women's haircut",
        "Men's haircut",
        "Children's haircut",
        "Wedding hairstyle",
    ]


def test_march_per_service(cast, hairdresser):
    rows = by_name(actions.report(cast.workspace, MARCH_1, MARCH_31))
    men = rows["Men's haircut"]
    assert men["service_id"] == hairdresser["men"].pk
    # 4 / 12 = 0.33333; 1800 / 11900 = 0.151260; (4 - 2) / 2 = 1.0
    assert (men["orders"], men["share"], men["revenue"], men["revenue_share"]) == (
        4,
        0.3333,
        Decimal("1800.00"),
        0.1513,
    )
    assert (men["previous_orders"], men["change"]) == (2, 1.0)
    # male M1 M2 M3 = 3/4, unknown M4 = 1/4
    assert men["gender"] == {"female": 0.0, "male": 0.75, "unknown": 0.25}
    # ages 30, 41, 22, none
    assert men["age_groups"] == {**NO_AGES, "18-24": 0.25, "25-34": 0.25, "35-44": 0.25, "unknown": 0.25}
    # Leninsky M1 M2, Central M3, none M4
    assert list(men["districts"].items()) == [("Leninsky", 0.5), ("Central", 0.25), ("unknown", 0.25)]
    assert list(men["sources"].items()) == [("vk", 0.5), ("instagram", 0.25), ("unknown", 0.25)]

    women = rows["Women's haircut"]
    # 5 / 12 = 0.416667; 6300 / 11900 = 0.529412; (5 - 4) / 4 = 0.25
    assert (women["orders"], women["share"], women["revenue"], women["revenue_share"]) == (
        5,
        0.4167,
        Decimal("6300.00"),
        0.5294,
    )
    assert (women["previous_orders"], women["change"]) == (4, 0.25)
    # female W1-W4 = 4/5, W5 unknown = 1/5
    assert women["gender"] == {"female": 0.8, "male": 0.0, "unknown": 0.2}
    # ages 27, 33 | 48 | 19 | 60
    assert women["age_groups"] == {**NO_AGES, "18-24": 0.2, "25-34": 0.4, "45-54": 0.2, "55+": 0.2}
    # Leninsky W1 W2 W4 = 3/5; Central W5, Promyshlenny W3 (a tie: by name)
    assert list(women["districts"].items()) == [("Leninsky", 0.6), ("Central", 0.2), ("Promyshlenny", 0.2)]
    assert list(women["sources"].items()) == [("vk", 0.6), ("telegram", 0.2), ("unknown", 0.2)]

    children = rows["Children's haircut"]
    # 2 / 12 = 0.166667; 800 / 11900 = 0.067227; (2 - 2) / 2 = 0
    assert (children["orders"], children["share"], children["revenue_share"], children["change"]) == (
        2,
        0.1667,
        0.0672,
        0.0,
    )
    assert children["gender"] == {"female": 0.5, "male": 0.5, "unknown": 0.0}
    assert children["age_groups"] == {**NO_AGES, "<18": 1.0}
    assert children["districts"] == {"Leninsky": 1.0}

    wedding = rows["Wedding hairstyle"]
    # 1 / 12 = 0.083333; 3000 / 11900 = 0.252101; none before: no change to compute
    assert (wedding["orders"], wedding["share"], wedding["revenue_share"]) == (1, 0.0833, 0.2521)
    assert (wedding["previous_orders"], wedding["change"]) == (0, None)
    assert wedding["sources"] == {"instagram": 1.0}


def test_march_whole_business(cast, hairdresser):
    data = actions.report(cast.workspace, MARCH_1, MARCH_31)
    # female W1-W4 C1 D1 = 6/12, male M1-M3 C2 = 4/12, unknown M4 W5 = 2/12
    assert data["gender"] == {"female": 0.5, "male": 0.3333, "unknown": 0.1667}
    # <18 C1 C2; 18-24 M3 W4; 25-34 M1 W1 W2 D1; 35-44 M2; 45-54 W3; 55+ W5; unknown M4
    assert data["age_groups"] == {
        "<18": 0.1667,
        "18-24": 0.1667,
        "25-34": 0.3333,
        "35-44": 0.0833,
        "45-54": 0.0833,
        "55+": 0.0833,
        "unknown": 0.0833,
    }
    # Leninsky M1 M2 W1 W2 W4 C1 C2 = 7; Central M3 W5 D1 = 3; Promyshlenny W3; none M4
    assert list(data["districts"].items()) == [
        ("Leninsky", 0.5833),
        ("Central", 0.25),
        ("Promyshlenny", 0.0833),
        ("unknown", 0.0833),
    ]
    # vk M1 M2 W1 W3 W4 C1 = 6; instagram M3 C2 D1 = 3; none M4 W5 = 2; telegram W2 = 1
    assert list(data["sources"].items()) == [
        ("vk", 0.5),
        ("instagram", 0.25),
        ("unknown", 0.1667),
        ("telegram", 0.0833),
    ]


def test_previous_period_has_the_same_length(cast, hairdresser):
    # February (28 days) against 4..31 January, which holds P1 (29 Jan) and X1 (28 Jan), both men's.
    data = actions.report(cast.workspace, date(2026, 2, 1), date(2026, 2, 28))
    assert (data["previous"]["start"], data["previous"]["end"]) == (date(2026, 1, 4), date(2026, 1, 31))
    assert data["previous"]["total_orders"] == 2
    rows = by_name(data)
    # February: men's P2 only, against 2 before: (1 - 2) / 2
    assert (rows["Men's haircut"]["orders"], rows["Men's haircut"]["change"]) == (1, -0.5)
    # women's P3-P6 = 4 with none before
    assert (rows["Women's haircut"]["orders"], rows["Women's haircut"]["change"]) == (4, None)
    # One day: 1 March (D1) against 28 February (P2).
    day = actions.report(cast.workspace, MARCH_1, MARCH_1)
    assert day["previous"]["start"] == day["previous"]["end"] == date(2026, 2, 28)
    assert (day["total_orders"], day["previous"]["total_orders"]) == (1, 1)


@pytest.mark.parametrize(
    "age, group",
    [(0, "<18"), (17, "<18"), (18, "18-24"), (24, "18-24"), (25, "25-34"), (34, "25-34"), (35, "35-44")]
    + [(44, "35-44"), (45, "45-54"), (54, "45-54"), (55, "55+"), (120, "55+"), (None, "unknown")],
)
def test_age_group_boundaries(cast, services, age, group):
    add_orders(cast.workspace, services, [("A", "2026-03-05", "men", "600", "male", age, "", "", "")])
    data = actions.report(cast.workspace, MARCH_1, MARCH_31)
    assert data["age_groups"] == {**NO_AGES, group: 1.0}
    assert report.age_group_of(age) == group


def test_names_not_in_the_profile_and_aliases(cast, services):
    men = services["men"]
    Order.objects.create(
        workspace=cast.workspace,
        order_id="1",
        date=MARCH_1,
        service=None,
        service_name="Окрашивание",
        price=2000,
    )
    # A CRM's name mapped to the profile's service is reported under the profile's name.
    for order_id, name in (("2", "Стрижка муж."), ("3", "Men's haircut")):
        Order.objects.create(
            workspace=cast.workspace,
            order_id=order_id,
            date=MARCH_1,
            service=men,
            service_name=name,
            price=600,
        )
    data = actions.report(cast.workspace, MARCH_1, MARCH_31)
    assert [(row["service"], row["service_id"], row["orders"]) for row in data["services"]] == [
        ("Men's haircut", men.pk, 2),
        ("Окрашивание", None, 1),
    ]
    # 2000 / 3200 = 0.625
    assert data["services"][1]["revenue_share"] == 0.625


def test_a_period_without_orders(cast, hairdresser):
    data = actions.report(cast.workspace, date(2025, 1, 1), date(2025, 1, 31))
    assert (data["total_orders"], data["total_revenue"], data["clients"], data["services"]) == (0, 0, 0, [])
    assert data["gender"] == {"female": 0.0, "male": 0.0, "unknown": 0.0}
    assert data["districts"] == {} and data["age_groups"] == NO_AGES


def test_revenue_share_when_nothing_has_a_price(cast, services):
    add_orders(cast.workspace, services, [("A", "2026-03-05", "men", None, "male", 30, "", "", "")])
    row = actions.report(cast.workspace, MARCH_1, MARCH_31)["services"][0]
    assert (row["orders"], row["share"], row["revenue"], row["revenue_share"]) == (
        1,
        1.0,
        Decimal("0.00"),
        0.0,
    )


def test_counting_is_done_by_the_database(cast, services, django_assert_num_queries):
    # The same number of queries for 3 orders as for 300: no query, and no Python pass, per order.
    for count in (3, 300):
        Order.objects.filter(workspace=cast.workspace).delete()
        Order.objects.bulk_create(
            Order(
                workspace=cast.workspace,
                order_id=f"{count}-{n}",
                date=date(2026, 3, 1 + n % 28),
                service=services[("men", "women", "children")[n % 3]],
                service_name="x",
                price=100,
                gender=("female", "male", "unknown")[n % 3],
                age=n % 90,
                district=f"d{n % 7}",
                source=f"s{n % 4}",
                client_id=str(n % 50),
            )
            for n in range(count)
        )
        with django_assert_num_queries(5):
            data = actions.report(cast.workspace, MARCH_1, MARCH_31)
        assert data["total_orders"] == count


def test_the_last_day_before_the_first_is_refused(cast):
    with pytest.raises(actions.AudienceError) as refused:
        actions.report(cast.workspace, MARCH_31, MARCH_1)
    assert refused.value.field == "end"
    with pytest.raises(actions.AudienceError) as refused:
        actions.report(cast.workspace, date.min, date(1, 1, 5))
    assert refused.value.field == "start"


def test_report_json_defaults_to_every_order(cast, hairdresser):
    data = actions.report_json(cast.workspace, None, None)
    # 12 in March, 9 before (P1-P8, X1), 1 in April
    assert data["total_orders"] == 22
    assert list(data) == ["total_orders", "services"]
    women = data["services"][0]
    assert list(women) == ["service", "orders", "share", "revenue", "gender", "age_groups", "districts"]
    # March 6300 + February 4800 + April 1200
    assert women["revenue"] == 12300 and isinstance(women["revenue"], int)
    march = actions.report_json(cast.workspace, MARCH_1, MARCH_31)
    assert march["total_orders"] == 12
    # From 1 March to the last order (1 April); up to 31 January from the first (28 January).
    assert actions.report_json(cast.workspace, MARCH_1, None)["total_orders"] == 13
    assert actions.report_json(cast.workspace, None, date(2026, 1, 31))["total_orders"] == 2


def test_report_json_keeps_cents(cast, services):
    add_orders(cast.workspace, services, [("A", "2026-03-05", "men", "600.50", "male", 30, "", "", "")])
    assert actions.report_json(cast.workspace, None, None)["services"][0]["revenue"] == 600.5
