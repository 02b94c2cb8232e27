"""Quick entry (add_order, checked as an imported row is), delete_order and the dashboard's headline."""

from datetime import date
from decimal import Decimal

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.audience import actions
from smmdesk.audience.models import Order

from .report_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

# 10:00 on 14 March 2026 in Yekaterinburg (UTC+5).
NOW = "2026-03-14T05:00:00Z"


def member(cast, role="owner", workspace=None):
    if workspace is not None:
        return Membership.objects.get(workspace=workspace)
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_add_an_order_typed_in_by_hand(cast, services, clock):
    owner = member(cast)
    order = actions.add_order(
        owner,
        {
            "order_id": " Q-1 ",
            "date": "14.03.2026",
            "service": "Мужская  стрижка",  # a synonym of Men's haircut, case and spaces aside
            "price": "1 200,50",
            "gender": "м",
            "birth_year": "1990",
            "district": "Leninsky",
            "source": "walk-in",
        },
    )
    order.refresh_from_db()
    assert (order.workspace, order.entered_by, order.order_id) == (cast.workspace, owner, "Q-1")
    assert (order.date, order.service, order.service_name) == (
        date(2026, 3, 14),
        services["men"],
        "Мужская  стрижка",
    )
    assert (order.price, order.gender, order.age, order.birth_year) == (Decimal("1200.50"), "male", 36, 1990)
    assert (order.district, order.source, order.client_id) == ("Leninsky", "walk-in", "")


def test_a_service_not_in_the_profile_is_kept_as_written(cast, services, clock):
    order = actions.add_order(
        member(cast), {"order_id": "Q-2", "date": "2026-03-13", "service": "Окрашивание"}
    )
    assert (order.service, order.service_name, order.price, order.gender, order.age) == (
        None,
        "Окрашивание",
        None,
        "unknown",
        None,
    )


def test_every_bad_field_is_named_and_nothing_is_saved(cast, services, clock):
    with pytest.raises(actions.InvalidInput) as refused:
        actions.add_order(
            member(cast),
            {
                "order_id": "",
                "date": "2026-03-16",
                "service": "",
                "price": "cheap",
                "gender": "robot",
                "age": "200",
            },
        )
    # 16 March is two days ahead of the business's today (one day of CRM clock skew is allowed).
    assert {field for field, _message in refused.value.errors} == {
        "order_id",
        "date",
        "service",
        "price",
        "gender",
        "age",
    }
    assert all(message for _field, message in refused.value.errors)
    assert not Order.objects.exists()


def test_a_repeated_order_id_is_refused(cast, services, clock):
    owner = member(cast)
    first = {"order_id": "Q-3", "date": "2026-03-14", "service": "Men's haircut"}
    actions.add_order(owner, first)
    with pytest.raises(actions.InvalidInput) as refused:
        actions.add_order(owner, {**first, "service": "Women's haircut"})
    assert refused.value.errors[0][0] == "order_id" and refused.value.field == "order_id"
    assert Order.objects.get(order_id="Q-3").service == services["men"]
    # Another workspace's ids are its own.
    assert actions.add_order(member(cast, workspace=cast.other), first).workspace == cast.other


def test_only_managers_enter_and_delete_orders(cast, services, clock):
    data = {"order_id": "Q-4", "date": "2026-03-14", "service": "Men's haircut"}
    for role in ("content_manager", "agent", "viewer"):
        with pytest.raises(actions.NotAllowed):
            actions.add_order(member(cast, role), data)
    assert not Order.objects.exists()
    order = actions.add_order(member(cast, "smm_manager"), data)
    for who in (member(cast, "content_manager"), member(cast, workspace=cast.other)):
        with pytest.raises(actions.NotAllowed):
            actions.delete_order(who, order)
    assert Order.objects.filter(pk=order.pk).exists()
    actions.delete_order(member(cast), order)
    assert not Order.objects.exists()


def test_headline_over_the_last_30_days(cast, hairdresser):
    # 2..31 March: March's orders but D1 (1 March) = 11; the 30 days before, 31 January .. 1 March:
    # D1 and P2..P8 = 8 (P1 is 29 January).
    # Revenue 11900 - 3000 = 8900. Women's 5 / 11 = 0.454545.
    # Gender: female W1-W4 C1 = 5, male M1-M3 C2 = 4. Ages: 25-34 M1 W1 W2 = 3, <18 2, 18-24 2.
    assert actions.headline(cast.workspace, today=date(2026, 3, 31)) == {
        "orders_30d": 11,
        "orders_prev_30d": 8,
        "revenue_30d": Decimal("8900.00"),
        "top_service": "Women's haircut",
        "top_share": 0.4545,
        "top_gender": "female",
        "top_age_group": "25-34",
    }


def test_headline_uses_the_business_today(cast, hairdresser, time_machine):
    # 20:00 UTC on 29 April is 30 April in Yekaterinburg: 1..30 April holds X2 only; the 30 days before,
    # 2..31 March, hold March's orders but D1.
    time_machine.move_to("2026-04-29T20:00:00Z", tick=False)
    figures = actions.headline(cast.workspace)
    assert (figures["orders_30d"], figures["orders_prev_30d"], figures["top_share"]) == (1, 11, 1.0)
    # Two hours earlier it is still 29 April there: 31 March .. 29 April adds W5 (31 March).
    time_machine.move_to("2026-04-29T18:00:00Z", tick=False)
    assert actions.headline(cast.workspace)["orders_30d"] == 2


def test_headline_without_orders(cast):
    assert actions.headline(cast.workspace, today=date(2026, 3, 31)) == {
        "orders_30d": 0,
        "orders_prev_30d": 0,
        "revenue_30d": Decimal("0.00"),
        "top_service": None,
        "top_share": None,
        "top_gender": None,
        "top_age_group": None,
    }
