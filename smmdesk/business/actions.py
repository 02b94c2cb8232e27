"""Use cases for the business profile: profile, opening hours and exceptions, services, departments.

Each write takes the submitted data (a POST QueryDict or a plain dict from the API), validates it with the
form in forms.py and saves inside a transaction. Refused input raises InvalidInput carrying the bound
form, so a page can show it again and the API can list the errors by field.
"""

from django.db import IntegrityError, transaction

from smmdesk.business import forms
from smmdesk.business.models import BusinessProfile, Department, HolidayException, OpeningHours, Service


class InvalidInput(Exception):
    def __init__(self, form):
        super().__init__("invalid input")
        self.form = form

    def field_errors(self) -> list[tuple[str, str]]:
        """(field, message) pairs; "__all__" names errors that belong to no single field."""
        return [
            (name, error["message"])
            for name, errors in self.form.errors.get_json_data().items()
            for error in errors
        ]


def _merge(unbound_form, changes: dict) -> dict:
    """The form's current values with `changes` on top: how a partial API update reaches a full form."""
    data = {name: unbound_form[name].value() for name in unbound_form.fields}
    data.update(changes)
    return data


def _save(form, *, name_clash_field: str | None = None, **attributes):
    if not form.is_valid():
        raise InvalidInput(form)
    try:
        with transaction.atomic():
            instance = form.save(commit=False)
            for attribute, value in attributes.items():
                setattr(instance, attribute, value)
            instance.save()
            form.save_m2m()
    except IntegrityError:
        # Two people saving the same new name at once: the form's check passed for both.
        if name_clash_field is None:
            raise
        form.add_error(name_clash_field, form.taken_message)
        raise InvalidInput(form)
    return instance


# --- profile -------------------------------------------------------------------------------------------


def profile_of(workspace) -> BusinessProfile:
    """The saved profile, or an unsaved one with sensible defaults for a workspace that has none yet."""
    profile = BusinessProfile.objects.filter(workspace=workspace).first()
    if profile is None:
        profile = BusinessProfile(workspace=workspace, name=workspace.name, city="", languages=["en"])
    return profile


def profile_form(workspace, data=None, *, partial=False) -> forms.ProfileForm:
    profile = profile_of(workspace)
    if data is not None and partial:
        data = _merge(forms.ProfileForm(instance=profile), data)
    return forms.ProfileForm(data=data, instance=profile)


def update_profile(workspace, data, *, partial=False) -> BusinessProfile:
    return _save(profile_form(workspace, data, partial=partial), workspace=workspace)


# --- opening hours -------------------------------------------------------------------------------------


def week_form(workspace, data=None) -> forms.WeekForm:
    initial = forms.WeekForm.initial_for(OpeningHours.objects.filter(workspace=workspace))
    return forms.WeekForm(data=data, initial=initial)


@transaction.atomic
def set_week(workspace, data) -> list[OpeningHours]:
    """Replace the whole usual week; a weekday left empty is closed."""
    form = week_form(workspace, data)
    if not form.is_valid():
        raise InvalidInput(form)
    OpeningHours.objects.filter(workspace=workspace).delete()
    rows = [
        OpeningHours(workspace=workspace, weekday=number, opens=opens, closes=closes)
        for number, key in enumerate(forms.WEEKDAY_KEYS)
        for opens, closes in form.cleaned_data[key]
    ]
    return OpeningHours.objects.bulk_create(rows)


def holidays(workspace):
    return HolidayException.objects.filter(workspace=workspace)


def holiday_form(workspace, data=None) -> forms.HolidayForm:
    # Its own ids, since it shares the page with the week form.
    return forms.HolidayForm(data=data, workspace=workspace, auto_id="holiday_%s")


def add_holiday(workspace, data) -> HolidayException:
    return _save(holiday_form(workspace, data), name_clash_field="date", workspace=workspace)


@transaction.atomic
def delete_holiday(workspace, holiday_id: int) -> bool:
    deleted, _rows = HolidayException.objects.filter(workspace=workspace, pk=holiday_id).delete()
    return bool(deleted)


# --- services ------------------------------------------------------------------------------------------


def services(workspace):
    return Service.objects.filter(workspace=workspace)


def service_form(workspace, data=None, *, service=None, partial=False) -> forms.ServiceForm:
    if data is not None and partial and service is not None:
        data = _merge(forms.ServiceForm(instance=service, workspace=workspace), data)
    return forms.ServiceForm(data=data, instance=service, workspace=workspace)


def create_service(workspace, data) -> Service:
    return _save(service_form(workspace, data), name_clash_field="name", workspace=workspace)


def update_service(workspace, service: Service, data, *, partial=False) -> Service:
    form = service_form(workspace, data, service=service, partial=partial)
    return _save(form, name_clash_field="name", workspace=workspace)


@transaction.atomic
def delete_service(workspace, service_id: int) -> bool:
    deleted, _rows = Service.objects.filter(workspace=workspace, pk=service_id).delete()
    return bool(deleted)


# --- departments ---------------------------------------------------------------------------------------


def departments(workspace):
    return Department.objects.filter(workspace=workspace).prefetch_related("members__user")


def department_form(workspace, data=None, *, department=None, partial=False) -> forms.DepartmentForm:
    if data is not None and partial and department is not None:
        data = _merge(forms.DepartmentForm(instance=department, workspace=workspace), data)
    return forms.DepartmentForm(data=data, instance=department, workspace=workspace)


def create_department(workspace, data) -> Department:
    return _save(department_form(workspace, data), name_clash_field="name", workspace=workspace)


def update_department(workspace, department: Department, data, *, partial=False) -> Department:
    form = department_form(workspace, data, department=department, partial=partial)
    return _save(form, name_clash_field="name", workspace=workspace)


@transaction.atomic
def delete_department(workspace, department_id: int) -> bool:
    deleted, _rows = Department.objects.filter(workspace=workspace, pk=department_id).delete()
    return bool(deleted)
