"""Tracked terms: everyone in the workspace sees what is tracked; the owner and SMM managers add, change
and remove terms (listening.manage). A refused term comes back with the reason next to its field."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smmdesk.accounts.access import workspace_view
from smmdesk.listening import actions
from smmdesk.listening.forms import TermForm, add_action_errors
from smmdesk.listening.models import TrackedTerm
from smmdesk.listening.views import MANAGE, VIEW, listening_url, refusal_text, render_page


def _terms_page(request, form: TermForm, status: int = 200):
    terms = (
        TrackedTerm.objects.filter(workspace=request.workspace)
        .annotate(found=Count("mentions"))
        .order_by("kind", "phrase")
    )
    context = {"terms": terms, "form": form, "tab": "terms"}
    return render_page(request, "listening/terms.html", context, status=status)


@workspace_view(VIEW, write=MANAGE)
def terms(request):
    if request.method != "POST":
        return _terms_page(request, TermForm(workspace=request.workspace, auto_id="term_%s"))
    form = TermForm(request.POST, workspace=request.workspace, auto_id="term_%s")
    if form.is_valid():
        try:
            term = actions.create_term(request.membership, form.data_for_action(with_active=False))
        except actions.InvalidInput as error:
            add_action_errors(form, error.errors)
        except actions.ListeningError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, _("Now tracking “%(phrase)s”.") % {"phrase": term.phrase})
            return redirect(listening_url(request, "terms"))
    messages.error(request, _("The term was not added: correct the fields marked below."))
    return _terms_page(request, form, status=400)


def _term(request, term_id) -> TrackedTerm:
    return get_object_or_404(TrackedTerm, pk=term_id, workspace=request.workspace)


@workspace_view(MANAGE)
def term_edit(request, term_id):
    term = _term(request, term_id)
    if request.method != "POST":
        form = TermForm(initial=TermForm.initial_for(term), workspace=request.workspace, auto_id="term_%s")
        return render_page(request, "listening/term_form.html", {"form": form, "term": term, "tab": "terms"})
    form = TermForm(request.POST, workspace=request.workspace, auto_id="term_%s")
    if form.is_valid():
        try:
            actions.update_term(request.membership, term, form.data_for_action(with_active=True))
        except actions.InvalidInput as error:
            add_action_errors(form, error.errors)
        except actions.ListeningError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, _("Term saved."))
            return redirect(listening_url(request, "terms"))
    term = _term(request, term_id)  # as stored: a refused change may have touched the instance
    context = {"form": form, "term": term, "tab": "terms"}
    return render_page(request, "listening/term_form.html", context, status=400)


@workspace_view(MANAGE)
@require_POST
def term_delete(request, term_id):
    term = _term(request, term_id)
    try:
        actions.delete_term(request.membership, term)
    except actions.ListeningError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("No longer tracking “%(phrase)s”.") % {"phrase": term.phrase})
    return redirect(listening_url(request, "terms"))


urlpatterns = [
    path("terms/", terms, name="terms"),
    path("terms/<int:term_id>/edit/", term_edit, name="term_edit"),
    path("terms/<int:term_id>/delete/", term_delete, name="term_delete"),
]
