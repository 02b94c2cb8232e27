"""Segments: validation naming the field, their size, "who to target" suggestions and the ads hook."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.audience import actions
from smmdesk.audience.models import Segment
from smmdesk.audience.tests.report_fixtures import make_services

from .report_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

MARCH_1, MARCH_31 = date(2026, 3, 1), date(2026, 3, 31)


def member(cast, role="owner"):
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])


def fields_of(refused) -> dict:
    return dict(refused.value.errors)


def test_save_and_change_a_segment(cast, services):
    owner = member(cast)
    data = {
        "name": "  Young   women ",
        "services": [services["women"].pk, str(services["wedding"].pk)],
        "gender": "female",
        "age_min": "18",
        "age_max": 34,
        "districts": ["leninsky", "Дзержинский", "LENINSKY", " "],
    }
    segment = actions.save_segment(owner, data)
    segment.refresh_from_db()
    assert segment.name == "Young women" and segment.created_by == owner
    assert set(segment.services.all()) == {services["women"], services["wedding"]}
    assert (segment.gender, segment.age_min, segment.age_max) == ("female", 18, 34)
    # The profile's spelling for a district it lists, free text kept, each once.
    assert segment.districts == ["Leninsky", "Дзержинский"]

    changed = actions.save_segment(
        owner, {"name": "Young women", "services": [], "gender": "", "age_min": "", "age_max": None}, segment
    )
    changed.refresh_from_db()
    assert changed.pk == segment.pk and Segment.objects.count() == 1
    assert (list(changed.services.all()), changed.gender, changed.age_min, changed.districts) == (
        [],
        "",
        None,
        [],
    )


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Brides"}, "name"),  # taken, whatever the case: see below
        ({"name": "s", "gender": "unknown"}, "gender"),
        ({"name": "s", "gender": "robot"}, "gender"),
        ({"name": "s", "age_min": -1}, "age_min"),
        ({"name": "s", "age_min": "12.5"}, "age_min"),
        ({"name": "s", "age_min": "twenty"}, "age_min"),
        ({"name": "s", "age_max": 121}, "age_max"),
        ({"name": "s", "age_min": 40, "age_max": 30}, "age_max"),
        ({"name": "s", "services": ["abc"]}, "services"),
        ({"name": "s", "services": [999999]}, "services"),
        ({"name": "s", "districts": ["x" * 121]}, "districts"),
        ({"name": "s", "districts": [42]}, "districts"),
        ({"name": "s", "districts": [f"d{n}" for n in range(51)]}, "districts"),
    ],
)
def test_bad_data_is_refused_on_its_field(cast, services, data, field):
    owner = member(cast)
    actions.save_segment(owner, {"name": "BRIDES"})
    with pytest.raises(actions.InvalidInput) as refused:
        actions.save_segment(owner, data)
    assert list(fields_of(refused)) == [field]
    assert refused.value.field == field
    assert Segment.objects.count() == 1


def test_every_problem_is_reported_at_once_and_nothing_changes(cast, services):
    owner = member(cast)
    segment = actions.save_segment(owner, {"name": "Men", "services": [services["men"].pk]})
    rival_service = make_services(cast.other)["men"]
    with pytest.raises(actions.InvalidInput) as refused:
        actions.save_segment(
            owner, {"name": "", "services": [rival_service.pk], "gender": "x", "age_min": 200}, segment
        )
    assert set(fields_of(refused)) == {"name", "services", "gender", "age_min"}
    segment.refresh_from_db()
    assert segment.name == "Men" and list(segment.services.all()) == [services["men"]]


def test_a_segment_keeps_its_own_name(cast):
    owner = member(cast)
    segment = actions.save_segment(owner, {"name": "Men"})
    assert actions.save_segment(owner, {"name": "men"}, segment).name == "men"
    # Another workspace may use the same name.
    rival = Membership.objects.get(workspace=cast.other)
    assert actions.save_segment(rival, {"name": "men"}).workspace == cast.other


def test_only_managers_of_the_workspace_change_segments(cast):
    segment = actions.save_segment(member(cast, "smm_manager"), {"name": "Men"})
    for role in ("content_manager", "agent", "viewer"):
        with pytest.raises(actions.NotAllowed):
            actions.save_segment(member(cast, role), {"name": f"By {role}"})
        with pytest.raises(actions.NotAllowed):
            actions.delete_segment(member(cast, role), segment)
    rival = Membership.objects.get(workspace=cast.other)
    with pytest.raises(actions.NotAllowed):
        actions.save_segment(rival, {"name": "Mine now"}, segment)
    with pytest.raises(actions.NotAllowed):
        actions.delete_segment(rival, segment)
    assert Segment.objects.get().name == "Men"
    actions.delete_segment(member(cast), segment)
    assert not Segment.objects.exists()


def test_segment_size(cast, hairdresser):
    owner = member(cast)
    segment = actions.save_segment(
        owner,
        {
            "name": "Women 25-34 in Leninsky",
            "services": [hairdresser["women"].pk],
            "gender": "female",
            "age_min": 25,
            "age_max": 34,
            "districts": ["Leninsky"],
        },
    )
    # March: W1 (27, c4, 1200) and W2 (33, c5, 1200); W3 is 48, W4 19, W5 of unknown gender. 2 / 12.
    assert actions.segment_size(segment, MARCH_1, MARCH_31) == {
        "orders": 2,
        "clients": 2,
        "share": 0.1667,
        "revenue": Decimal("2400.00"),
    }
    # Every order (22): also P3 and P4 (Leninsky, 30 and 31) and April's X2 (25, Leninsky); P5 and P6 are
    # Central. 5 / 22 = 0.227273
    assert actions.segment_size(segment) == {
        "orders": 5,
        "clients": 5,
        "share": 0.2273,
        "revenue": Decimal("6000.00"),
    }
    anyone = actions.save_segment(owner, {"name": "Anyone"})
    assert actions.segment_size(anyone, MARCH_1, MARCH_31)["orders"] == 12
    assert actions.segment_size(anyone, MARCH_1, MARCH_31)["share"] == 1.0
    # An age bound leaves out M4, whose age is unknown.
    men = actions.save_segment(owner, {"name": "Men", "services": [hairdresser["men"].pk], "age_min": 0})
    assert actions.segment_size(men, MARCH_1, MARCH_31)["orders"] == 3
    assert actions.segment_size(men, date(2030, 1, 1), date(2030, 1, 2)) == {
        "orders": 0,
        "clients": 0,
        "share": 0.0,
        "revenue": Decimal("0.00"),
    }


def test_suggestions_are_the_biggest_cells_of_90_days(cast, hairdresser):
    # 1 January .. 31 March: March's 12 orders and P1..P8, X1 (28 Jan) = 21. Without M4 and W5 (unknown):
    # women/female/25-34: W1 W2 P3 P4 P5 P6 = 6; men/male/35-44: M2 P1 P2 X1 = 4; children/female/<18:
    # C1 P7 = 2 and children/male/<18: C2 P8 = 2 (a tie: female first); the rest 1 each.
    found = actions.suggestions(cast.workspace, limit=3, today=MARCH_31)
    assert [(s["service"], s["gender"], s["age_group"], s["orders"]) for s in found] == [
        ("Women's haircut", "female", "25-34", 6),
        ("Men's haircut", "male", "35-44", 4),
        ("Children's haircut", "female", "<18", 2),
    ]
    # 6 / 21 = 0.285714, 4 / 21 = 0.190476, 2 / 21 = 0.095238
    assert [s["share"] for s in found] == [0.2857, 0.1905, 0.0952]
    # W1 W2 P3 P4 in Leninsky, P5 P6 in Central.
    assert found[0]["district"] == "Leninsky"
    assert found[0]["segment_data"] == {
        "name": "Women's haircut · Female · 25-34",
        "services": [hairdresser["women"].pk],
        "gender": "female",
        "age_min": 25,
        "age_max": 34,
        "districts": [],
    }
    assert not found[0]["saved"]
    assert len(actions.suggestions(cast.workspace, today=MARCH_31)) == 5


def test_a_saved_suggestion_counts_what_it_promised(cast, hairdresser):
    found = actions.suggestions(cast.workspace, limit=2, today=MARCH_31)
    segment = actions.save_segment(member(cast), found[1]["segment_data"])
    assert actions.segment_size(segment, date(2026, 1, 1), MARCH_31)["orders"] == found[1]["orders"] == 4
    assert [s["saved"] for s in actions.suggestions(cast.workspace, limit=2, today=MARCH_31)] == [False, True]


def test_suggestions_window_ends_on_the_business_today(cast, hairdresser, time_machine):
    # 28 April: the window starts 29 January, so X1 (28 January) is out: men/male/35-44 = 3.
    men = actions.suggestions(cast.workspace, limit=2, today=date(2026, 4, 28))[1]
    assert (men["service"], men["orders"]) == ("Men's haircut", 3)
    assert actions.suggestions(cast.workspace, limit=2, today=date(2026, 4, 27))[1]["orders"] == 4
    # 20:00 UTC on 31 March is already 1 April in Yekaterinburg: X2 (1 April, 25, female) joins the
    # women's cell.
    time_machine.move_to("2026-03-31T20:00:00Z", tick=False)
    assert actions.suggestions(cast.workspace, limit=1)[0]["orders"] == 7
    time_machine.move_to("2026-03-31T18:00:00Z", tick=False)
    assert actions.suggestions(cast.workspace, limit=1)[0]["orders"] == 6


def test_no_suggestions_without_targetable_orders(cast, services):
    assert actions.suggestions(cast.workspace, today=MARCH_31) == []


def test_targeting_for_a_segment(cast, services):
    owner = member(cast)
    segment = actions.save_segment(
        owner,
        {
            "name": "Grooms",
            "services": [services["wedding"].pk, services["men"].pk],
            "gender": "male",
            "age_min": 18,
            "age_max": 34,
            "districts": ["Leninsky"],
        },
    )
    targeting = actions.targeting_for(segment)
    assert targeting == actions.Targeting(
        city="Orenburg",
        districts=("Leninsky",),
        gender="male",
        age_min=18,
        age_max=34,
        services=("Men's haircut", "Wedding hairstyle"),
        # "Barber" (a wedding synonym) is "barber" again.
        interests=("Men's haircut", "мужская стрижка", "barber", "Wedding hairstyle", "свадебная прическа"),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        targeting.city = "Moscow"
    assert hash(targeting) == hash(actions.targeting_for(segment))


def test_targeting_for_an_open_segment_covers_the_whole_business(cast, services):
    segment = actions.save_segment(member(cast), {"name": "Everyone"})
    targeting = actions.targeting_for(segment)
    assert (targeting.city, targeting.districts, targeting.gender, targeting.age_min, targeting.age_max) == (
        "Orenburg",
        (),
        None,
        None,
        None,
    )
    assert targeting.services == (
        "Children's haircut",
        "Men's haircut",
        "Wedding hairstyle",
        "Women's haircut",
    )
    assert targeting.interests[:3] == ("Children's haircut", "детская стрижка", "Men's haircut")
