"""The inbox list: filters, SLA-urgency order, keyset pages, bulk actions and live updates. The
conversation page and its actions are in conversation_views.py; both sets of URLs are listed here.

Live updates: each page holds one server-sent-events stream (`stream`, inbox/live.py) that says when the
list, the conversation or the member's notices changed; the page then fetches its fragment (`updates`,
`live`), which answers 204 from a version token when what it shows did not change. The page also fetches
it every 30 s, for what time alone changes (SLA badges) and in case a proxy holds the stream back.
"""

from __future__ import annotations

import math

from django.contrib import messages
from django.db import connections
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import can, workspace_view
from smmdesk.inbox import actions, conversation_views, live, queries
from smmdesk.inbox.actions import InboxError
from smmdesk.inbox.conversation_views import MANAGE, VIEW, field_errors, inbox_url, render_page, stream_url
from smmdesk.inbox.forms import BulkForm, FilterForm
from smmdesk.inbox.models import Conversation, Kind, Priority, Sentiment, Status
from smmdesk.lib.redirects import back
from smmdesk.nlp.explain import short_reason

SUBJECT_CHARS = 120

# The list


def _filtered_page(request) -> tuple[FilterForm, queries.Page]:
    form = FilterForm(request.GET, workspace=request.workspace, membership=request.membership)
    form.is_valid()
    return form, queries.page(request.workspace, request.membership, form.filters(), form.cursor())


def _list_context(request, filtered=None) -> dict:
    form, page = filtered or _filtered_page(request)
    params = request.GET.copy()
    params.pop("v", None)
    params.pop("after", None)
    query = params.urlencode()
    current = params.copy()
    if form.cursor() is not None:
        current["after"] = form.cursor().encode()
    poll = current.copy()
    poll["v"] = page.version
    next_url = ""
    if page.next_cursor is not None:
        following = params.copy()
        following["after"] = page.next_cursor.encode()
        next_url = f"?{following.urlencode()}"
    list_url = inbox_url(request, "list")
    return {
        "form": form,
        "page": page,
        "rows": _rows(request, page),
        "can_bulk": can(request, MANAGE),
        "updates_url": f"{inbox_url(request, 'updates')}?{poll.urlencode()}",
        "next_page_url": next_url,
        "first_page_url": f"{list_url}?{query}" if query else list_url,
        "is_first_page": form.cursor() is None,
        "back_url": f"{list_url}?{current.urlencode()}" if current else list_url,
    }


def _rows(request, page: queries.Page) -> list[dict]:
    """What each row shows, worked out here once per row instead of by template tags and translation
    lookups per cell: the list is rendered again whenever it changes, for everyone who has it open."""
    zone = conversation_views.zone(request.workspace)
    today = timezone.now().astimezone(zone).date()
    unknown = _("Unknown customer")
    sla_labels = {"breached": _("Overdue"), "warning": _("At risk"), "ok": _("Due"), "paused": _("Paused")}
    kinds, statuses = _labels(Kind), _labels(Status)
    priorities, sentiments = _labels(Priority), _labels(Sentiment)
    # Every row's address from one reverse(): "…/c/0/" with the id put in its place.
    base = inbox_url(request, "conversation", conversation_id=0)[: -len("0/")]

    def short(moment):
        local = moment.astimezone(zone)
        return local.strftime("%H:%M" if local.date() == today else "%d.%m %H:%M")

    rows = []
    for c in page.rows:
        badge = page.sla[c.pk]
        customer = c.customer
        subject = c.subject if len(c.subject) <= SUBJECT_CHARS else c.subject[: SUBJECT_CHARS - 1] + "…"
        timed = badge.deadline is not None and badge.state in ("ok", "warning", "breached")
        rows.append(
            {
                # Strings, not numbers: a number in a template is localized, which is slow at this scale.
                "pk": str(c.pk),
                "url": f"{base}{c.pk}/",
                "status_url": f"{base}{c.pk}/status/",
                "customer": (customer.name or str(customer)) if customer else unknown,
                "language": c.language,
                "kind": kinds.get(c.kind, c.kind),
                "subject": subject,
                "priority": str(c.priority),
                "priority_label": priorities.get(c.priority, "") if c.priority >= Priority.HIGH else "",
                "sentiment": c.sentiment or "none",
                "negative": sentiments[Sentiment.NEGATIVE] if c.sentiment == Sentiment.NEGATIVE else "",
                "tags": c.tags if isinstance(c.tags, list) else [],
                "channel": c.channel.name,
                "status": c.status,
                "status_label": statuses.get(c.status, c.status),
                "department": c.department.name if c.department else "—",
                "route_hint": short_reason(c),
                "assignee": str(c.assignee.user) if c.assignee else "",
                "sla": badge.state,
                "sla_label": sla_labels.get(badge.state, "—"),
                "due_iso": badge.deadline.isoformat() if timed else "",
                "due_short": short(badge.deadline) if timed else "",
                "updated_iso": c.updated_at.isoformat(),
                "updated_short": short(c.updated_at),
            }
        )
    return rows


def _labels(choices) -> dict:
    return {value: str(label) for value, label in choices.choices}


def _presets(request) -> list[tuple[str, str, bool]]:
    """One-click views of the list: (label, query, is the current one)."""
    presets = [
        (_("All open"), ""),
        (_("My departments' queue"), "department=mine"),
        (_("Assigned to me"), "assignee=me"),
        (_("Unassigned"), "assignee=none"),
        (_("Overdue"), "risk=breached"),
        (_("Negative"), "sentiment=negative"),
    ]
    current = request.GET.urlencode()
    return [(label, query, query == current) for label, query in presets]


@workspace_view(VIEW)
@require_safe
def inbox_list(request):
    live_stream_url = stream_url(request, "list=1")
    context = _list_context(request)
    context["presets"] = _presets(request)
    context["live_stream_url"] = live_stream_url
    if can(request, MANAGE):
        context["bulk_form"] = BulkForm(workspace=request.workspace)
    return render_page(request, "inbox/list.html", context)


@workspace_view(VIEW)
@require_safe
def updates(request):
    """The list fragment for the live poll, or 204 when the token `v` says the page already shows it."""
    _form, page = filtered = _filtered_page(request)
    if request.GET.get("v") == page.version:
        # Most polls end here: the rows are only worked out to render.
        return HttpResponse(status=204)
    return render_page(request, "inbox/_list.html", _list_context(request, filtered))


def _since(request) -> float | None:
    """When the page was rendered; without it (or unreadable) the stream opens with a fetch anyway."""
    try:
        since = float(request.GET.get("since", ""))
    except ValueError:
        return None
    return since if math.isfinite(since) else None


@workspace_view(VIEW)
@require_safe
def stream(request):
    """The page's live stream: `list=1` for the list, `conversation=<id>` for a conversation page; the
    member's notices always."""
    keys = [("m", request.membership.pk)]
    if request.GET.get("list"):
        keys.append(("w", request.workspace.pk))
    wanted = request.GET.get("conversation")
    if wanted is not None:
        if not (wanted.isascii() and wanted.isdigit()) or len(wanted) > 18:
            return HttpResponseBadRequest(
                _("conversation: expected a conversation's number"), content_type="text/plain"
            )
        if not Conversation.objects.filter(workspace=request.workspace, pk=int(wanted)).exists():
            raise Http404("no such conversation")
        keys.append(("c", int(wanted)))
    # The stream may stay open for minutes: its database connection goes back to the pool now, not then.
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
    response = StreamingHttpResponse(live.events(keys, _since(request)), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    # nginx would otherwise hold the events back in its buffer.
    response["X-Accel-Buffering"] = "no"
    return response


@workspace_view(VIEW, write=MANAGE)
@require_POST
def bulk(request):
    form = BulkForm(request.POST, workspace=request.workspace)
    list_url = inbox_url(request, "list")
    if not form.is_valid():
        messages.error(request, field_errors(form))
        return back(request, list_url)
    data, done, refused = form.cleaned_data, 0, []
    for conversation in data["ids"]:
        try:
            if data["action"] == "resolve":
                actions.set_status(conversation, Status.RESOLVED, request.membership)
            elif data["action"] == "assign":
                actions.assign(conversation, data["assignee"], request.membership)
            else:
                actions.set_status(conversation, data["status"], request.membership)
            done += 1
        except InboxError as error:
            refused.append(f"{conversation}: {error.message}")
    if done:
        messages.success(
            request,
            ngettext("%(count)d conversation updated.", "%(count)d conversations updated.", done)
            % {"count": done},
        )
    if refused:
        messages.error(request, " ".join(refused))
    return back(request, list_url)


urlpatterns = [
    path("", inbox_list, name="list"),
    path("updates/", updates, name="updates"),
    path("stream/", stream, name="stream"),
    path("bulk/", bulk, name="bulk"),
] + conversation_views.urlpatterns
