"""Use cases called directly: the edges the pages and the API rarely reach."""

import pytest

from smmdesk.business import actions
from smmdesk.business.forms import DepartmentForm, ServiceForm
from smmdesk.business.models import BusinessProfile, Department, Service

pytestmark = pytest.mark.django_db


def test_a_name_clash_found_only_by_the_database_is_still_a_field_error(cast, monkeypatch):
    # Two people saving the same name at once both pass the form's check; the constraint decides.
    Service.objects.create(workspace=cast.workspace, name="Haircut", price=1)
    monkeypatch.setattr(ServiceForm, "clean_name", lambda self: self.cleaned_data["name"])
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_service(cast.workspace, {"name": "Haircut", "price": "1", "duration_minutes": "30"})
    assert refused.value.field_errors() == [("name", "There is already a service with this name.")]
    assert Service.objects.filter(workspace=cast.workspace).count() == 1

    Department.objects.create(workspace=cast.workspace, name="Desk")
    monkeypatch.setattr(DepartmentForm, "clean_name", lambda self: self.cleaned_data["name"])
    with pytest.raises(actions.InvalidInput) as refused:
        actions.create_department(cast.workspace, {"name": "Desk"})
    assert refused.value.field_errors() == [("name", "There is already a department with this name.")]


def test_a_workspace_without_a_profile_gets_one_on_first_save(cast):
    BusinessProfile.objects.filter(workspace=cast.workspace).delete()
    profile = actions.profile_of(cast.workspace)
    assert profile.pk is None and profile.name == cast.workspace.name
    actions.update_profile(
        cast.workspace, {"city": "Orenburg", "timezone": "UTC", "currency": "RUB"}, partial=True
    )
    saved = BusinessProfile.objects.get(workspace=cast.workspace)
    assert (saved.name, saved.city, saved.languages) == ("Salon Leninsky", "Orenburg", ["en"])


def test_week_replaces_only_this_workspace(cast):
    actions.set_week(cast.workspace, {"monday": "9-18"})
    actions.set_week(cast.other, {"sunday": "10-12"})
    actions.set_week(cast.workspace, {"tuesday": "9-13, 14-18"})
    assert list(cast.workspace.opening_hours.values_list("weekday", flat=True)) == [1, 1]
    assert list(cast.other.opening_hours.values_list("weekday", flat=True)) == [6]


def test_deleting_another_workspaces_rows_does_nothing(cast):
    theirs = Service.objects.create(workspace=cast.other, name="Cut", price=1)
    assert actions.delete_service(cast.workspace, theirs.pk) is False
    assert Service.objects.filter(pk=theirs.pk).exists()
