"""The settings pages: each form saves for the owner, refuses bad input by field, and respects roles."""

from datetime import date, time
from decimal import Decimal

import pytest
from django.urls import URLPattern, get_resolver, reverse

from smmdesk.accounts.models import Membership
from smmdesk.business import urls as business_urls
from smmdesk.business.hours import END_OF_DAY
from smmdesk.business.models import BusinessProfile, Department, HolidayException, OpeningHours, Service

pytestmark = pytest.mark.django_db


def url(name, slug="salon", **kwargs):
    return reverse(f"business:{name}", kwargs={"slug": slug, **kwargs})


def profile_data(**changes):
    data = {
        "name": "Salon Leninsky",
        "city": "Orenburg",
        "districts": "Leninsky, Central\nLeninsky",
        "address": "ul. Chkalova 12",
        "phone": "+7 3532 12-34-56",
        "site_url": "https://salon.example",
        "languages": ["ru", "en"],
        "timezone": "Asia/Yekaterinburg",
        "currency": "RUB",
    }
    data.update(changes)
    return data


def errors_of(response, form="form"):
    return response.context[form].errors


# --- every view declares its access and keeps outsiders out ------------------------------------------------


def test_every_business_view_declares_access():
    for pattern in business_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        assert getattr(pattern.callback, "access", None) in {"profile.view", "profile.edit"}, pattern.name


def test_business_urls_are_mounted_under_workspace_settings():
    assert reverse("business:profile", kwargs={"slug": "salon"}) == "/w/salon/settings/"
    assert get_resolver().resolve("/w/salon/settings/services/3/").url_name == "service_edit"


@pytest.fixture
def objects(cast):
    """One row of each kind in the cast's workspace and one in the other workspace."""
    mine = {
        "service": Service.objects.create(
            workspace=cast.workspace, name="Haircut", price=1500, duration_minutes=45
        ),
        "department": Department.objects.create(workspace=cast.workspace, name="Front desk"),
        "holiday": HolidayException.objects.create(workspace=cast.workspace, date=date(2026, 1, 1)),
    }
    theirs = {
        "service": Service.objects.create(workspace=cast.other, name="Rival cut", price=900),
        "department": Department.objects.create(workspace=cast.other, name="Rival desk"),
        "holiday": HolidayException.objects.create(workspace=cast.other, date=date(2026, 1, 1)),
    }
    return mine, theirs


READ_PAGES = ["profile", "hours", "services", "departments"]


def all_urls(objects, slug="salon"):
    mine, _theirs = objects
    return [
        ("get", url("profile", slug)),
        ("get", url("hours", slug)),
        ("post", url("holiday_add", slug)),
        ("post", url("holiday_delete", slug, pk=mine["holiday"].pk)),
        ("get", url("services", slug)),
        ("get", url("service_edit", slug, pk=mine["service"].pk)),
        ("post", url("service_delete", slug, pk=mine["service"].pk)),
        ("get", url("departments", slug)),
        ("get", url("department_edit", slug, pk=mine["department"].pk)),
        ("post", url("department_delete", slug, pk=mine["department"].pk)),
    ]


def test_anonymous_is_sent_to_login(client, cast, objects):
    for method, address in all_urls(objects):
        response = getattr(client, method)(address)
        assert response.status_code == 302, address
        assert "/accounts/login/" in response["Location"]


def test_outsider_gets_404_everywhere(cast, login, objects):
    client = login(cast.outsider)
    for method, address in all_urls(objects):
        assert getattr(client, method)(address).status_code == 404, address
        assert client.post(address, {"name": "x"}).status_code == 404, address


@pytest.mark.parametrize("role", ["owner", "smm_manager", "content_manager", "agent", "viewer"])
def test_every_member_can_read_the_pages(cast, login, objects, role):
    client = login(cast.users[role])
    mine, _ = objects
    addresses = [url(name) for name in READ_PAGES] + [
        url("service_edit", pk=mine["service"].pk),
        url("department_edit", pk=mine["department"].pk),
    ]
    for address in addresses:
        response = client.get(address)
        assert response.status_code == 200, address
        assert response.context["active_section"] == "settings"
    assert b"Haircut" in client.get(url("services")).content


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_readers_see_read_only_forms(cast, login, role):
    response = login(cast.users[role]).get(url("profile"))
    assert response.context["can_edit"] is False
    assert all(field.disabled for field in response.context["form"].fields.values())
    assert b"Save profile" not in response.content
    assert b"cannot" in response.content or b"not change" in response.content


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_readers_cannot_write(cast, login, objects, role):
    client = login(cast.users[role])
    mine, _ = objects
    writes = [
        (url("profile"), profile_data(name="Hacked")),
        (url("hours"), {"monday": "09:00-18:00"}),
        (url("holiday_add"), {"date": "2026-03-08", "closed": "on"}),
        (url("holiday_delete", pk=mine["holiday"].pk), {}),
        (url("services"), {"name": "Hack", "price": "1", "duration_minutes": "30"}),
        (
            url("service_edit", pk=mine["service"].pk),
            {"name": "Hack", "price": "1", "duration_minutes": "30"},
        ),
        (url("service_delete", pk=mine["service"].pk), {}),
        (url("departments"), {"name": "Hack"}),
        (url("department_edit", pk=mine["department"].pk), {"name": "Hack"}),
        (url("department_delete", pk=mine["department"].pk), {}),
    ]
    for address, data in writes:
        assert client.post(address, data).status_code == 403, address
    assert BusinessProfile.objects.get(workspace=cast.workspace).name == "Salon Leninsky"
    assert not OpeningHours.objects.exists()
    assert HolidayException.objects.filter(workspace=cast.workspace).count() == 1
    assert Service.objects.get(pk=mine["service"].pk).name == "Haircut"
    assert Department.objects.get(pk=mine["department"].pk).name == "Front desk"


def test_other_workspaces_objects_are_404(cast, login, objects):
    client = login(cast.users["owner"])
    _, theirs = objects
    for name in ["service_edit", "department_edit"]:
        key = name.split("_")[0]
        assert client.get(url(name, pk=theirs[key].pk)).status_code == 404
        assert client.post(url(name, pk=theirs[key].pk), {"name": "Mine now"}).status_code == 404
    for name in ["service_delete", "department_delete", "holiday_delete"]:
        key = name.split("_")[0]
        assert client.post(url(name, pk=theirs[key].pk)).status_code == 404
    assert client.get(url("service_edit", pk=10**30)).status_code == 404
    assert Service.objects.filter(workspace=cast.other).count() == 1
    assert Department.objects.get(pk=theirs["department"].pk).name == "Rival desk"
    assert HolidayException.objects.filter(workspace=cast.other).count() == 1


def test_post_only_views_refuse_get(cast, login, objects):
    client = login(cast.users["owner"])
    mine, _ = objects
    for address in [
        url("holiday_add"),
        url("holiday_delete", pk=mine["holiday"].pk),
        url("service_delete", pk=mine["service"].pk),
        url("department_delete", pk=mine["department"].pk),
    ]:
        assert client.get(address).status_code == 405, address
    assert client.put(url("profile")).status_code == 405


# --- business profile --------------------------------------------------------------------------------------


def test_owner_saves_the_profile(cast, login):
    client = login(cast.users["owner"])
    response = client.post(url("profile"), profile_data(name="Salon on Chkalova", site_url="salon.example"))
    assert response.status_code == 302
    profile = BusinessProfile.objects.get(workspace=cast.workspace)
    assert profile.name == "Salon on Chkalova"
    assert profile.districts == ["Leninsky", "Central"]
    assert profile.languages == ["ru", "en"]
    assert profile.site_url == "https://salon.example"
    assert profile.phone == "+7 3532 12-34-56"
    page = client.get(url("profile"))
    assert "Business profile saved." in page.content.decode()
    assert "Leninsky\nCentral" in page.content.decode()


def test_smm_manager_may_edit_too(cast, login):
    response = login(cast.users["smm_manager"]).post(url("profile"), profile_data(city="Orsk"))
    assert response.status_code == 302
    assert BusinessProfile.objects.get(workspace=cast.workspace).city == "Orsk"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "required"),
        ({"city": ""}, "city", "required"),
        ({"districts": ", ".join(f"District {n}" for n in range(51))}, "districts", "at most 50"),
        ({"districts": "x" * 101}, "districts", "too long"),
        ({"languages": []}, "languages", "at least one language"),
        ({"languages": ["ru", "de"]}, "languages", "not a supported language"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "not a known time zone"),
        ({"site_url": "ftp://salon.example"}, "site_url", "http:// or https://"),
        ({"site_url": "javascript:alert(1)"}, "site_url", "http:// or https://"),
        ({"phone": "call me maybe"}, "phone", "phone number"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"currency": "BTC"}, "currency", "valid choice"),
        ({"address": "a" * 256}, "address", "at most 255"),
    ],
)
def test_profile_refuses_bad_input_by_field(cast, login, changes, field, message):
    response = login(cast.users["owner"]).post(url("profile"), profile_data(**changes))
    assert response.status_code == 200
    errors = errors_of(response)
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert 'aria-invalid="true"' in response.content.decode()
    profile = BusinessProfile.objects.get(workspace=cast.workspace)
    assert profile.address == "" and profile.districts == ["Leninsky"], "nothing is written"


# --- opening hours and exceptions --------------------------------------------------------------------------


def test_owner_sets_the_week(cast, login):
    client = login(cast.users["owner"])
    OpeningHours.objects.create(workspace=cast.workspace, weekday=6, opens=time(1), closes=time(2))
    OpeningHours.objects.create(workspace=cast.other, weekday=6, opens=time(1), closes=time(2))
    response = client.post(url("hours"), {"monday": "09:00-13:00, 14:00-19:00", "saturday": "10-24"})
    assert response.status_code == 302
    rows = list(
        OpeningHours.objects.filter(workspace=cast.workspace).values_list("weekday", "opens", "closes")
    )
    assert rows == [(0, time(9), time(13)), (0, time(14), time(19)), (5, time(10), END_OF_DAY)]
    assert OpeningHours.objects.filter(workspace=cast.other).count() == 1
    page = client.get(url("hours")).content.decode()
    assert 'value="09:00-13:00, 14:00-19:00"' in page
    assert 'value="10:00-24:00"' in page


def test_overlapping_hours_are_refused_and_nothing_changes(cast, login):
    OpeningHours.objects.create(workspace=cast.workspace, weekday=0, opens=time(9), closes=time(18))
    response = login(cast.users["owner"]).post(
        url("hours"), {"monday": "10:00-12:00", "tuesday": "09:00-13:00, 12:00-19:00", "friday": "19-9"}
    )
    assert response.status_code == 200
    errors = errors_of(response)
    assert set(errors) == {"tuesday", "friday"}
    assert "overlap" in errors["tuesday"][0]
    assert "later than the opening" in errors["friday"][0]
    assert list(OpeningHours.objects.values_list("weekday", "opens")) == [(0, time(9))]


def test_owner_adds_and_deletes_a_holiday(cast, login):
    client = login(cast.users["owner"])
    response = client.post(url("holiday_add"), {"date": "2026-03-08", "closed": "on", "note": "8 March"})
    assert response.status_code == 302
    response = client.post(url("holiday_add"), {"date": "2026-12-31", "opens": "10:00", "closes": "15:00"})
    assert response.status_code == 302
    short_day = HolidayException.objects.get(workspace=cast.workspace, date=date(2026, 12, 31))
    assert not short_day.closed and short_day.opens == time(10) and short_day.closes == time(15)
    assert b"8 March" in client.get(url("hours")).content
    assert client.post(url("holiday_delete", pk=short_day.pk)).status_code == 302
    assert not HolidayException.objects.filter(pk=short_day.pk).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "date", "required"),
        ({"date": "not a date"}, "date", "valid date"),
        ({"date": "1900-01-01", "closed": "on"}, "date", "between"),
        ({"date": "2026-05-01"}, "opens", "opening time"),
        ({"date": "2026-05-01", "opens": "10:00"}, "closes", "closing time"),
        ({"date": "2026-05-01", "opens": "15:00", "closes": "10:00"}, "closes", "later than"),
        ({"date": "2026-05-01", "opens": "25:00", "closes": "26:00"}, "opens", "valid time"),
        ({"date": "2026-01-01", "closed": "on"}, "date", "already has an exception"),
    ],
)
def test_holiday_refuses_bad_input_by_field(cast, login, data, field, message):
    HolidayException.objects.create(workspace=cast.workspace, date=date(2026, 1, 1))
    response = login(cast.users["owner"]).post(url("holiday_add"), data)
    assert response.status_code == 200
    errors = errors_of(response, "holiday_form")
    assert field in errors
    assert message in " ".join(errors[field])
    assert HolidayException.objects.filter(workspace=cast.workspace).count() == 1


def test_same_holiday_date_in_another_workspace_is_fine(cast, login):
    HolidayException.objects.create(workspace=cast.other, date=date(2026, 1, 1))
    response = login(cast.users["owner"]).post(url("holiday_add"), {"date": "2026-01-01", "closed": "on"})
    assert response.status_code == 302


# --- services ----------------------------------------------------------------------------------------------


def test_owner_adds_edits_and_deletes_a_service(cast, login):
    client = login(cast.users["owner"])
    response = client.post(
        url("services"),
        {
            "name": " Haircut ",
            "price": "1 500,50",
            "duration_minutes": "45",
            "synonyms": "стрижка\nstrih, Стрижка",
        },
    )
    assert response.status_code == 302
    service = Service.objects.get(workspace=cast.workspace)
    assert service.name == "Haircut"
    assert service.price == Decimal("1500.50")
    assert service.synonyms == ["стрижка", "strih"]
    response = client.post(
        url("service_edit", pk=service.pk),
        {"name": "Men's haircut", "price": "900", "duration_minutes": "30", "synonyms": ""},
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.name, service.price, service.duration_minutes, service.synonyms) == (
        "Men's haircut",
        Decimal("900.00"),
        30,
        [],
    )
    assert client.post(url("service_delete", pk=service.pk)).status_code == 302
    assert not Service.objects.filter(pk=service.pk).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "haircut"}, "name", "already a service"),
        ({"price": "-1"}, "price", "cannot be negative"),
        ({"price": "abc"}, "price", "number"),
        ({"price": "12345678901"}, "price", "digits"),
        ({"duration_minutes": "4"}, "duration_minutes", "at least 5"),
        ({"duration_minutes": "1441"}, "duration_minutes", "at most 1440"),
        ({"duration_minutes": "1.5"}, "duration_minutes", "whole number"),
        ({"synonyms": "\n".join(f"s{n}" for n in range(51))}, "synonyms", "at most 50"),
    ],
)
def test_service_refuses_bad_input_by_field(cast, login, changes, field, message):
    Service.objects.create(workspace=cast.workspace, name="Haircut", price=1500)
    data = {"name": "Colouring", "price": "3000", "duration_minutes": "120", **changes}
    response = login(cast.users["owner"]).post(url("services"), data)
    assert response.status_code == 200
    errors = errors_of(response)
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert Service.objects.filter(workspace=cast.workspace).count() == 1


def test_service_name_may_repeat_across_workspaces_and_keep_its_own(cast, login):
    Service.objects.create(workspace=cast.other, name="Haircut", price=1)
    client = login(cast.users["owner"])
    assert (
        client.post(url("services"), {"name": "Haircut", "price": "1", "duration_minutes": "30"}).status_code
        == 302
    )
    service = Service.objects.get(workspace=cast.workspace)
    # Saving a service under its own name is not a clash.
    response = client.post(
        url("service_edit", pk=service.pk), {"name": "HAIRCUT", "price": "2", "duration_minutes": "30"}
    )
    assert response.status_code == 302


def test_service_edit_refuses_a_taken_name(cast, login):
    Service.objects.create(workspace=cast.workspace, name="Haircut", price=1)
    colour = Service.objects.create(workspace=cast.workspace, name="Colouring", price=1)
    response = login(cast.users["owner"]).post(
        url("service_edit", pk=colour.pk), {"name": "Haircut", "price": "1", "duration_minutes": "30"}
    )
    assert response.status_code == 200
    assert "name" in errors_of(response)
    colour.refresh_from_db()
    assert colour.name == "Colouring"


# --- departments -------------------------------------------------------------------------------------------


def test_owner_adds_and_edits_a_department(cast, login):
    client = login(cast.users["owner"])
    agent = Membership.objects.get(user=cast.users["agent"], workspace=cast.workspace)
    smm = Membership.objects.get(user=cast.users["smm_manager"], workspace=cast.workspace)
    response = client.post(
        url("departments"),
        {
            "name": "Front desk",
            "description": "Bookings and complaints",
            "members": [agent.pk, smm.pk],
            "notify_email": "desk@salon.example",
            "telegram_chat_id": "-1001234567890",
        },
    )
    assert response.status_code == 302
    department = Department.objects.get(workspace=cast.workspace)
    assert set(department.members.all()) == {agent, smm}
    assert department.telegram_chat_id == "-1001234567890"
    response = client.post(
        url("department_edit", pk=department.pk),
        {"name": "Front desk", "members": [agent.pk], "telegram_chat_id": "@salon_team"},
    )
    assert response.status_code == 302
    department.refresh_from_db()
    assert list(department.members.all()) == [agent]
    assert department.telegram_chat_id == "@salon_team"
    assert department.notify_email == ""
    listing = client.get(url("departments")).content.decode()
    assert "@salon_team" in listing and cast.users["agent"].name in listing


def test_department_member_list_offers_only_this_workspace(cast, login):
    form = login(cast.users["owner"]).get(url("departments")).context["form"]
    offered = set(form.fields["members"].queryset)
    assert offered == set(Membership.objects.filter(workspace=cast.workspace))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "front DESK"}, "name", "already a department"),
        ({"notify_email": "not-an-email"}, "notify_email", "valid email"),
        ({"telegram_chat_id": "salon_team"}, "telegram_chat_id", "@salon_team"),
        ({"telegram_chat_id": "@ab"}, "telegram_chat_id", "@salon_team"),
        ({"telegram_chat_id": "-100abc"}, "telegram_chat_id", "numeric chat id"),
        ({"members": ["abc"]}, "members", "valid value"),
        ({"members": [str(10**30)]}, "members", "not a member"),
        ({"description": "d" * 2001}, "description", "at most 2000"),
    ],
)
def test_department_refuses_bad_input_by_field(cast, login, changes, field, message):
    Department.objects.create(workspace=cast.workspace, name="Front desk")
    data = {"name": "Colourists", **changes}
    response = login(cast.users["owner"]).post(url("departments"), data)
    assert response.status_code == 200
    errors = errors_of(response)
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert Department.objects.filter(workspace=cast.workspace).count() == 1


def test_department_refuses_members_of_another_workspace(cast, login):
    stranger = Membership.objects.get(user=cast.outsider, workspace=cast.other)
    response = login(cast.users["owner"]).post(url("departments"), {"name": "Desk", "members": [stranger.pk]})
    assert response.status_code == 200
    assert "not a member of this workspace" in errors_of(response)["members"][0]
    assert not Department.objects.filter(workspace=cast.workspace).exists()


def test_deleting_a_department_keeps_the_people(cast, login):
    department = Department.objects.create(workspace=cast.workspace, name="Desk")
    agent = Membership.objects.get(user=cast.users["agent"], workspace=cast.workspace)
    department.members.add(agent)
    response = login(cast.users["owner"]).post(url("department_delete", pk=department.pk))
    assert response.status_code == 302
    assert not Department.objects.filter(pk=department.pk).exists()
    assert Membership.objects.filter(pk=agent.pk).exists()
