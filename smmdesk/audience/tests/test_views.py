"""The audience pages: the report with its period picker, charts and exports; orders with quick entry
and delete; service names found in orders and mapping them. Each for the roles that may (audience.view
reads, audience.manage changes), with bad input answered next to its field and never a 500.

The report's figures are checked against a handful of orders whose shares are worked out by hand below.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from smmdesk.audience.models import Order, ServiceAlias
from smmdesk.business.models import Service

pytestmark = pytest.mark.django_db

# Noon in Orenburg on 20 March 2026: the business's today, whatever the server's zone.
NOW = datetime(2026, 3, 20, 7, 0, tzinfo=UTC)
TODAY = date(2026, 3, 20)
READERS = ["owner", "smm_manager", "content_manager"]
MANAGERS = ["owner", "smm_manager"]
OUTSIDERS = ["agent", "viewer"]


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def url(name: str) -> str:
    """/w/salon/audience/<name>."""
    return f"/w/salon/audience/{name}"


def services(workspace) -> dict[str, Service]:
    men = Service.objects.create(
        workspace=workspace, name="Men's haircut", price=600, synonyms=["стрижка мужская"]
    )
    women = Service.objects.create(workspace=workspace, name="Women's haircut", price=1200)
    return {"men": men, "women": women}


def order(workspace, order_id: str, day: date, service: Service | None, price, **fields) -> Order:
    name = fields.pop("service_name", service.name if service else "")
    return Order.objects.create(
        workspace=workspace,
        order_id=order_id,
        date=day,
        service=service,
        service_name=name,
        price=price,
        **fields,
    )


@pytest.fixture
def orders(cast, clock):
    """Four orders in the last 90 days (21.12.2025–20.03.2026) and one in the 90 days before.

    By hand: 4 orders; men's 3 of 4 = 75.0 %, women's 1 = 25.0 %. Revenue 3 × 600 + 1200 = 3000: men's
    1800 = 60.0 %, women's 40.0 %. Men's had 1 order before: (3 − 1) / 1 = +200.0 %; women's none: "—".
    All orders: 4 against 1 = +300.0 %. Gender: male 2, female 1, unknown 1 = 50 / 25 / 25 %.
    Clients: c1, c2, c3 (one order has none) = 3.
    """
    found = services(cast.workspace)
    men, women = found["men"], found["women"]
    w = cast.workspace
    order(
        w,
        "M1",
        date(2026, 3, 1),
        men,
        600,
        gender="male",
        age=30,
        district="Leninsky",
        source="vk",
        client_id="c1",
    )
    order(
        w,
        "M2",
        date(2026, 3, 2),
        men,
        600,
        gender="male",
        age=40,
        district="Leninsky",
        source="vk",
        client_id="c2",
    )
    order(w, "M3", date(2026, 3, 3), men, 600)
    order(
        w, "W1", date(2026, 3, 4), women, 1200, gender="female", age=25, district="Central", source="instagram",
        client_id="c3",
    )  # fmt: skip
    order(w, "P1", date(2025, 12, 1), men, 600, gender="male", age=30)
    return found


def page_text(response) -> str:
    return html.unescape(response.content.decode())


# --- the report --------------------------------------------------------------------------------------


def test_report_figures_for_the_default_90_days(cast, login, orders):
    response = login(cast.users["owner"]).get(url(""))
    assert response.status_code == 200
    rows = {row["service"]: row for row in response.context["services"]}
    assert rows["Men's haircut"]["orders"] == 3 and rows["Women's haircut"]["orders"] == 1
    assert (
        rows["Men's haircut"]["share_text"] == "75.0 %" and rows["Women's haircut"]["share_text"] == "25.0 %"
    )
    assert (
        rows["Men's haircut"]["revenue_text"] == "1,800"
        and rows["Women's haircut"]["revenue_text"] == "1,200"
    )
    assert rows["Men's haircut"]["revenue_share_text"] == "60.0 %"
    assert (
        rows["Men's haircut"]["change_text"] == "+200.0 %" and rows["Women's haircut"]["change_text"] == "—"
    )
    assert response.context["change_text"] == "+300.0 %"
    assert (response.context["start"], response.context["end"]) == (date(2025, 12, 21), TODAY)
    text = page_text(response)
    assert re.search(r'data-testid="total-orders">4<', text)
    assert re.search(r'data-testid="total-clients">3<', text)
    assert "21.12.2025" in text and "20.03.2026" in text
    # The rows are in the table, biggest first.
    assert text.index('data-service="Men\'s haircut"') < text.index('data-service="Women\'s haircut"')


def test_report_draws_an_accessible_svg_per_chart(cast, login, orders):
    text = page_text(login(cast.users["content_manager"]).get(url("")))
    charts = re.findall(
        r'<figure class="aud-chart[^"]*" data-testid="chart-([\w-]+)">\s*<svg ([^>]*)>\s*<title[^>]*>([^<]+)</title>',
        text,
    )
    names = [name for name, _attrs, _title in charts]
    # Six for the whole business, two per service.
    assert names[:6] == [
        "orders-by-service",
        "revenue-by-service",
        "gender",
        "age-groups",
        "districts",
        "sources",
    ]
    assert len(names) == 6 + 2 * 2
    for _name, attrs, title in charts:
        assert 'role="img"' in attrs and f'aria-label="{title}"' in attrs
    # The gender chart: a bar per value, the labels in words, the values written beside them.
    gender = text[text.index('data-testid="chart-gender"') :]
    gender = gender[: gender.index("</figure>")]
    assert [label for label in re.findall(r'<text class="label"[^>]*>([^<]+)</text>', gender)] == [
        "Female",
        "Male",
        "not stated",
    ]
    assert re.findall(r'<text class="value"[^>]*>([^<]+)</text>', gender) == ["25.0 %", "50.0 %", "25.0 %"]
    widths = [float(w) for w in re.findall(r'<rect class="bar"[^>]* width="([\d.]+)"', gender)]
    assert widths[1] > widths[0] == widths[2] > 0  # male is the longest bar; the others half of it


def test_report_in_russian_writes_numbers_the_russian_way(cast, login, orders):
    owner = cast.users["owner"]
    owner.language = "ru"
    owner.save()
    response = login(owner).get(url(""))
    rows = {row["service"]: row for row in response.context["services"]}
    assert rows["Men's haircut"]["share_text"] == "75,0 %"
    # Coordinates stay SVG numbers whatever the language.
    assert not re.search(r'(x|y|width)="\d+,\d', response.content.decode())


def test_custom_period_and_its_previous_period(cast, login, orders):
    client = login(cast.users["owner"])
    response = client.get(url(""), {"period": "custom", "start": "2026-03-02", "end": "2026-03-03"})
    assert response.status_code == 200
    data = response.context["data"]
    assert data["total_orders"] == 2  # M2 and M3
    assert (data["previous"]["start"], data["previous"]["end"]) == (date(2026, 2, 28), date(2026, 3, 1))
    assert data["previous"]["total_orders"] == 1  # M1


def test_the_365_day_preset_counts_the_older_order(cast, login, orders):
    response = login(cast.users["owner"]).get(url(""), {"period": "365"})
    assert response.context["data"]["total_orders"] == 5
    assert response.context["start"] == date(2025, 3, 21)


@pytest.mark.parametrize(
    "params,field",
    [
        ({"period": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"period": "custom", "end": "2026-03-01"}, "start"),
        ({"period": "custom", "start": "2026-13-45", "end": "2026-03-01"}, "start"),
        ({"period": "custom", "start": "1066-10-14", "end": "2026-03-01"}, "start"),
        ({"period": "week"}, "period"),
    ],
)
def test_bad_period_is_named_next_to_its_field(cast, login, orders, params, field):
    client = login(cast.users["owner"])
    response = client.get(url(""), params)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert client.get(url("report.csv"), params).status_code == 400
    assert client.get(url("report.xlsx"), params).status_code == 400


def test_exports_follow_the_period(cast, login, orders):
    client = login(cast.users["content_manager"])
    params = {"period": "custom", "start": "2026-03-01", "end": "2026-03-04"}
    response = client.get(url("report.csv"), params)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "audience-salon-20260301-20260304.csv" in response["Content-Disposition"]
    body = response.content.decode()
    assert "Men's haircut" in body and "Women's haircut" in body
    response = client.get(url("report.xlsx"), params)
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    cells = [
        str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
    ]
    assert "Men's haircut" in cells


def test_export_links_carry_the_chosen_period(cast, login, orders):
    text = page_text(login(cast.users["owner"]).get(url(""), {"period": "30"}))
    assert (
        "/w/salon/audience/report.csv?period=30" in text and "/w/salon/audience/report.xlsx?period=30" in text
    )


def test_empty_report_says_so(cast, login, clock):
    response = login(cast.users["owner"]).get(url(""))
    assert response.status_code == 200
    assert 'data-testid="report-empty"' in response.content.decode()


def test_names_from_orders_are_escaped_everywhere(cast, login, clock):
    evil = '<script>alert("x")</script>'
    order(cast.workspace, "X1", date(2026, 3, 10), None, 100, service_name=evil, district=evil, source=evil)
    client = login(cast.users["owner"])
    for page in ("", "orders/", "services/"):
        body = client.get(url(page)).content.decode()
        assert "<script>alert" not in body, page
        assert "&lt;script&gt;" in body, page


@pytest.mark.parametrize("role", OUTSIDERS)
def test_roles_without_the_section_are_refused(cast, login, orders, role):
    client = login(cast.users[role])
    for page in ("", "report.csv", "orders/", "services/"):
        assert client.get(url(page)).status_code == 403, page


# --- orders ------------------------------------------------------------------------------------------


QUICK = {
    "order_id": "Q-1",
    "date": "2026-03-19",
    "service": "стрижка мужская",
    "price": "650",
    "client_id": "c9",
    "gender": "male",
    "age": "33",
    "district": "Leninsky",
    "source": "walk-in",
}


def test_quick_entry_adds_an_order(cast, login, orders):
    client = login(cast.users["smm_manager"])
    response = client.post(url("orders/"), QUICK)
    assert response.status_code == 302
    added = Order.objects.get(workspace=cast.workspace, order_id="Q-1")
    # The synonym finds the profile service, exactly as it would in an imported file.
    assert added.service == orders["men"] and added.price == Decimal("650") and added.age == 33
    assert added.gender == "male" and added.district == "Leninsky"
    page = client.get(url("orders/"))
    assert "Q-1" in page.content.decode()


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"date": ""}, "date"),
        ({"date": "2027-01-01"}, "date"),
        ({"age": "200"}, "age"),
        ({"price": "lots"}, "price"),
        ({"order_id": "M1"}, "order_id"),
        ({"service": ""}, "service"),
        ({"gender": "robot"}, "gender"),
    ],
)
def test_quick_entry_refusals_are_next_to_the_field(cast, login, orders, changes, field):
    client = login(cast.users["owner"])
    response = client.post(url("orders/"), {**QUICK, **changes})
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not Order.objects.filter(order_id="Q-1").exists()


def test_readers_see_orders_but_cannot_add_or_delete(cast, login, orders):
    client = login(cast.users["content_manager"])
    page = client.get(url("orders/"))
    assert page.status_code == 200
    body = page.content.decode()
    assert (
        "M1" in body and 'data-testid="order-form"' not in body and 'data-testid="order-delete"' not in body
    )
    assert client.post(url("orders/"), QUICK).status_code == 403
    m1 = Order.objects.get(order_id="M1")
    assert client.post(url(f"orders/{m1.pk}/delete/")).status_code == 403
    assert Order.objects.filter(pk=m1.pk).exists()


def test_delete_an_order(cast, login, orders):
    client = login(cast.users["owner"])
    m1 = Order.objects.get(order_id="M1")
    assert client.post(url(f"orders/{m1.pk}/delete/")).status_code == 302
    assert not Order.objects.filter(pk=m1.pk).exists()
    assert Order.objects.filter(workspace=cast.workspace).count() == 4


def test_another_workspaces_order_is_not_found(cast, login, orders):
    theirs = order(cast.other, "R1", date(2026, 3, 1), None, 100, service_name="Стрижка")
    response = login(cast.users["owner"]).post(url(f"orders/{theirs.pk}/delete/"))
    assert response.status_code == 404
    assert Order.objects.filter(pk=theirs.pk).exists()


def test_orders_are_paged(cast, login, clock):
    for n in range(51):
        order(cast.workspace, f"N{n:03}", date(2026, 3, 1), None, None, service_name="Стрижка")
    client = login(cast.users["owner"])
    first = client.get(url("orders/"))
    assert len(first.context["rows"]) == 50 and 'data-testid="orders-pager"' in first.content.decode()
    second = client.get(url("orders/"), {"page": 2})
    assert len(second.context["rows"]) == 1
    assert client.get(url("orders/"), {"page": "nonsense"}).status_code == 200


# --- service names in orders -------------------------------------------------------------------------


@pytest.fixture
def crm_names(cast, orders):
    order(cast.workspace, "C1", date(2026, 3, 5), None, 600, service_name="Стрижка муж.")
    order(cast.workspace, "C2", date(2026, 3, 6), None, 600, service_name="стрижка  МУЖ.")
    order(cast.workspace, "C3", date(2026, 3, 7), None, 300, service_name="Чёлка")
    return orders


def test_unknown_names_are_listed_with_their_orders(cast, login, crm_names):
    response = login(cast.users["content_manager"]).get(url("services/"))
    rows = {row["name"]: row["orders"] for row in response.context["rows"]}
    assert rows == {"Стрижка муж.": 1, "стрижка  МУЖ.": 1, "Чёлка": 1}
    assert 'data-testid="map-service"' not in response.content.decode()  # reading only


def test_mapping_a_name_moves_its_orders(cast, login, crm_names):
    client = login(cast.users["owner"])
    men = crm_names["men"]
    response = client.post(url("services/"), {"name": "Стрижка муж.", "service": men.pk})
    assert response.status_code == 302
    # Both spellings of the same name now count as the profile's men's haircut.
    assert Order.objects.filter(order_id__in=["C1", "C2"], service=men).count() == 2
    assert ServiceAlias.objects.filter(workspace=cast.workspace, service=men).exists()
    page = client.get(url("services/"))
    assert [row["name"] for row in page.context["rows"]] == ["Чёлка"]
    assert "стрижка муж. → Men's haircut" in page_text(page)
    report = client.get(url(""))
    rows = {row["service"]: row["orders"] for row in report.context["services"]}
    assert rows["Men's haircut"] == 5


def test_mapping_to_a_service_of_another_workspace_is_refused(cast, login, crm_names):
    theirs = Service.objects.create(workspace=cast.other, name="Rival cut", price=500)
    client = login(cast.users["owner"])
    response = client.post(url("services/"), {"name": "Чёлка", "service": theirs.pk})
    assert response.status_code == 400
    assert 'data-testid="error-service"' in response.content.decode()
    assert not ServiceAlias.objects.exists()


def test_mapping_needs_the_manage_right(cast, login, crm_names):
    response = login(cast.users["content_manager"]).post(
        url("services/"), {"name": "Чёлка", "service": crm_names["men"].pk}
    )
    assert response.status_code == 403
    assert not ServiceAlias.objects.exists()


def test_csv_export_is_safe_to_open_in_a_spreadsheet(cast, login, clock):
    order(cast.workspace, "E1", date(2026, 3, 10), None, 100, service_name='=HYPERLINK("http://x")')
    body = login(cast.users["owner"]).get(url("report.csv")).content.decode()
    cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
    assert not any(cell.startswith("=") for cell in cells)
