"""Segments: saved service × gender × age × district audiences with their size over every order, the
targeting each turns into for ads (actions.targeting_for, the hook for the ads section), and the "who
to target" suggestions from the last 90 days, each with a button that saves it as a segment.

Everyone who may read the section sees them; the owner and SMM managers (audience.manage) create,
change and delete them. A refused segment comes back with the reason next to its field.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.audience import actions
from smmdesk.audience.forms import SegmentForm, add_errors
from smmdesk.audience.models import Segment
from smmdesk.audience.views import (
    MANAGE,
    VIEW,
    audience_url,
    money,
    percent,
    profile_districts,
    profile_services,
    refused,
    render_page,
    value_label,
)


def _segment_row(segment: Segment) -> dict:
    size = actions.segment_size(segment)
    targeting = actions.targeting_for(segment)
    return {
        "segment": segment,
        "services": [service.name for service in segment.services.all()],
        "gender": value_label(segment.gender, "gender") if segment.gender else "",
        "size": size,
        "share": percent(size["share"]),
        "revenue": money(size["revenue"]),
        "targeting": targeting,
    }


def _suggestion_row(suggestion: dict) -> dict:
    data = suggestion["segment_data"]
    return {
        **suggestion,
        "gender_label": value_label(suggestion["gender"], "gender"),
        "share_text": percent(suggestion["share"]),
        "name": data["name"],
        "services": data.get("services") or [],
        "segment_gender": data.get("gender") or "",
        "age_min": "" if data.get("age_min") is None else data["age_min"],
        "age_max": "" if data.get("age_max") is None else data["age_max"],
        "districts": "\n".join(str(d) for d in data.get("districts") or []),
    }


@workspace_view(VIEW)
@require_safe
def segments(request):
    found = Segment.objects.filter(workspace=request.workspace).prefetch_related("services")
    context = {
        "tab": "segments",
        "rows": [_segment_row(segment) for segment in found],
        "suggestions": [_suggestion_row(s) for s in actions.suggestions(request.workspace)],
    }
    return render_page(request, "audience/segments.html", context)


def _form(request, data=None, initial=None) -> SegmentForm:
    return SegmentForm(
        data,
        initial=initial,
        services=profile_services(request.workspace),
        districts=profile_districts(request.workspace),
        auto_id="segment_%s",
    )


def _form_page(request, form: SegmentForm, segment: Segment | None = None, status: int = 200):
    context = {"tab": "segments", "form": form, "segment": segment}
    return render_page(request, "audience/segment_form.html", context, status=status)


def _save(request, segment: Segment | None):
    form = _form(request, request.POST)
    if form.is_valid():
        try:
            saved = actions.save_segment(request.membership, form.data_for_action(), segment)
        except actions.InvalidInput as error:
            add_errors(form, error.errors)
        except actions.AudienceError as error:
            form.add_error(None, refused(error))
        else:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": saved.name})
            return redirect(audience_url(request, "segments"))
    if segment is not None:
        segment = _segment(request, segment.pk)  # as stored: a refused change may have touched it
    return _form_page(request, form, segment, status=400)


@workspace_view(MANAGE)
def segment_new(request):
    if request.method != "POST":
        return _form_page(request, _form(request))
    return _save(request, None)


def _segment(request, segment_id) -> Segment:
    return get_object_or_404(Segment, pk=segment_id, workspace=request.workspace)


@workspace_view(MANAGE)
def segment_edit(request, segment_id):
    segment = _segment(request, segment_id)
    if request.method != "POST":
        initial = SegmentForm.initial_for(segment, profile_districts(request.workspace))
        return _form_page(request, _form(request, initial=initial), segment)
    return _save(request, segment)


@workspace_view(MANAGE)
@require_POST
def segment_delete(request, segment_id):
    segment = _segment(request, segment_id)
    try:
        actions.delete_segment(request.membership, segment)
    except actions.AudienceError as error:
        messages.error(request, refused(error))
    else:
        messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect(audience_url(request, "segments"))


urlpatterns = [
    path("segments/", segments, name="segments"),
    path("segments/new/", segment_new, name="segment_new"),
    path("segments/<int:segment_id>/", segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/delete/", segment_delete, name="segment_delete"),
]
