"""The mention stream: filters, "Load more", the overview strip and latest alerts, and the two things a
mention can get (marked handled, sent to the inbox). Helpers here are shared by the terms, sources and
trends pages (terms_views.py, sources_views.py, trends_views.py).

Each view parses, calls one use case from listening.actions and renders a page, an HTMX partial, or
redirects. Rows are looked up inside the workspace from the URL, so another workspace's id is not found.
Everything in a mention was written by a stranger: the templates only autoescape it, and links are
offered only when they are http(s).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import can, workspace_view
from smmdesk.lib.redirects import back
from smmdesk.listening import actions
from smmdesk.listening.forms import StreamFilterForm
from smmdesk.listening.models import Mention, Source, TrackedTerm

VIEW, HANDLE, MANAGE, DRAFT = "listening.view", "listening.handle", "listening.manage", "publishing.draft"
PAGE = 30
ALERTS_SHOWN = 5


# Shared with the other listening views


def zone(workspace) -> ZoneInfo:
    profile = getattr(workspace, "profile", None)
    try:
        return ZoneInfo(getattr(profile, "timezone", None) or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def listening_url(request, name: str, **kwargs) -> str:
    return reverse(f"listening:{name}", kwargs={"slug": request.workspace.slug, **kwargs})


def render_page(request, template: str, context: dict, status: int = 200):
    # Times read as the business's clock, wherever the member sits.
    with timezone.override(zone(request.workspace)):
        return render(request, template, {"active_section": "listening", **context}, status=status)


def web_link(url: str) -> str:
    """The address if it is one a browser may follow from our page (http or https), else ""."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


def refusal_text(error: actions.ListeningError) -> str:
    """What a refused use case says, in one line; a role that may not is a 403, never a message."""
    if isinstance(error, actions.NotAllowed):
        raise PermissionDenied(error.message)
    if isinstance(error, actions.InvalidInput) and error.errors:
        return " ".join(str(message) for _field, message in error.errors)
    return str(error.message)


# The stream


def mention_row(request, mention: Mention) -> dict:
    """What one mention shows, worked out once here rather than in template logic."""
    cluster = mention.cluster
    similar = max((cluster.size if cluster else 1) - 1, 0)
    conversation_url = ""
    if mention.conversation_id and can(request, "inbox.view"):
        conversation_url = reverse(
            "inbox:conversation",
            kwargs={"slug": request.workspace.slug, "conversation_id": mention.conversation_id},
        )
    flags = mention.flags if isinstance(mention.flags, list) else []
    return {
        "m": mention,
        "link": web_link(mention.url),
        "author_link": web_link(mention.author_url),
        "author": mention.author_name or mention.author_handle or _("Unknown author"),
        "network": mention.channel.name if mention.channel else "",
        "source": str(mention.source.channel.name) if mention.source and mention.source.channel else "",
        "similar": similar,
        "flags": [str(flag) for flag in flags],
        "terms": [term.phrase for term in mention.terms.all()],
        "conversation_url": conversation_url,
    }


def _stream_form(request) -> StreamFilterForm:
    workspace = request.workspace
    form = StreamFilterForm(
        request.GET,
        terms=TrackedTerm.objects.filter(workspace=workspace).order_by("phrase"),
        sources=Source.objects.filter(workspace=workspace)
        .select_related("channel")
        .order_by("channel__name"),
    )
    form.is_valid()
    return form


def _stream_page(request, form: StreamFilterForm) -> dict:
    """One page of rows, newest first, and the address of the next (older) page if there is one."""
    found = list(
        actions.stream(request.workspace, **form.filters(), before_id=form.before_id(), limit=PAGE + 1)
    )
    rows = [mention_row(request, m) for m in found[:PAGE]]
    more_url = ""
    if len(found) > PAGE:
        params = request.GET.copy()
        params["before"] = str(found[PAGE - 1].pk)
        more_url = f"{listening_url(request, 'stream')}?{params.urlencode()}"
    return {"rows": rows, "more_url": more_url}


@workspace_view(VIEW)
@require_safe
def stream(request):
    form = _stream_form(request)
    page = _stream_page(request, form)
    if request.htmx and form.before_id():
        # "Load more": only the next rows and their own "Load more", appended where the button was.
        return render_page(request, "listening/_mentions.html", page, status=400 if form.errors else 200)
    context = {
        **page,
        "form": form,
        "overview": actions.overview(request.workspace),
        "alerts": list(actions.alerts(request.workspace, limit=ALERTS_SHOWN)),
        "tab": "stream",
        "next_url": request.get_full_path(),
        "first_page_url": listening_url(request, "stream"),
    }
    return render_page(request, "listening/stream.html", context, status=400 if form.errors else 200)


def _mention(request, mention_id) -> Mention:
    return get_object_or_404(
        Mention.objects.select_related("channel", "cluster", "source__channel").prefetch_related("terms"),
        pk=mention_id,
        workspace=request.workspace,
    )


def _mention_action(verb: str, done_message):
    """A button on a mention: calls one use case, then shows the mention again (HTMX) or goes back."""

    @workspace_view(VIEW, write=HANDLE)
    @require_POST
    def view(request, mention_id):
        mention = _mention(request, mention_id)
        error = ""
        try:
            getattr(actions, verb)(request.membership, mention)
        except actions.ListeningError as refused:
            error = refusal_text(refused)
        mention = _mention(request, mention_id)
        if request.htmx:
            context = {"row": mention_row(request, mention), "error": error, "next_url": ""}
            return render_page(request, "listening/_mention.html", context, status=409 if error else 200)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, str(done_message))
        return back(request, listening_url(request, "stream"))

    view.__name__ = f"mention_{verb}"
    return view


mention_handle = _mention_action("mark_handled", gettext_lazy("Marked handled."))
mention_inbox = _mention_action("send_to_inbox", gettext_lazy("Sent to the inbox."))


urlpatterns = [
    path("", stream, name="stream"),
    path("mentions/<int:mention_id>/handle/", mention_handle, name="mention_handle"),
    path("mentions/<int:mention_id>/inbox/", mention_inbox, name="mention_inbox"),
]
