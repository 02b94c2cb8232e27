"""The segments page: saved segments with their size and targeting, create, edit and delete with the
refusals next to their fields, and the "who to target" suggestions saved with one button."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from smmdesk.audience.models import Segment
from smmdesk.audience.tests import test_views as shared
from smmdesk.audience.tests.test_views import order, services

pytestmark = pytest.mark.django_db

clock = shared.clock

SEGMENTS = "/w/salon/audience/segments/"


@pytest.fixture
def salon(cast, clock):
    found = services(cast.workspace)
    w, men, women = cast.workspace, found["men"], found["women"]
    # Men 25-34 in Leninsky: three orders (two clients); women: one; the rest unknown.
    order(w, "1", date(2026, 3, 1), men, 600, gender="male", age=27, district="Leninsky", client_id="a")
    order(w, "2", date(2026, 3, 2), men, 600, gender="male", age=31, district="Leninsky", client_id="a")
    order(w, "3", date(2026, 3, 3), men, 600, gender="male", age=33, district="Leninsky", client_id="b")
    order(w, "4", date(2026, 3, 4), women, 1200, gender="female", age=45, district="Central", client_id="c")
    order(w, "5", date(2026, 3, 5), men, 600)
    cast.services = found
    return cast


def form_data(salon, **changes) -> dict:
    data = {
        "name": "Young men of Leninsky",
        "services": [salon.services["men"].pk],
        "gender": "male",
        "age_min": "25",
        "age_max": "34",
        "districts": ["Leninsky"],
        "other_districts": "",
    }
    data.update(changes)
    return data


def test_create_a_segment_and_see_its_size_and_targeting(salon, login):
    client = login(salon.users["smm_manager"])
    assert client.get(SEGMENTS + "new/").status_code == 200
    response = client.post(SEGMENTS + "new/", form_data(salon))
    assert response.status_code == 302
    segment = Segment.objects.get(workspace=salon.workspace)
    assert (segment.gender, segment.age_min, segment.age_max, segment.districts) == (
        "male",
        25,
        34,
        ["Leninsky"],
    )
    assert list(segment.services.all()) == [salon.services["men"]]
    page = client.get(SEGMENTS)
    row = page.context["rows"][0]
    # 3 of the 5 orders (60 %), two clients, 3 × 600.
    assert (row["size"]["orders"], row["size"]["clients"], row["share"], row["revenue"]) == (
        3,
        2,
        "60.0 %",
        "1,800",
    )
    assert row["targeting"].city == "Orenburg" and "стрижка мужская" in row["targeting"].interests
    assert re.search(r'data-testid="segment-orders">3<', page.content.decode())


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"name": ""}, "name"),
        ({"age_min": "40", "age_max": "30"}, "age_max"),
        ({"age_min": "-1"}, "age_min"),
        ({"gender": "robot"}, "gender"),
        ({"services": ["999999"]}, "services"),
        ({"districts": ["Atlantis"]}, "districts"),
    ],
)
def test_refusals_are_next_to_the_field(salon, login, changes, field):
    response = login(salon.users["owner"]).post(SEGMENTS + "new/", form_data(salon, **changes))
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not Segment.objects.exists()


def test_a_name_is_used_once(salon, login):
    client = login(salon.users["owner"])
    client.post(SEGMENTS + "new/", form_data(salon))
    response = client.post(SEGMENTS + "new/", form_data(salon, name="young MEN of Leninsky"))
    assert response.status_code == 400 and 'data-testid="error-name"' in response.content.decode()
    assert Segment.objects.count() == 1


def test_districts_outside_the_profile_are_typed_in(salon, login):
    client = login(salon.users["owner"])
    client.post(SEGMENTS + "new/", form_data(salon, districts=[], other_districts="Forstadt\nLeninsky\n"))
    assert Segment.objects.get().districts == ["Forstadt", "Leninsky"]


def test_edit_and_delete(salon, login):
    client = login(salon.users["owner"])
    client.post(SEGMENTS + "new/", form_data(salon))
    segment = Segment.objects.get()
    page = client.get(f"{SEGMENTS}{segment.pk}/")
    assert page.status_code == 200 and page.context["form"].initial["age_min"] == 25
    response = client.post(
        f"{SEGMENTS}{segment.pk}/", form_data(salon, name="All men", age_min="", age_max="")
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.age_min, segment.age_max) == ("All men", None, None)
    refused = client.post(f"{SEGMENTS}{segment.pk}/", form_data(salon, name=""))
    assert refused.status_code == 400
    assert client.post(f"{SEGMENTS}{segment.pk}/delete/").status_code == 302
    assert not Segment.objects.exists()


def test_readers_see_segments_but_cannot_change_them(salon, login):
    login(salon.users["owner"]).post(SEGMENTS + "new/", form_data(salon))
    segment = Segment.objects.get()
    client = login(salon.users["content_manager"])
    body = client.get(SEGMENTS).content.decode()
    assert "Young men of Leninsky" in body
    assert 'data-testid="segment-new"' not in body and 'data-testid="suggestion-save"' not in body
    assert client.get(SEGMENTS + "new/").status_code == 403
    assert client.post(SEGMENTS + "new/", form_data(salon, name="Other")).status_code == 403
    assert client.post(f"{SEGMENTS}{segment.pk}/delete/").status_code == 403
    assert Segment.objects.count() == 1


def test_another_workspaces_segment_is_not_found(salon, login):
    theirs = Segment.objects.create(workspace=salon.other, name="Theirs")
    client = login(salon.users["owner"])
    assert client.get(f"{SEGMENTS}{theirs.pk}/").status_code == 404
    assert client.post(f"{SEGMENTS}{theirs.pk}/delete/").status_code == 404
    assert Segment.objects.filter(pk=theirs.pk).exists()


def hidden_fields(form_html: str) -> dict:
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form_html):
        fields.setdefault(name, []).append(html.unescape(value))
    for name, value in re.findall(r'<textarea name="(\w+)" hidden>([^<]*)</textarea>', form_html):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


def test_a_suggestion_is_saved_as_a_segment_with_one_button(salon, login):
    client = login(salon.users["owner"])
    page = client.get(SEGMENTS)
    first = page.context["suggestions"][0]
    # The biggest group: men's haircut, male, 25-34 (three orders of five), mostly from Leninsky.
    assert (first["service"], first["gender"], first["age_group"], first["orders"]) == (
        "Men's haircut",
        "male",
        "25-34",
        3,
    )
    assert first["district"] == "Leninsky" and first["share_text"] == "60.0 %"
    body = page.content.decode()
    form = body[body.index('data-testid="suggestion"') :]
    form = form[form.index("<form") : form.index("</form>")]
    data = {name: values if name == "services" else values[0] for name, values in hidden_fields(form).items()}
    data.pop("csrfmiddlewaretoken", None)
    assert client.post(SEGMENTS + "new/", data).status_code == 302
    segment = Segment.objects.get()
    assert (segment.gender, segment.age_min, segment.age_max) == ("male", 25, 34)
    assert list(segment.services.all()) == [salon.services["men"]]
    # Saved: the suggestion says so instead of offering the button again.
    assert client.get(SEGMENTS).context["suggestions"][0]["saved"] is True
    row = client.get(SEGMENTS).context["rows"][0]
    assert row["size"]["orders"] == 3
