"""Sources: where mentions are looked for, each with its schedule and health (new, ok, failing, paused),
its last poll, last success, failures and the last error (the network's words, shown escaped). The owner
and SMM managers add, change, poll and remove them (listening.manage); everyone else may look."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smmdesk.accounts.access import can, workspace_view
from smmdesk.lib.redirects import back
from smmdesk.listening import actions
from smmdesk.listening.forms import SourceEditForm, SourceForm, add_action_errors
from smmdesk.listening.models import Source
from smmdesk.listening.views import MANAGE, VIEW, listening_url, refusal_text, render_page


def _sources_page(request, form: SourceForm | None, status: int = 200):
    sources = (
        Source.objects.filter(workspace=request.workspace)
        .select_related("channel")
        .order_by("channel__name", "pk")
    )
    context = {"sources": sources, "form": form, "tab": "sources", "next_url": request.get_full_path()}
    return render_page(request, "listening/sources.html", context, status=status)


def _add_form(request, data=None) -> SourceForm | None:
    """The add form, when the member may add and some channel can still become a source."""
    if not can(request, MANAGE):
        return None
    return SourceForm(data, choices=actions.source_choices(request.workspace), auto_id="source_%s")


@workspace_view(VIEW, write=MANAGE)
def sources(request):
    if request.method != "POST":
        return _sources_page(request, _add_form(request))
    form = _add_form(request, request.POST)
    if form.is_valid():
        try:
            source = actions.create_source(request.membership, dict(form.cleaned_data))
        except actions.InvalidInput as error:
            add_action_errors(form, error.errors)
        except actions.ListeningError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, _("“%(name)s” is now a source.") % {"name": source.channel.name})
            return redirect(listening_url(request, "sources"))
    messages.error(request, _("The source was not added: correct the fields marked below."))
    return _sources_page(request, form, status=400)


def _source(request, source_id) -> Source:
    return get_object_or_404(
        Source.objects.select_related("channel"), pk=source_id, workspace=request.workspace
    )


@workspace_view(MANAGE)
def source_edit(request, source_id):
    source = _source(request, source_id)
    if request.method != "POST":
        form = SourceEditForm(
            initial={"interval_minutes": source.interval_minutes, "active": source.active},
            auto_id="source_%s",
        )
        return render_page(
            request, "listening/source_form.html", {"form": form, "source": source, "tab": "sources"}
        )
    form = SourceEditForm(request.POST, auto_id="source_%s")
    if form.is_valid():
        try:
            actions.update_source(request.membership, source, dict(form.cleaned_data))
        except actions.InvalidInput as error:
            add_action_errors(form, error.errors)
        except actions.ListeningError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, _("Source saved."))
            return redirect(listening_url(request, "sources"))
    source = _source(request, source_id)
    context = {"form": form, "source": source, "tab": "sources"}
    return render_page(request, "listening/source_form.html", context, status=400)


@workspace_view(MANAGE)
@require_POST
def source_poll(request, source_id):
    source = _source(request, source_id)
    error = ""
    try:
        source = actions.poll_now(request.membership, source)
    except actions.ListeningError as refused:
        error = refusal_text(refused)
    if request.htmx:
        context = {"source": _source(request, source_id), "error": error, "next_url": ""}
        return render_page(request, "listening/_source.html", context, status=409 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("“%(name)s” will be polled now.") % {"name": source.channel.name})
    return back(request, listening_url(request, "sources"))


@workspace_view(MANAGE)
@require_POST
def source_delete(request, source_id):
    source = _source(request, source_id)
    try:
        actions.delete_source(request.membership, source)
    except actions.ListeningError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("“%(name)s” is no longer a source.") % {"name": source.channel.name})
    return redirect(listening_url(request, "sources"))


urlpatterns = [
    path("sources/", sources, name="sources"),
    path("sources/<int:source_id>/edit/", source_edit, name="source_edit"),
    path("sources/<int:source_id>/poll/", source_poll, name="source_poll"),
    path("sources/<int:source_id>/delete/", source_delete, name="source_delete"),
]
