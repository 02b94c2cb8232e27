"""The business profile over the HTTP API. Input goes through the same forms as the settings pages, so
both refuse the same things with the same messages; refusals are 422 with the fields named."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from smmdesk.api import InvalidOut, requires
from smmdesk.business import actions
from smmdesk.business.fields import format_time
from smmdesk.business.forms import WEEKDAY_KEYS
from smmdesk.business.models import Department, HolidayException, Service

router = Router(tags=["business"])
_REQUIRED = forms.Field.default_error_messages["required"]  # lazy: translated when sent


# Every input field is optional so that a missing one is reported by the form, in the same words as on
# the settings pages. PUT changes only the fields sent; POST treats missing fields as empty.


class ProfileIn(Schema):
    name: str | None = None
    city: str | None = None
    districts: list[str] | None = None
    address: str | None = None
    phone: str | None = None
    site_url: str | None = None
    languages: list[str] | None = None
    timezone: str | None = None
    currency: str | None = None


class ProfileOut(Schema):
    name: str
    city: str
    districts: list[str]
    address: str
    phone: str
    site_url: str
    languages: list[str]
    timezone: str
    currency: str


class ServiceIn(Schema):
    name: str | None = None
    price: Decimal | None = None
    duration_minutes: int | None = None
    synonyms: list[str] | None = None


class ServiceOut(Schema):
    id: int
    name: str
    price: Decimal
    duration_minutes: int
    synonyms: list[str]


class DepartmentIn(Schema):
    name: str | None = None
    description: str | None = None
    members: list[int] | None = None
    notify_email: str | None = None
    telegram_chat_id: str | None = None


class MemberOut(Schema):
    id: int
    email: str
    name: str
    role: str


class DepartmentOut(Schema):
    id: int
    name: str
    description: str
    members: list[MemberOut]
    notify_email: str
    telegram_chat_id: str


class IntervalIO(Schema):
    opens: str
    closes: str


class WeekIO(Schema):
    monday: list[IntervalIO] = []
    tuesday: list[IntervalIO] = []
    wednesday: list[IntervalIO] = []
    thursday: list[IntervalIO] = []
    friday: list[IntervalIO] = []
    saturday: list[IntervalIO] = []
    sunday: list[IntervalIO] = []


class HoursIn(Schema):
    week: WeekIO | None = None


class HolidayIn(Schema):
    date: dt.date | None = None
    closed: bool = True
    opens: str | None = None
    closes: str | None = None
    note: str | None = None


class HolidayOut(Schema):
    id: int
    date: dt.date
    closed: bool
    opens: str | None
    closes: str | None
    note: str


class HoursOut(Schema):
    timezone: str
    week: WeekIO
    holidays: list[HolidayOut]


def _invalid(refused: actions.InvalidInput, prefix: str = ""):
    errors = [
        {"field": "body" if name == "__all__" else f"{prefix}{name}", "message": message}
        for name, message in refused.field_errors()
    ]
    return Status(422, {"detail": "invalid input", "errors": errors})


def _sent(payload: Schema) -> dict:
    return payload.model_dump(exclude_unset=True)


def _clock(value: dt.time | None) -> str | None:
    return None if value is None else format_time(value)


def _profile_out(profile) -> dict:
    fields = ProfileOut.model_fields
    return {name: getattr(profile, name) for name in fields}


def _service_out(service: Service) -> dict:
    return {name: getattr(service, name) for name in ServiceOut.model_fields}


def _department_out(department: Department) -> dict:
    members = [
        {"id": m.pk, "email": m.user.email, "name": m.user.name, "role": m.role}
        for m in department.members.all()
    ]
    return {
        "id": department.pk,
        "name": department.name,
        "description": department.description,
        "members": members,
        "notify_email": department.notify_email,
        "telegram_chat_id": department.telegram_chat_id,
    }


def _holiday_out(holiday: HolidayException) -> dict:
    return {
        "id": holiday.pk,
        "date": holiday.date,
        "closed": holiday.closed,
        "opens": _clock(holiday.opens),
        "closes": _clock(holiday.closes),
        "note": holiday.note,
    }


# --- profile -------------------------------------------------------------------------------------------


@router.get("/w/{slug}/profile", response=ProfileOut)
@requires("profile.view")
def get_profile(request, slug: str):
    return _profile_out(actions.profile_of(request.workspace))


@router.put("/w/{slug}/profile", response={200: ProfileOut, 422: InvalidOut})
@requires("profile.edit")
def update_profile(request, slug: str, payload: ProfileIn):
    """Changes the fields sent and keeps the others."""
    try:
        profile = actions.update_profile(request.workspace, _sent(payload), partial=True)
    except actions.InvalidInput as refused:
        return _invalid(refused)
    return _profile_out(profile)


# --- opening hours -------------------------------------------------------------------------------------


@router.get("/w/{slug}/hours", response=HoursOut)
@requires("profile.view")
def get_hours(request, slug: str):
    week = actions.week_form(request.workspace).initial
    return {
        "timezone": actions.profile_of(request.workspace).timezone,
        "week": {
            key: [{"opens": format_time(o), "closes": format_time(c)} for o, c in week[key]]
            for key in WEEKDAY_KEYS
        },
        "holidays": [_holiday_out(h) for h in actions.holidays(request.workspace)],
    }


@router.put("/w/{slug}/hours", response={200: HoursOut, 422: InvalidOut})
@requires("profile.edit")
def set_hours(request, slug: str, payload: HoursIn):
    """Replaces the usual week; a weekday left out or given an empty list is closed."""
    week = payload.week
    if week is None:
        return Status(
            422, {"detail": "invalid input", "errors": [{"field": "week", "message": str(_REQUIRED)}]}
        )
    data = {key: ", ".join(f"{i.opens}-{i.closes}" for i in getattr(week, key)) for key in WEEKDAY_KEYS}
    try:
        actions.set_week(request.workspace, data)
    except actions.InvalidInput as refused:
        return _invalid(refused, prefix="week.")
    return get_hours(request, slug)


@router.post("/w/{slug}/holidays", response={201: HolidayOut, 422: InvalidOut})
@requires("profile.edit")
def add_holiday(request, slug: str, payload: HolidayIn):
    """A date with other hours; it is closed all day unless `closed` is false and both times are given."""
    try:
        holiday = actions.add_holiday(request.workspace, payload.model_dump())
    except actions.InvalidInput as refused:
        return _invalid(refused)
    return Status(201, _holiday_out(holiday))


@router.delete("/w/{slug}/holidays/{holiday_id}", response={204: None})
@requires("profile.edit")
def delete_holiday(request, slug: str, holiday_id: int):
    holiday = get_object_or_404(HolidayException, workspace=request.workspace, pk=holiday_id)
    actions.delete_holiday(request.workspace, holiday.pk)
    return Status(204, None)


# --- services ------------------------------------------------------------------------------------------


@router.get("/w/{slug}/services", response=list[ServiceOut])
@requires("profile.view")
def list_services(request, slug: str):
    return [_service_out(s) for s in actions.services(request.workspace)]


@router.post("/w/{slug}/services", response={201: ServiceOut, 422: InvalidOut})
@requires("profile.edit")
def create_service(request, slug: str, payload: ServiceIn):
    try:
        service = actions.create_service(request.workspace, _sent(payload))
    except actions.InvalidInput as refused:
        return _invalid(refused)
    return Status(201, _service_out(service))


@router.get("/w/{slug}/services/{service_id}", response=ServiceOut)
@requires("profile.view")
def get_service(request, slug: str, service_id: int):
    return _service_out(get_object_or_404(Service, workspace=request.workspace, pk=service_id))


@router.put("/w/{slug}/services/{service_id}", response={200: ServiceOut, 422: InvalidOut})
@requires("profile.edit")
def update_service(request, slug: str, service_id: int, payload: ServiceIn):
    """Changes the fields sent and keeps the others."""
    service = get_object_or_404(Service, workspace=request.workspace, pk=service_id)
    try:
        service = actions.update_service(request.workspace, service, _sent(payload), partial=True)
    except actions.InvalidInput as refused:
        return _invalid(refused)
    return _service_out(service)


@router.delete("/w/{slug}/services/{service_id}", response={204: None})
@requires("profile.edit")
def delete_service(request, slug: str, service_id: int):
    service = get_object_or_404(Service, workspace=request.workspace, pk=service_id)
    actions.delete_service(request.workspace, service.pk)
    return Status(204, None)


# --- departments ---------------------------------------------------------------------------------------


def _department(request, department_id: int) -> Department:
    return get_object_or_404(actions.departments(request.workspace), pk=department_id)


@router.get("/w/{slug}/departments", response=list[DepartmentOut])
@requires("profile.view")
def list_departments(request, slug: str):
    return [_department_out(d) for d in actions.departments(request.workspace)]


@router.post("/w/{slug}/departments", response={201: DepartmentOut, 422: InvalidOut})
@requires("profile.edit")
def create_department(request, slug: str, payload: DepartmentIn):
    """`members` are membership ids, as listed in each department's `members`."""
    try:
        department = actions.create_department(request.workspace, _sent(payload))
    except actions.InvalidInput as refused:
        return _invalid(refused)
    return Status(201, _department_out(_department(request, department.pk)))


@router.get("/w/{slug}/departments/{department_id}", response=DepartmentOut)
@requires("profile.view")
def get_department(request, slug: str, department_id: int):
    return _department_out(_department(request, department_id))


@router.put("/w/{slug}/departments/{department_id}", response={200: DepartmentOut, 422: InvalidOut})
@requires("profile.edit")
def update_department(request, slug: str, department_id: int, payload: DepartmentIn):
    """Changes the fields sent and keeps the others; `members` replaces the whole list."""
    department = _department(request, department_id)
    try:
        actions.update_department(request.workspace, department, _sent(payload), partial=True)
    except actions.InvalidInput as refused:
        return _invalid(refused)
    return _department_out(_department(request, department_id))


@router.delete("/w/{slug}/departments/{department_id}", response={204: None})
@requires("profile.edit")
def delete_department(request, slug: str, department_id: int):
    department = _department(request, department_id)
    actions.delete_department(request.workspace, department.pk)
    return Status(204, None)
