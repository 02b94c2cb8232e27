"""Settings pages for the business profile. Everyone in the workspace may read them; saving needs
profile.edit (workspace_view's `write`), and people without it see the same forms read-only."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smmdesk.accounts.access import workspace_view
from smmdesk.business import actions
from smmdesk.business.models import Department, HolidayException, Service
from smmdesk.core import settings_pages

EDIT = "profile.edit"
get_or_post = settings_pages.get_or_post


_submit = settings_pages.submit
_saved = settings_pages.saved


def _page(request, template, tab, **context):
    return settings_pages.page(request, template, tab, EDIT, **context)


@workspace_view("profile.view", write=EDIT)
@get_or_post
def profile(request):
    done, form = _submit(
        request,
        actions.profile_form(request.workspace),
        lambda: actions.update_profile(request.workspace, request.POST),
        _("Business profile saved."),
        "business:profile",
    )
    if done:
        return done
    return _page(request, "business/profile.html", "profile", form=form)


@workspace_view("profile.view", write=EDIT)
@get_or_post
def hours(request):
    done, form = _submit(
        request,
        actions.week_form(request.workspace),
        lambda: actions.set_week(request.workspace, request.POST),
        _("Opening hours saved."),
        "business:hours",
    )
    if done:
        return done
    return _hours_page(request, form=form, holiday_form=actions.holiday_form(request.workspace))


def _hours_page(request, **forms):
    return _page(
        request, "business/hours.html", "hours", holidays=actions.holidays(request.workspace), **forms
    )


@workspace_view(EDIT)
@require_POST
def holiday_add(request):
    try:
        actions.add_holiday(request.workspace, request.POST)
    except actions.InvalidInput as refused:
        return _hours_page(request, form=actions.week_form(request.workspace), holiday_form=refused.form)
    return _saved(request, _("Exception date added."), "business:hours")


@workspace_view(EDIT)
@require_POST
def holiday_delete(request, pk):
    holiday = get_object_or_404(HolidayException, workspace=request.workspace, pk=pk)
    actions.delete_holiday(request.workspace, holiday.pk)
    return _saved(request, _("Exception date deleted."), "business:hours")


@workspace_view("profile.view", write=EDIT)
@get_or_post
def services(request):
    done, form = _submit(
        request,
        actions.service_form(request.workspace),
        lambda: actions.create_service(request.workspace, request.POST),
        _("Service added."),
        "business:services",
    )
    if done:
        return done
    return _page(
        request,
        "business/services.html",
        "services",
        services=actions.services(request.workspace),
        currency=actions.profile_of(request.workspace).currency,
        form=form,
    )


@workspace_view("profile.view", write=EDIT)
@get_or_post
def service_edit(request, pk):
    service = get_object_or_404(Service, workspace=request.workspace, pk=pk)
    done, form = _submit(
        request,
        actions.service_form(request.workspace, service=service),
        lambda: actions.update_service(request.workspace, service, request.POST),
        _("Service saved."),
        "business:services",
    )
    if done:
        return done
    return _page(request, "business/service_edit.html", "services", service=service, form=form)


@workspace_view(EDIT)
@require_POST
def service_delete(request, pk):
    service = get_object_or_404(Service, workspace=request.workspace, pk=pk)
    actions.delete_service(request.workspace, service.pk)
    return _saved(request, _("Service “%(name)s” deleted.") % {"name": service.name}, "business:services")


@workspace_view("profile.view", write=EDIT)
@get_or_post
def departments(request):
    done, form = _submit(
        request,
        actions.department_form(request.workspace),
        lambda: actions.create_department(request.workspace, request.POST),
        _("Department added."),
        "business:departments",
    )
    if done:
        return done
    return _page(
        request,
        "business/departments.html",
        "departments",
        departments=actions.departments(request.workspace),
        form=form,
    )


@workspace_view("profile.view", write=EDIT)
@get_or_post
def department_edit(request, pk):
    department = get_object_or_404(Department, workspace=request.workspace, pk=pk)
    done, form = _submit(
        request,
        actions.department_form(request.workspace, department=department),
        lambda: actions.update_department(request.workspace, department, request.POST),
        _("Department saved."),
        "business:departments",
    )
    if done:
        return done
    return _page(request, "business/department_edit.html", "departments", department=department, form=form)


@workspace_view(EDIT)
@require_POST
def department_delete(request, pk):
    department = get_object_or_404(Department, workspace=request.workspace, pk=pk)
    actions.delete_department(request.workspace, department.pk)
    return _saved(
        request, _("Department “%(name)s” deleted.") % {"name": department.name}, "business:departments"
    )
