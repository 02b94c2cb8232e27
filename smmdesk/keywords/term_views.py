"""The Import volumes tab (a Wordstat, Keyword Planner or any CSV file → a per-row report: good rows are
kept, bad ones named with their field) and the Negative keywords and landmarks tab (lists with add and
remove)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.keywords import terms, volumes
from smmdesk.keywords.cluster_views import refusals
from smmdesk.keywords.forms import LandmarkForm, NegativeForm, VolumesForm
from smmdesk.keywords.models import Landmark, NegativeKeyword
from smmdesk.keywords.views import MANAGE, VIEW, keywords_url, refused, render_page

ERRORS_SHOWN = 200


def volume_refusals() -> tuple[type[Exception], ...]:
    return (*refusals(), volumes.VolumeError)


@workspace_view(VIEW, write=MANAGE)
def import_volumes(request):
    report = None
    if request.method != "POST":
        form = VolumesForm(auto_id="volumes_%s")
    else:
        form = VolumesForm(request.POST, request.FILES, auto_id="volumes_%s")
        if form.is_valid():
            try:
                report = volumes.import_volumes(
                    request.membership, form.cleaned_data["file"], fmt=form.cleaned_data["fmt"]
                )
            except volume_refusals() as error:
                form.add_error("file", refused(error))
    context = {"tab": "volumes", "form": form, "report": _report(report)}
    failed = request.method == "POST" and report is None
    return render_page(request, "keywords/volumes.html", context, status=400 if failed else 200)


def _report(report: dict | None) -> dict | None:
    if report is None:
        return None
    errors = [
        {"row": row, "field": field, "message": str(message)}
        for row, field, message in report.get("errors", [])
    ]
    return {
        **{name: int(report.get(name, 0)) for name in ("rows", "matched", "added")},
        "errors": errors[:ERRORS_SHOWN],
        "error_count": len(errors),
    }


def _terms_page(request, negative_form=None, landmark_form=None, status: int = 200):
    workspace = request.workspace
    context = {
        "tab": "terms",
        "negatives": NegativeKeyword.objects.filter(workspace=workspace),
        "landmarks": Landmark.objects.filter(workspace=workspace),
        "negative_form": negative_form or NegativeForm(auto_id="negative_%s"),
        "landmark_form": landmark_form or LandmarkForm(auto_id="landmark_%s"),
    }
    return render_page(request, "keywords/terms.html", context, status=status)


@workspace_view(VIEW)
@require_safe
def term_lists(request):
    return _terms_page(request)


@workspace_view(MANAGE)
@require_POST
def negative_add(request):
    form = NegativeForm(request.POST, auto_id="negative_%s")
    if form.is_valid():
        try:
            terms.add_negative(request.membership, form.cleaned_data["phrase"])
        except refusals() as error:
            form.add_error("phrase", refused(error))
        else:
            messages.success(request, _("Negative keyword added."))
            return redirect(keywords_url(request, "terms"))
    return _terms_page(request, negative_form=form, status=400)


@workspace_view(MANAGE)
@require_POST
def landmark_add(request):
    form = LandmarkForm(request.POST, auto_id="landmark_%s")
    if form.is_valid():
        try:
            terms.add_landmark(request.membership, form.cleaned_data["name"], form.cleaned_data["language"])
        except refusals() as error:
            form.add_error("name", refused(error))
        else:
            messages.success(request, _("Landmark added."))
            return redirect(keywords_url(request, "terms"))
    return _terms_page(request, landmark_form=form, status=400)


def _remove(request, action, row, done: str):
    try:
        action(request.membership, row)
    except refusals() as error:
        messages.error(request, refused(error))
    else:
        messages.success(request, done)
    return redirect(keywords_url(request, "terms"))


@workspace_view(MANAGE)
@require_POST
def negative_remove(request, negative_id):
    row = get_object_or_404(NegativeKeyword, pk=negative_id, workspace=request.workspace)
    return _remove(request, terms.remove_negative, row, _("Negative keyword removed."))


@workspace_view(MANAGE)
@require_POST
def landmark_remove(request, landmark_id):
    row = get_object_or_404(Landmark, pk=landmark_id, workspace=request.workspace)
    return _remove(request, terms.remove_landmark, row, _("Landmark removed."))


urlpatterns = [
    path("volumes/", import_volumes, name="volumes"),
    path("terms/", term_lists, name="terms"),
    path("terms/negatives/", negative_add, name="negative_add"),
    path("terms/negatives/<int:negative_id>/remove/", negative_remove, name="negative_remove"),
    path("terms/landmarks/", landmark_add, name="landmark_add"),
    path("terms/landmarks/<int:landmark_id>/remove/", landmark_remove, name="landmark_remove"),
]
