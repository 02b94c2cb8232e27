"""The trends page: cards with the evidence (a counts chart with the burst marked, example mentions) and
the two things a trend can get: a drafted post (publishing.draft; it lands in the calendar in review) or
dismissal (listening.manage)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.listening import actions, charts
from smmdesk.listening.models import Trend
from smmdesk.listening.views import (
    DRAFT,
    MANAGE,
    VIEW,
    back,
    listening_url,
    refusal_text,
    render_page,
    web_link,
    zone,
)

EXAMPLES_SHOWN = 5


def post_url(request, post_id: int) -> str:
    return reverse("publishing:post", kwargs={"slug": request.workspace.slug, "post_id": post_id})


def trend_card(request, trend: Trend, tz) -> dict:
    examples = sorted(trend.examples.all(), key=lambda m: (m.published_at, m.pk), reverse=True)
    return {
        "t": trend,
        "chart": charts.trend_geometry(trend, tz),
        "examples": [
            {
                "text": mention.text,
                "author": mention.author_name or mention.author_handle,
                "when": mention.published_at,
                "link": web_link(mention.url),
                "sentiment": mention.sentiment,
            }
            for mention in examples[:EXAMPLES_SHOWN]
        ],
        "post_url": post_url(request, trend.post_id) if trend.post_id else "",
    }


@workspace_view(VIEW)
@require_safe
def trends(request):
    status = request.GET.get("status", Trend.Status.NEW)
    error = ""
    if status not in Trend.Status.values:
        error = _("Unknown status “%(status)s”: choose one of the tabs.") % {"status": status[:40]}
        status = Trend.Status.NEW
    tz = zone(request.workspace)
    cards = [trend_card(request, trend, tz) for trend in actions.trends(request.workspace, status)]
    context = {
        "cards": cards,
        "status": status,
        "statuses": Trend.Status.choices,
        "status_error": error,
        "tab": "trends",
        "next_url": request.get_full_path(),
    }
    return render_page(request, "listening/trends.html", context, status=400 if error else 200)


def _trend(request, trend_id) -> Trend:
    return get_object_or_404(
        Trend.objects.prefetch_related("examples"), pk=trend_id, workspace=request.workspace
    )


def _card_answer(request, trend_id, error: str):
    """The trend's card again (HTMX), with the refusal if there was one."""
    trend = _trend(request, trend_id)
    context = {"card": trend_card(request, trend, zone(request.workspace)), "error": error, "next_url": ""}
    return render_page(request, "listening/_trend.html", context, status=409 if error else 200)


@workspace_view(VIEW, write=MANAGE)
@require_POST
def trend_dismiss(request, trend_id):
    trend = _trend(request, trend_id)
    error = ""
    try:
        actions.dismiss_trend(request.membership, trend)
    except actions.ListeningError as refused:
        error = refusal_text(refused)
    if request.htmx:
        return _card_answer(request, trend_id, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Trend dismissed."))
    return back(request, listening_url(request, "trends"))


@workspace_view(VIEW, write=DRAFT)
@require_POST
def trend_draft(request, trend_id):
    trend = _trend(request, trend_id)
    try:
        post = actions.draft_post_from_trend(request.membership, trend)
    except actions.ListeningError as refused:
        error = refusal_text(refused)
        if request.htmx:
            return _card_answer(request, trend_id, error)
        messages.error(request, error)
        return back(request, listening_url(request, "trends"))
    if request.htmx:
        return _card_answer(request, trend_id, "")
    messages.success(request, _("A post was drafted from the trend; it waits for review in the calendar."))
    return redirect(post_url(request, post.pk))


urlpatterns = [
    path("trends/", trends, name="trends"),
    path("trends/<int:trend_id>/dismiss/", trend_dismiss, name="trend_dismiss"),
    path("trends/<int:trend_id>/draft/", trend_draft, name="trend_draft"),
]
