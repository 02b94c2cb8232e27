"""The audience API: orders (list, quick entry, delete), the import (upload, mapping, run, progress,
errors), the report and its exports, service names and mapping them, segments and suggestions. Each
with its role, bad input a 422 naming the field, another workspace's ids a 404, never a 500."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smmdesk.audience import imports
from smmdesk.audience.models import ImportJob, Order, Segment
from smmdesk.audience.tests import test_views as shared
from smmdesk.audience.tests.test_views import MANAGERS, READERS, order

# The report fixture of the page tests (its figures are worked out by hand there).
clock, orders = shared.clock, shared.orders

pytestmark = pytest.mark.django_db

ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]


def call(client, method, path, body=None, **params):
    if body is not None:
        return client.generic(
            method.upper(), f"/api/w/salon/audience/{path}", json.dumps(body), content_type="application/json"
        )
    return getattr(client, method)(f"/api/w/salon/audience/{path}", data=params or None)


def fields(response) -> dict:
    assert response.status_code == 422, (response.status_code, response.content[:300])
    return {error["field"]: error["message"] for error in response.json()["errors"]}


# --- orders --------------------------------------------------------------------------------------------


def test_orders_list_pages_and_dates(cast, login, orders):
    client = login(cast.users["content_manager"])
    page = call(client, "get", "orders", limit=2).json()
    assert page["count"] == 5 and [o["order_id"] for o in page["items"]] == ["W1", "M3"]
    assert page["items"][0]["price"] == 1200 and page["items"][0]["service"] == "Women's haircut"
    later = call(client, "get", "orders", offset=2, limit=2).json()
    assert [o["order_id"] for o in later["items"]] == ["M2", "M1"]
    march = call(client, "get", "orders", start="2026-03-02", end="2026-03-03").json()
    assert sorted(o["order_id"] for o in march["items"]) == ["M2", "M3"]
    assert "limit" in fields(call(client, "get", "orders", limit=0))


def test_quick_entry_and_delete(cast, login, orders):
    client = login(cast.users["owner"])
    created = call(
        client,
        "post",
        "orders",
        {
            "order_id": 77,
            "date": "18.03.2026",
            "service": "стрижка мужская",
            "price": "1 200,50",
            "gender": "м",
            "age": 30,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["order_id"] == "77" and body["service_id"] == orders["men"].pk and body["price"] == 1200.5
    assert body["gender"] == "male" and body["date"] == "2026-03-18"
    again = call(client, "post", "orders", {"order_id": "77", "date": "2026-03-18", "service": "x"})
    assert "order_id" in fields(again)
    assert call(client, "delete", f"orders/{body['id']}").status_code == 204
    assert not Order.objects.filter(order_id="77").exists()


@pytest.mark.parametrize(
    "body,field",
    [
        ({"date": "2026-03-18", "service": "x"}, "order_id"),
        ({"order_id": "9", "service": "x"}, "date"),
        ({"order_id": "9", "date": "2026-03-18", "service": "x", "age": 300}, "age"),
        ({"order_id": "9", "date": "2026-03-18", "service": "x", "price": "free"}, "price"),
        ({"order_id": "9", "date": "2026-03-18", "service": "x", "gender": ["f"]}, "gender"),
    ],
)
def test_bad_order_is_a_422_naming_the_field(cast, login, orders, body, field):
    response = call(login(cast.users["owner"]), "post", "orders", body)
    assert field in fields(response)
    assert not Order.objects.filter(order_id="9").exists()


@pytest.mark.parametrize("role", ROLES)
def test_order_roles(cast, login, orders, role):
    client = login(cast.users[role])
    assert call(client, "get", "orders").status_code == (200 if role in READERS else 403)
    created = call(client, "post", "orders", {"order_id": "R", "date": "2026-03-18", "service": "x"})
    assert created.status_code == (201 if role in MANAGERS else 403)


def test_another_workspaces_order_is_404(cast, login, orders):
    theirs = order(cast.other, "T1", date(2026, 3, 1), None, 100, service_name="Стрижка")
    assert call(login(cast.users["owner"]), "delete", f"orders/{theirs.pk}").status_code == 404
    assert Order.objects.filter(pk=theirs.pk).exists()


# --- import --------------------------------------------------------------------------------------------

CSV = (
    "order_id,date,service,price,gender,age,district,source\n"
    "A1,2026-03-01,Men's haircut,600,male,30,Leninsky,vk\n"
    "A2,2026-03-02,Women's haircut,1200,female,41,Central,instagram\n"
)


def upload(client, text: str = CSV, name: str = "orders.csv"):
    return client.post(
        "/api/w/salon/audience/imports",
        {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
    )


def test_import_upload_mapping_run_progress(cast, login, orders):
    client = login(cast.users["smm_manager"])
    uploaded = upload(client)
    assert uploaded.status_code == 201, uploaded.content
    job = uploaded.json()
    assert job["status"] == "uploaded" and job["headers"][:3] == ["order_id", "date", "service"]
    assert job["mapping"] == {
        "order_id": 0, "date": 1, "service": 2, "price": 3, "gender": 4, "age": 5, "district": 6, "source": 7
    }  # fmt: skip
    assert [row["row"] for row in job["preview"]] == [2, 3] and job["preview"][0]["values"][
        "service"
    ] == "Men's haircut"
    assert [f["name"] for f in job["fields"] if f["required"]] == ["order_id", "date", "service"]

    # A mapping is checked field by field; a good one replaces the guess.
    bad = call(client, "put", f"imports/{job['id']}/mapping", {"mapping": {"order_id": 0, "date": 0}})
    assert set(fields(bad)) >= {"date", "service"}
    good = call(
        client, "put", f"imports/{job['id']}/mapping", {"mapping": {"order_id": 0, "date": 1, "service": 2}}
    )
    assert good.status_code == 200 and good.json()["mapping"] == {"order_id": 0, "date": 1, "service": 2}

    ran = call(client, "post", f"imports/{job['id']}/run", {})
    assert ran.status_code == 202 and ran.json()["status"] == "queued"
    assert call(client, "get", f"imports/{job['id']}/progress").json()["status"] == "queued"
    imports.execute(job["id"])
    assert call(client, "get", f"imports/{job['id']}/progress").json() == {
        "status": "done", "processed": 2, "total": 2, "percent": 100
    }  # fmt: skip
    done = call(client, "get", f"imports/{job['id']}").json()
    assert (done["created"], done["errors"], done["preview"]) == (2, [], [])
    # Only the mapped fields came in.
    assert Order.objects.get(order_id="A1").gender == "unknown"
    late = call(
        client, "put", f"imports/{job['id']}/mapping", {"mapping": {"order_id": 0, "date": 1, "service": 2}}
    )
    assert late.status_code == 409
    assert [j["id"] for j in call(client, "get", "imports").json()] == [job["id"]]


def test_a_refused_import_lists_its_rows(cast, login, orders):
    client = login(cast.users["owner"])
    job = upload(client, CSV + "A3,soon,Men's haircut,600,male,300,Leninsky,vk\n").json()
    call(client, "post", f"imports/{job['id']}/run", {})
    imports.execute(job["id"])
    done = call(client, "get", f"imports/{job['id']}").json()
    assert done["status"] == "failed" and done["error_count"] == 2
    assert sorted((e["row"], e["field"]) for e in done["errors"]) == [(4, "age"), (4, "date")]
    report = call(client, "get", f"imports/{job['id']}/errors.csv")
    rows = list(csv.reader(io.StringIO(report.content.decode())))
    assert sorted(tuple(r[:2]) for r in rows[1:]) == [("4", "age"), ("4", "date")]
    assert not Order.objects.filter(order_id__startswith="A").exists()


def test_import_refusals(cast, login, orders):
    client = login(cast.users["owner"])
    assert "file" in fields(client.post("/api/w/salon/audience/imports", {}))
    assert "file" in fields(upload(client, "\x00\x01\x02", name="orders.xlsx"))
    content_manager = login(cast.users["content_manager"])
    assert upload(content_manager).status_code == 403
    assert not ImportJob.objects.exists()


def test_another_workspaces_import_is_404(cast, login, orders):
    theirs = ImportJob.objects.create(workspace=cast.other, file_name="x.csv", file_format="csv")
    client = login(cast.users["owner"])
    for method, path in (("get", ""), ("get", "/progress"), ("get", "/errors.csv"), ("post", "/run")):
        assert (
            call(client, method, f"imports/{theirs.pk}{path}", {} if method == "post" else None).status_code
            == 404
        )


# --- the report ----------------------------------------------------------------------------------------


def test_report_json_matches_the_hand_computed_figures(cast, login, orders):
    body = call(login(cast.users["content_manager"]), "get", "report").json()
    assert (body["start"], body["end"]) == ("2025-12-21", "2026-03-20")
    assert body["total_orders"] == 4 and body["total_revenue"] == 3000 and body["clients"] == 3
    assert body["previous"] == {
        "start": "2025-09-22",
        "end": "2025-12-20",
        "total_orders": 1,
        "total_revenue": 600,
    }
    men, women = body["services"]
    assert (men["service"], men["orders"], men["share"], men["revenue"], men["revenue_share"]) == (
        "Men's haircut", 3, 0.75, 1800, 0.6
    )  # fmt: skip
    assert men["change"] == 2.0 and women["change"] is None
    assert men["gender"] == {"female": 0.0, "male": 0.6667, "unknown": 0.3333}
    assert body["gender"] == {"female": 0.25, "male": 0.5, "unknown": 0.25}
    assert body["districts"] == {"Leninsky": 0.5, "Central": 0.25, "unknown": 0.25}


def test_report_period_and_its_refusals(cast, login, orders):
    client = login(cast.users["owner"])
    march = call(client, "get", "report", start="2026-03-02", end="2026-03-03").json()
    assert march["total_orders"] == 2 and march["previous"]["total_orders"] == 1
    assert "end" in fields(call(client, "get", "report", start="2026-03-10", end="2026-03-01"))
    assert "start" in fields(call(client, "get", "report", start="2026-02-30"))
    assert "start" in fields(call(client, "get", "report", start="1000-01-01", end="2026-03-01"))


def test_report_exports(cast, login, orders):
    client = login(cast.users["owner"])
    response = call(client, "get", "report.csv", start="2026-03-01", end="2026-03-04")
    assert response.status_code == 200 and "Men's haircut" in response.content.decode()
    response = call(client, "get", "report.xlsx", start="2026-03-01", end="2026-03-04")
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert any(
        "Women's haircut" == cell
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    )
    assert "end" in fields(call(client, "get", "report.xlsx", start="2026-03-10", end="2026-03-01"))


# --- service names -------------------------------------------------------------------------------------


def test_unknown_services_and_mapping(cast, login, orders):
    order(cast.workspace, "C1", date(2026, 3, 5), None, 600, service_name="Стрижка муж.")
    client = login(cast.users["owner"])
    assert call(client, "get", "services/unknown").json() == [{"name": "Стрижка муж.", "orders": 1}]
    mapped = call(client, "post", "services/map", {"name": "стрижка муж.", "service_id": orders["men"].pk})
    assert mapped.json() == {"name": "стрижка муж.", "service_id": orders["men"].pk, "updated": 1}
    assert call(client, "get", "services/unknown").json() == []
    assert set(fields(call(client, "post", "services/map", {}))) == {"name", "service_id"}
    from smmdesk.business.models import Service

    theirs = Service.objects.create(workspace=cast.other, name="Theirs", price=1)
    assert "service_id" in fields(
        call(client, "post", "services/map", {"name": "x", "service_id": theirs.pk})
    )


# --- segments ------------------------------------------------------------------------------------------


def test_segments_crud_with_size_and_targeting(cast, login, orders):
    client = login(cast.users["owner"])
    men = orders["men"].pk
    created = call(
        client,
        "post",
        "segments",
        {"name": "Men 25-44", "services": [men], "gender": "male", "age_min": 25, "age_max": 44},
    )
    assert created.status_code == 201, created.content
    segment = created.json()
    # M1 (30) and M2 (40) in 25-44, P1 (30) too: 3 of the 5 orders.
    assert segment["size"] == {"orders": 3, "clients": 2, "share": 0.6, "revenue": 1800}
    assert segment["targeting"]["city"] == "Orenburg" and segment["targeting"]["gender"] == "male"
    assert segment["targeting"]["services"] == ["Men's haircut"]
    assert call(client, "get", "segments").json() == [segment]
    # Every part is replaced: no gender or ages now, so all four men's haircuts count.
    changed = call(client, "put", f"segments/{segment['id']}", {"name": "Men", "services": [men]})
    assert (
        changed.status_code == 200
        and changed.json()["age_min"] is None
        and changed.json()["size"]["orders"] == 4
    )
    clash = call(client, "post", "segments", {"name": "men"})
    assert "name" in fields(clash)
    assert "age_max" in fields(call(client, "post", "segments", {"name": "X", "age_min": 50, "age_max": 20}))
    assert call(client, "delete", f"segments/{segment['id']}").status_code == 204
    assert not Segment.objects.exists()


def test_a_suggestion_posts_back_as_a_segment(cast, login, orders):
    client = login(cast.users["smm_manager"])
    found = call(client, "get", "suggestions").json()
    assert found[0]["service"] == "Men's haircut" and found[0]["orders"] == 1
    created = call(client, "post", "segments", found[0]["segment_data"])
    assert created.status_code == 201
    assert call(client, "get", "suggestions").json()[0]["saved"] is True


@pytest.mark.parametrize("role", ROLES)
def test_segment_roles(cast, login, orders, role):
    client = login(cast.users[role])
    assert call(client, "get", "segments").status_code == (200 if role in READERS else 403)
    assert call(client, "post", "segments", {"name": "S"}).status_code == (201 if role in MANAGERS else 403)


def test_another_workspaces_segment_is_404(cast, login, orders):
    theirs = Segment.objects.create(workspace=cast.other, name="Theirs")
    client = login(cast.users["owner"])
    assert call(client, "get", f"segments/{theirs.pk}").status_code == 404
    assert call(client, "put", f"segments/{theirs.pk}", {"name": "Mine"}).status_code == 404
    assert call(client, "delete", f"segments/{theirs.pk}").status_code == 404
