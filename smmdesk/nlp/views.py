"""The one-click sentiment correction in a conversation, and the workspace's Models settings page.

Thin: each view looks rows up inside the workspace from the URL, calls one action from nlp.actions and
renders a partial (HTMX) or redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.inbox.conversation_views import zone
from smmdesk.inbox.models import Message, Sentiment
from smmdesk.nlp import actions
from smmdesk.nlp.actions import NlpError

VIEW, REPLY, MANAGE = "inbox.view", "inbox.reply", "inbox.manage"


@workspace_view(VIEW, write=REPLY)
@require_POST
def correct_sentiment(request, message_id):
    message = get_object_or_404(Message, pk=message_id, workspace=request.workspace)
    error = ""
    try:
        message = actions.correct_sentiment(request.membership, message, request.POST.get("label", ""))
    except NlpError as refused:
        error = refused.message
    if request.htmx:
        context = {"m": message, "sentiment_choices": Sentiment.choices, "sentiment_error": error}
        return render(request, "nlp/_sentiment.html", context, status=400 if error else 200)
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
    messages.success(
        request, _("Sentiment corrected: %(label)s.") % {"label": message.get_sentiment_display()}
    )
    url = reverse(
        "inbox:conversation",
        kwargs={"slug": request.workspace.slug, "conversation_id": message.conversation_id},
    )
    return redirect(f"{url}#message-{message.pk}")


@workspace_view(MANAGE)
@require_safe
def models(request):
    context = {"tab": "models", "active_section": "settings", "models": actions.status(request.workspace)}
    # Training times read as the business's clock, like the inbox's.
    with timezone.override(zone(request.workspace)):
        return render(request, "nlp/models.html", context)


@workspace_view(MANAGE)
@require_POST
def retrain(request):
    try:
        actions.request_retrain(request.workspace, request.POST.get("kind", ""))
    except NlpError as refused:
        return HttpResponseBadRequest(refused.message, content_type="text/plain; charset=utf-8")
    messages.success(request, _("Retraining queued. The page shows the new version once it is saved."))
    return redirect("nlp:models", slug=request.workspace.slug)
