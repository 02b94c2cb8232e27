"""The business API: happy paths, field-named 422s, roles, and no 500 for any input."""

import json
from datetime import date, time

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.api import api
from smmdesk.business.models import BusinessProfile, Department, HolidayException, OpeningHours, Service

pytestmark = pytest.mark.django_db


def call(client, method, path, body=None, raw=None):
    kwargs = {}
    if body is not None or raw is not None:
        kwargs = {"data": raw if raw is not None else json.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(f"/api/w/{path}", **kwargs)


def fields(response):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"]
    return {error["field"]: error["message"] for error in body["errors"]}


@pytest.fixture
def owner(cast, login):
    return login(cast.users["owner"])


def test_every_business_operation_declares_access():
    business_paths = (
        "/w/{slug}/profile",
        "/w/{slug}/hours",
        "/w/{slug}/holidays",
        "/w/{slug}/services",
        "/w/{slug}/departments",
    )
    seen = 0
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            if not path.startswith(business_paths):
                continue
            for operation in path_view.operations:
                seen += 1
                assert getattr(operation.view_func, "access", None) in {"profile.view", "profile.edit"}, path
    assert seen >= 14


def test_openapi_schema_builds(owner):
    response = owner.get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/w/{slug}/services/{service_id}" in response.json()["paths"]


# --- profile -----------------------------------------------------------------------------------------------


def test_get_profile(owner):
    response = call(owner, "get", "salon/profile")
    assert response.status_code == 200
    assert response.json() == {
        "name": "Salon Leninsky",
        "city": "Orenburg",
        "districts": ["Leninsky"],
        "address": "",
        "phone": "",
        "site_url": "",
        "languages": ["ru", "en"],
        "timezone": "Asia/Yekaterinburg",
        "currency": "RUB",
    }


def test_put_profile_changes_only_the_fields_sent(cast, owner):
    response = call(
        owner, "put", "salon/profile", {"districts": ["Leninsky", "Central", "leninsky"], "languages": ["sk"]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["districts"] == ["Leninsky", "Central"]
    profile = BusinessProfile.objects.get(workspace=cast.workspace)
    assert profile.languages == ["sk"]
    assert profile.name == "Salon Leninsky" and profile.timezone == "Asia/Yekaterinburg"


def test_put_profile_full_update(cast, owner):
    body = {
        "name": "Salon on Chkalova",
        "city": "Orenburg",
        "districts": ["Leninsky"],
        "address": "ul. Chkalova 12",
        "phone": "+7 (3532) 12-34-56",
        "site_url": "http://salon.example/",
        "languages": ["ru"],
        "timezone": "Europe/Samara",
        "currency": "EUR",
    }
    response = call(owner, "put", "salon/profile", body)
    assert response.status_code == 200
    assert response.json() == body
    assert BusinessProfile.objects.get(workspace=cast.workspace).currency == "EUR"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": None}, "name", "required"),
        ({"languages": []}, "languages", "at least one"),
        ({"languages": ["fr"]}, "languages", "not a supported language"),
        ({"timezone": "Moon/Base"}, "timezone", "time zone"),
        ({"site_url": "gopher://salon.example"}, "site_url", "http"),
        ({"phone": "phone"}, "phone", "phone number"),
        ({"districts": [f"d{n}" for n in range(60)]}, "districts", "at most 50"),
        ({"name": "x" * 100_000}, "name", "at most 150"),
    ],
)
def test_put_profile_refuses_by_field(cast, owner, body, field, message):
    errors = fields(call(owner, "put", "salon/profile", body))
    assert list(errors) == [field]
    assert message in errors[field]
    assert BusinessProfile.objects.get(workspace=cast.workspace).name == "Salon Leninsky"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"districts": "Leninsky"}, "districts"),
        ({"languages": "ru"}, "languages"),
        ({"districts": [1, 2]}, "districts.0"),
    ],
)
def test_wrong_types_are_422_naming_the_field(owner, body, field):
    assert field in fields(call(owner, "put", "salon/profile", body))


def test_malformed_and_odd_bodies_never_500(owner):
    for raw in ["{bad json", "[1, 2]", '"text"', "null", "1e999999", '{"name": "\\ud800"}']:
        response = call(owner, "put", "salon/profile", raw=raw)
        assert response.status_code in (200, 400, 422), (raw, response.status_code)
    errors = fields(call(owner, "put", "salon/profile", raw='{"city": "\\ud800"}'))
    assert "not allowed" in errors["city"]
    errors = fields(
        call(owner, "put", "salon/hours", raw='{"week": {"monday": [{"opens": "\\udfff", "closes": "x"}]}}')
    )
    assert any(field.startswith("week.monday") for field in errors)
    huge = json.dumps({"name": "x" * (6 * 1024 * 1024)})
    assert call(owner, "put", "salon/profile", raw=huge).status_code in (400, 413)


# --- hours -------------------------------------------------------------------------------------------------


def test_get_and_put_hours(cast, owner):
    HolidayException.objects.create(workspace=cast.workspace, date=date(2026, 1, 1), note="New Year")
    week = {
        "monday": [{"opens": "09:00", "closes": "13:00"}, {"opens": "14:00", "closes": "19:00"}],
        "saturday": [{"opens": "10:00", "closes": "24:00"}],
    }
    response = call(owner, "put", "salon/hours", {"week": week})
    assert response.status_code == 200, response.content
    body = call(owner, "get", "salon/hours").json()
    assert body["timezone"] == "Asia/Yekaterinburg"
    assert body["week"]["monday"] == week["monday"]
    assert body["week"]["saturday"] == [{"opens": "10:00", "closes": "24:00"}]
    assert body["week"]["sunday"] == []
    assert body["holidays"][0]["date"] == "2026-01-01" and body["holidays"][0]["closed"] is True
    assert OpeningHours.objects.filter(workspace=cast.workspace).count() == 3


def test_put_hours_names_the_day(cast, owner):
    OpeningHours.objects.create(workspace=cast.workspace, weekday=0, opens=time(9), closes=time(18))
    week = {
        "tuesday": [{"opens": "09:00", "closes": "13:00"}, {"opens": "12:00", "closes": "19:00"}],
        "friday": [{"opens": "nine", "closes": "five"}],
    }
    errors = fields(call(owner, "put", "salon/hours", {"week": week}))
    assert set(errors) == {"week.tuesday", "week.friday"}
    assert "overlap" in errors["week.tuesday"]
    assert OpeningHours.objects.get(workspace=cast.workspace).weekday == 0
    assert "week" in fields(call(owner, "put", "salon/hours", {}))
    assert "week.monday" in fields(call(owner, "put", "salon/hours", {"week": {"monday": "9-18"}}))


def test_holidays(cast, owner):
    response = call(owner, "post", "salon/holidays", {"date": "2026-03-08", "note": "8 March"})
    assert response.status_code == 201
    assert response.json()["closed"] is True
    response = call(
        owner,
        "post",
        "salon/holidays",
        {"date": "2026-12-31", "closed": False, "opens": "10:00", "closes": "15:00"},
    )
    assert response.status_code == 201
    assert response.json()["opens"] == "10:00"
    errors = fields(call(owner, "post", "salon/holidays", {"date": "2026-12-31"}))
    assert "already has an exception" in errors["date"]
    errors = fields(
        call(owner, "post", "salon/holidays", {"date": "2026-05-01", "closed": False, "opens": "12:00"})
    )
    assert "closes" in errors
    errors = fields(call(owner, "post", "salon/holidays", {"date": "31.12.2026"}))
    assert "date" in errors
    holiday_id = response.json()["id"]
    assert call(owner, "delete", f"salon/holidays/{holiday_id}").status_code == 204
    assert call(owner, "delete", f"salon/holidays/{holiday_id}").status_code == 404
    assert HolidayException.objects.filter(workspace=cast.workspace).count() == 1


# --- services ----------------------------------------------------------------------------------------------


def test_service_lifecycle(cast, owner):
    response = call(
        owner,
        "post",
        "salon/services",
        {"name": "Haircut", "price": "1500.5", "duration_minutes": 45, "synonyms": ["стрижка", "strih"]},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["price"] == "1500.50" and created["synonyms"] == ["стрижка", "strih"]
    service_id = created["id"]
    assert call(owner, "get", "salon/services").json() == [created]
    assert call(owner, "get", f"salon/services/{service_id}").json() == created
    response = call(owner, "put", f"salon/services/{service_id}", {"price": 1700})
    assert response.status_code == 200
    assert response.json()["price"] == "1700.00" and response.json()["name"] == "Haircut"
    assert call(owner, "delete", f"salon/services/{service_id}").status_code == 204
    assert not Service.objects.filter(workspace=cast.workspace).exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"price": 1, "duration_minutes": 30}, "name", "required"),
        ({"name": "Haircut", "price": 1, "duration_minutes": 30}, "name", "already a service"),
        ({"name": "Dye", "price": -5, "duration_minutes": 30}, "price", "negative"),
        ({"name": "Dye", "price": 1e400, "duration_minutes": 30}, "price", "finite"),
        ({"name": "Dye", "price": "lots", "duration_minutes": 30}, "price", "decimal"),
        ({"name": "Dye", "price": 1, "duration_minutes": 10**40}, "duration_minutes", "1440"),
        ({"name": "Dye", "price": 1, "duration_minutes": 2}, "duration_minutes", "at least 5"),
        ({"name": "Dye", "price": 1, "duration_minutes": "half an hour"}, "duration_minutes", "integer"),
    ],
)
def test_create_service_refuses_by_field(cast, owner, body, field, message):
    Service.objects.create(workspace=cast.workspace, name="Haircut", price=1)
    errors = fields(call(owner, "post", "salon/services", body))
    assert field in errors
    assert message in errors[field]
    assert Service.objects.filter(workspace=cast.workspace).count() == 1


def test_unknown_and_foreign_ids_are_404(cast, owner):
    theirs = Service.objects.create(workspace=cast.other, name="Rival cut", price=1)
    their_department = Department.objects.create(workspace=cast.other, name="Rival desk")
    their_holiday = HolidayException.objects.create(workspace=cast.other, date=date(2026, 1, 1))
    for path in [
        f"salon/services/{theirs.pk}",
        "salon/services/999999",
        f"salon/services/{10**30}",
        f"salon/departments/{their_department.pk}",
    ]:
        assert call(owner, "get", path).status_code == 404, path
        assert call(owner, "put", path, {"name": "Mine"}).status_code == 404, path
        assert call(owner, "delete", path).status_code == 404, path
    assert call(owner, "delete", f"salon/holidays/{their_holiday.pk}").status_code == 404
    assert "service_id" in fields(call(owner, "get", "salon/services/abc"))
    assert call(owner, "get", "rival/services").status_code == 404
    assert call(owner, "get", "no-such-workspace/profile").status_code == 404
    assert Service.objects.get(pk=theirs.pk).name == "Rival cut"
    assert HolidayException.objects.filter(pk=their_holiday.pk).exists()


# --- departments -------------------------------------------------------------------------------------------


def test_department_lifecycle(cast, owner):
    agent = Membership.objects.get(user=cast.users["agent"], workspace=cast.workspace)
    response = call(
        owner,
        "post",
        "salon/departments",
        {"name": "Front desk", "members": [agent.pk], "telegram_chat_id": "-1001234567890"},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["members"] == [
        {"id": agent.pk, "email": agent.user.email, "name": agent.user.name, "role": "agent"}
    ]
    department_id = created["id"]
    response = call(
        owner, "put", f"salon/departments/{department_id}", {"notify_email": "desk@salon.example"}
    )
    assert response.status_code == 200
    assert response.json()["members"][0]["id"] == agent.pk, "members untouched by a partial update"
    response = call(owner, "put", f"salon/departments/{department_id}", {"members": []})
    assert response.json()["members"] == []
    assert call(owner, "get", "salon/departments").json()[0]["notify_email"] == "desk@salon.example"
    assert call(owner, "delete", f"salon/departments/{department_id}").status_code == 204
    assert not Department.objects.filter(workspace=cast.workspace).exists()


def test_department_refuses_by_field(cast, owner):
    stranger = Membership.objects.get(user=cast.outsider, workspace=cast.other)
    cases = [
        ({"name": "Desk", "members": [stranger.pk]}, "members", "not a member"),
        ({"name": "Desk", "members": [10**30]}, "members", "not a member"),
        ({"name": "Desk", "members": ["x"]}, "members.0", "integer"),
        ({"name": "Desk", "notify_email": "nope"}, "notify_email", "email"),
        ({"name": "Desk", "telegram_chat_id": "chat"}, "telegram_chat_id", "chat id"),
        ({"name": "Desk", "telegram_chat_id": "1" * 40}, "telegram_chat_id", "32"),
    ]
    for body, field, message in cases:
        errors = fields(call(owner, "post", "salon/departments", body))
        assert field in errors, body
        assert message in errors[field], (body, errors)
    assert not Department.objects.filter(workspace=cast.workspace).exists()


# --- roles -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_readers_can_read_but_not_write(cast, login, role):
    client = login(cast.users[role])
    service = Service.objects.create(workspace=cast.workspace, name="Haircut", price=1)
    department = Department.objects.create(workspace=cast.workspace, name="Desk")
    holiday = HolidayException.objects.create(workspace=cast.workspace, date=date(2026, 1, 1))
    for path in [
        "salon/profile",
        "salon/hours",
        "salon/services",
        f"salon/services/{service.pk}",
        "salon/departments",
        f"salon/departments/{department.pk}",
    ]:
        assert call(client, "get", path).status_code == 200, path
    writes = [
        ("put", "salon/profile", {"name": "Hacked"}),
        ("put", "salon/hours", {"week": {}}),
        ("post", "salon/holidays", {"date": "2026-05-01"}),
        ("delete", f"salon/holidays/{holiday.pk}", None),
        ("post", "salon/services", {"name": "Hack", "price": 1, "duration_minutes": 30}),
        ("put", f"salon/services/{service.pk}", {"name": "Hack"}),
        ("delete", f"salon/services/{service.pk}", None),
        ("post", "salon/departments", {"name": "Hack"}),
        ("put", f"salon/departments/{department.pk}", {"name": "Hack"}),
        ("delete", f"salon/departments/{department.pk}", None),
    ]
    for method, path, body in writes:
        assert call(client, method, path, body).status_code == 403, (method, path)
    assert BusinessProfile.objects.get(workspace=cast.workspace).name == "Salon Leninsky"
    assert Service.objects.get(pk=service.pk).name == "Haircut"
    assert Department.objects.get(pk=department.pk).name == "Desk"
    assert HolidayException.objects.filter(pk=holiday.pk).exists()


def test_outsider_and_anonymous(cast, login, client):
    assert call(client, "get", "salon/profile").status_code == 401
    outsider = login(cast.outsider)
    assert call(outsider, "get", "salon/profile").status_code == 404
    assert call(outsider, "put", "salon/profile", {"name": "Mine"}).status_code == 404
    assert (
        call(
            outsider, "post", "salon/services", {"name": "x", "price": 1, "duration_minutes": 30}
        ).status_code
        == 404
    )
    assert BusinessProfile.objects.get(workspace=cast.workspace).name == "Salon Leninsky"
