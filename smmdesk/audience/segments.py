"""Segments: who to target, as service × gender × age × district; their size, the "who to target"
suggestions, and the targeting a segment turns into for ads.

Checking a segment returns (field, message) pairs; actions.save_segment turns them into InvalidInput.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from smmdesk.audience import report
from smmdesk.audience.models import Gender, Segment
from smmdesk.business.models import Service

MAX_AGE = 120
MAX_DISTRICTS = 50
DISTRICT_LENGTH = 120
SUGGESTION_DAYS = 90
# A segment targets women, men, or anyone; "unknown" is a gap in the data, not an audience.
TARGET_GENDERS = (Gender.FEMALE.value, Gender.MALE.value)


@dataclass(frozen=True)
class Targeting:
    """What a segment asks an ad network for: THE hook for the ads issue (`segments.targeting_for`, also
    `actions.targeting_for`).

    - city: the business profile's city ("" when the workspace has no profile).
    - districts: districts within the city; empty means the whole city.
    - gender: "female" or "male"; None means anyone.
    - age_min, age_max: inclusive years, each None when open.
    - services: the segment's service names; when the segment names none ("any service"), every service
      of the business.
    - interests: those services' names and their synonyms, each once (case-insensitive), in that order:
      keywords for interest targeting.

    Sequences are tuples so a Targeting is hashable and cannot be changed after it is made.
    """

    city: str
    districts: tuple[str, ...]
    gender: str | None
    age_min: int | None
    age_max: int | None
    services: tuple[str, ...]
    interests: tuple[str, ...]


# --- checking ----------------------------------------------------------------------------------------


def _age(value, field: str, errors: list) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError
        age = int(float(value))
    except (TypeError, ValueError, OverflowError):
        errors.append((field, _("Enter a whole number of years.")))
        return None
    if not 0 <= age <= MAX_AGE:
        errors.append((field, _("Enter an age from 0 to %(max)s.") % {"max": MAX_AGE}))
        return None
    return age


def _as_list(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, str | int | Service):
        return [value]
    return list(value)


def _services(workspace, value, errors: list) -> list[Service]:
    wanted = []
    for item in _as_list(value):
        pk = item.pk if isinstance(item, Service) else item
        try:
            number = int(str(pk).strip())
        except ValueError:
            number = 0
        # An id past 64 bits would fail in the query instead of simply not being found.
        if not 0 < number < 2**63:
            errors.append(("services", _("Choose services of this business.")))
            return []
        wanted.append(number)
    found = {service.pk: service for service in Service.objects.filter(workspace=workspace, pk__in=wanted)}
    if len(found) != len(set(wanted)):
        errors.append(("services", _("Choose services of this business.")))
        return []
    return [found[pk] for pk in dict.fromkeys(wanted)]


def _districts(workspace, value, errors: list) -> list[str]:
    """Free text is allowed (the profile may not list them all), but a name the profile knows takes the
    profile's spelling so the same district is never two."""
    if isinstance(value, str):
        value = value.split(",")
    profile = getattr(workspace, "profile", None)
    known = {
        name.casefold(): name for name in (profile.districts if profile else []) if isinstance(name, str)
    }
    chosen: dict[str, str] = {}
    for item in _as_list(value):
        if not isinstance(item, str):
            errors.append(("districts", _("Districts are names.")))
            return []
        name = " ".join(item.split())
        if not name:
            continue
        if len(name) > DISTRICT_LENGTH:
            errors.append(
                ("districts", _("A district name is at most %(n)s characters.") % {"n": DISTRICT_LENGTH})
            )
            return []
        chosen.setdefault(name.casefold(), known.get(name.casefold(), name))
    if len(chosen) > MAX_DISTRICTS:
        errors.append(("districts", _("Choose at most %(n)s districts.") % {"n": MAX_DISTRICTS}))
        return []
    return list(chosen.values())


def clean(workspace, data: dict, segment: Segment | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """The segment's fields from `data` ({"name", "services": [ids], "gender", "age_min", "age_max",
    "districts": [names]}) and every problem as (field, message)."""
    errors: list[tuple[str, str]] = []
    name = " ".join(str(data.get("name") or "").split())
    max_name = Segment._meta.get_field("name").max_length
    if not name:
        errors.append(("name", _("Give the segment a name.")))
    elif len(name) > max_name:
        errors.append(("name", _("A name is at most %(n)s characters.") % {"n": max_name}))
    else:
        clash = Segment.objects.filter(workspace=workspace, name__iexact=name)
        if segment is not None:
            clash = clash.exclude(pk=segment.pk)
        if clash.exists():
            errors.append(("name", _("There is already a segment with this name.")))
    gender = str(data.get("gender") or "").strip()
    if gender and gender not in TARGET_GENDERS:
        errors.append(("gender", _("Choose female, male or anyone.")))
    age_min = _age(data.get("age_min"), "age_min", errors)
    age_max = _age(data.get("age_max"), "age_max", errors)
    if age_min is not None and age_max is not None and age_min > age_max:
        errors.append(("age_max", _("The upper age must not be below the lower one.")))
    fields = {
        "name": name,
        "services": _services(workspace, data.get("services"), errors),
        "gender": gender,
        "age_min": age_min,
        "age_max": age_max,
        "districts": _districts(workspace, data.get("districts"), errors),
    }
    return fields, errors


# --- size --------------------------------------------------------------------------------------------


def orders_of(segment: Segment, start: date | None = None, end: date | None = None):
    return report.matching(
        report.orders_between(segment.workspace, start, end),
        services=[service.pk for service in segment.services.all()],
        gender=segment.gender,
        age_min=segment.age_min,
        age_max=segment.age_max,
        districts=segment.districts,
    )


def size(segment: Segment, start: date | None = None, end: date | None = None) -> dict:
    """{"orders", "clients", "share" (of all orders in the same period), "revenue"}; no dates: every order."""
    orders = orders_of(segment, start, end)
    mine = orders.aggregate(orders=Count("pk"), revenue=Sum("price"))
    everyone = report.orders_between(segment.workspace, start, end).count()
    return {
        "orders": mine["orders"],
        "clients": report.clients_of(orders),
        "share": report.share(mine["orders"], everyone),
        "revenue": report.money(mine["revenue"]),
    }


# --- suggestions -------------------------------------------------------------------------------------


def _age_bounds(group: str) -> tuple[int, int]:
    for label, low, high in report.AGE_BANDS:
        if label == group:
            return low, high
    raise KeyError(group)


def suggestions(workspace, today: date, limit: int = 5) -> list[dict]:
    """The biggest service × gender × age-group cells of the last 90 days (today included), biggest
    first. Cells of an unknown gender or age, or of a service not in the profile, cannot be targeted and
    are left out (their orders still count in `share`). `district` is where most of the cell's orders
    came from (None when none says); the segment data leaves districts open, so a saved suggestion
    counts exactly the cell's orders."""
    start = today - timedelta(days=SUGGESTION_DAYS - 1)
    orders = report.orders_between(workspace, start, today)
    total = orders.count()
    rows = (
        orders.filter(service__isnull=False, gender__in=TARGET_GENDERS, age__isnull=False)
        .annotate(age_group=report.age_group_expression())
        .values("service_id", "service__name", "gender", "age_group", "district")
        .annotate(n=Count("pk"))
        .order_by()
    )
    cells: dict[tuple, dict] = {}
    for row in rows:
        key = (row["service_id"], row["service__name"], row["gender"], row["age_group"])
        cell = cells.setdefault(key, {"orders": 0, "districts": defaultdict(int)})
        cell["orders"] += row["n"]
        if row["district"]:
            cell["districts"][row["district"]] += row["n"]
    ranked = sorted(cells.items(), key=lambda item: (-item[1]["orders"], item[0][1].casefold(), item[0][2:]))
    saved = {
        name.casefold() for name in Segment.objects.filter(workspace=workspace).values_list("name", flat=True)
    }
    found = []
    for (service_id, service_name, gender, group), cell in ranked[:limit]:
        districts = sorted(cell["districts"].items(), key=lambda item: (-item[1], item[0]))
        low, high = _age_bounds(group)
        name = f"{service_name} · {Gender(gender).label} · {group}"
        found.append(
            {
                "service": service_name,
                "service_id": service_id,
                "gender": gender,
                "age_group": group,
                "district": districts[0][0] if districts else None,
                "orders": cell["orders"],
                "share": report.share(cell["orders"], total),
                "saved": name.casefold() in saved,
                "segment_data": {
                    "name": name,
                    "services": [service_id],
                    "gender": gender,
                    "age_min": low,
                    "age_max": high,
                    "districts": [],
                },
            }
        )
    return found


# --- targeting ---------------------------------------------------------------------------------------


def targeting_for(segment: Segment) -> Targeting:
    profile = getattr(segment.workspace, "profile", None)
    services = list(segment.services.all()) or list(Service.objects.filter(workspace=segment.workspace))
    interests: dict[str, str] = {}
    for service in services:
        synonyms = service.synonyms if isinstance(service.synonyms, list) else []
        for word in [service.name, *synonyms]:
            if isinstance(word, str) and word.strip():
                interests.setdefault(word.strip().casefold(), word.strip())
    return Targeting(
        city=profile.city if profile else "",
        districts=tuple(segment.districts or ()),
        gender=segment.gender or None,
        age_min=segment.age_min,
        age_max=segment.age_max,
        services=tuple(service.name for service in services),
        interests=tuple(interests.values()),
    )
