"""A conversation's page and what can be done on it: reply, note, assign, status, priority, hand-off,
the department's answer, moderation, retry; plus the helpers the inbox's views share.

Each view parses, calls one use case from inbox.actions and renders or redirects; rows are always looked
up inside the workspace from the URL, so another workspace's id is simply not found. A refused form
shows the page again with the error at its field (status 400).
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import can, workspace_view
from smmdesk.accounts.models import Membership
from smmdesk.business.models import Department
from smmdesk.inbox import actions, queries, timeline
from smmdesk.inbox.actions import InboxError
from smmdesk.inbox.forms import (
    STATUS_BUTTONS,
    AnswerForm,
    AssignForm,
    HandOffForm,
    ModerateForm,
    NoteForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
)
from smmdesk.inbox.models import CannedReply, Conversation, HandOff, Message, Sentiment, Status
from smmdesk.lib.redirects import back
from smmdesk.nlp.explain import routing_reason

VIEW, REPLY, MANAGE, MODERATE = "inbox.view", "inbox.reply", "inbox.manage", "inbox.moderate"
REOPENABLE = (Status.RESOLVED, Status.CLOSED, Status.WAITING_CUSTOMER)


def zone(workspace) -> ZoneInfo:
    profile = getattr(workspace, "profile", None)
    try:
        return ZoneInfo(profile.timezone if profile is not None else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def render_page(request, template, context, status=200):
    # Times read as the business's clock, wherever the agent sits.
    with timezone.override(zone(request.workspace)):
        return render(request, template, {"active_section": "inbox", **context}, status=status)


def inbox_url(request, name, **kwargs) -> str:
    return reverse(f"inbox:{name}", kwargs={"slug": request.workspace.slug, **kwargs})


def stream_url(request, query: str) -> str:
    # Taken before the page reads what it shows: see live.may_have_missed.
    return f"{inbox_url(request, 'stream')}?{query}&since={time.time():.3f}"


def field_errors(form) -> str:
    return " ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".lstrip(": ")
        for name, errors in form.errors.items()
    )


# A conversation


def _conversation(request, conversation_id) -> Conversation:
    return get_object_or_404(
        Conversation.objects.select_related(
            "channel", "customer", "department", "assignee__user", "sla_policy"
        ),
        pk=conversation_id,
        workspace=request.workspace,
    )


def _names(workspace) -> tuple[dict[int, str], dict[int, str]]:
    # Names as str(user) gives them, without a model per member: the live poll asks every second.
    members = {
        pk: name or email
        for pk, name, email in Membership.objects.filter(workspace=workspace).values_list(
            "pk", "user__name", "user__email"
        )
    }
    departments = dict(Department.objects.filter(workspace=workspace).values_list("pk", "name"))
    return members, departments


def _live_state(conversation: Conversation) -> dict:
    """What the live part shows, undecorated, and its version: all the poll needs to answer 204."""
    items = timeline.timeline(conversation)
    handoffs = timeline.handoffs(conversation)
    badge = queries.sla_badge(conversation, timezone.now())
    version = queries.digest(
        [
            timeline.live_version(conversation, items, handoffs, badge),
            # The worker refines sentiment and routes after the page was shown; a person corrects it.
            [(i.message.pk, i.message.sentiment, i.message.triage_stage) for i in items if i.message],
            conversation.routing_explanation,
        ]
    )
    return {"items": items, "handoffs": handoffs, "badge": badge, "live_version": version}


def _live_context(
    request, conversation: Conversation, moderation_errors=None, answer_errors=None, state=None
) -> dict:
    state = state or _live_state(conversation)
    items, handoffs = state["items"], state["handoffs"]
    names = None
    for item in items:
        if item.event is not None:
            members, departments = names = names or _names(request.workspace)
            with timezone.override(zone(request.workspace)):
                item.description = timeline.describe_event(item.event, members, departments)
        else:
            item.attachment_links = [
                {
                    "name": str(a.get("name") or a.get("type") or _("attachment")),
                    "link": timeline.safe_link(str(a.get("url", ""))),
                }
                for a in item.message.attachments
                if isinstance(a, dict)
            ]
    moderation_errors, answer_errors = moderation_errors or {}, answer_errors or {}
    can_moderate = timeline.can_moderate_on(conversation) and can(request, MODERATE)
    for item in items:
        if can_moderate and item.message is not None and item.message.direction == Message.Direction.IN:
            pk = item.message.pk
            item.moderation_form = moderation_errors.get(pk) or ModerateForm(prefix=f"moderate-{pk}")
    for handoff in handoffs:
        handoff.answer_form = answer_errors.get(handoff.pk) or AnswerForm(prefix=f"answer-{handoff.pk}")
    live_url = inbox_url(request, "live", conversation_id=conversation.pk)
    return {
        **state,
        "conversation": conversation,
        "routing_reason": routing_reason(conversation, [i.event for i in items if i.event is not None]),
        "sentiment_choices": Sentiment.choices,
        "can_moderate": can_moderate,
        "live_url": f"{live_url}?v={state['live_version']}",
    }


def _page(request, conversation: Conversation, status=200, **overrides):
    """The conversation page; `overrides` carry a refused form (with its errors) in place of a fresh one."""
    live_stream_url = stream_url(request, f"conversation={conversation.pk}")
    limits = timeline.channel_limits(conversation)
    workspace = request.workspace
    forms = {
        "reply_form": ReplyForm(prefix="reply", max_length=limits.max_text if limits else None),
        "note_form": NoteForm(prefix="note"),
        "assign_form": AssignForm(
            prefix="assign", workspace=workspace, initial={"assignee": conversation.assignee_id}
        ),
        "priority_form": PriorityForm(prefix="priority", initial={"priority": conversation.priority}),
        "handoff_form": HandOffForm(prefix="handoff", workspace=workspace),
    }
    forms.update({k: v for k, v in overrides.items() if k.endswith("_form")})
    context = {
        **_live_context(
            request,
            conversation,
            overrides.get("moderation_errors"),
            overrides.get("answer_errors"),
        ),
        **forms,
        "limits": limits,
        "replies_possible": timeline.can_reply_on(conversation),
        "status_buttons": _status_buttons(conversation),
        "identities": timeline.identities(conversation),
        "history": timeline.history(conversation),
        "canned": CannedReply.objects.filter(workspace=workspace),
        "list_url": inbox_url(request, "list"),
        "live_stream_url": live_stream_url,
    }
    return render_page(request, "inbox/conversation.html", context, status=status)


def _status_buttons(conversation: Conversation) -> list[tuple[str, str]]:
    """The status changes the conversation allows from where it is (reopening only what was finished)."""
    transitions = getattr(actions, "TRANSITIONS", {})
    allowed = transitions.get(conversation.status, {value for value, _label in STATUS_BUTTONS})
    return [
        (value, label)
        for value, label in STATUS_BUTTONS
        if value != conversation.status
        and value in allowed
        and (value != Status.OPEN or conversation.status in REOPENABLE)
    ]


@workspace_view(VIEW)
@require_safe
def conversation(request, conversation_id):
    return _page(request, _conversation(request, conversation_id))


@workspace_view(VIEW)
@require_safe
def live(request, conversation_id):
    """The live part of the conversation page for its poll; 204 when the token `v` is still current."""
    conversation = _conversation(request, conversation_id)
    state = _live_state(conversation)
    if request.GET.get("v") == state["live_version"]:
        # Most polls end here, so the names, links and forms of the timeline are only made to render.
        return HttpResponse(status=204)
    return render_page(request, "inbox/_live.html", _live_context(request, conversation, state=state))


@workspace_view(REPLY)
@require_safe
def canned(request, conversation_id, reply_id):
    """A canned reply with this conversation's variables filled in, for the composer to insert."""
    conversation = _conversation(request, conversation_id)
    reply = get_object_or_404(CannedReply, pk=reply_id, workspace=request.workspace)
    return JsonResponse({"text": _render_canned(reply, conversation)})


def _render_canned(reply: CannedReply, conversation: Conversation) -> str:
    try:
        from smmdesk.inbox.canned import render_canned
    except ImportError:
        # Until the canned-reply module lands, the text goes in with its {variables} left for the agent.
        return reply.text
    return render_canned(reply, conversation)


def _done(request, conversation: Conversation, message: str):
    messages.success(request, message)
    return back(request, inbox_url(request, "conversation", conversation_id=conversation.pk))


def _act(request, conversation, form, form_name, do, message):
    """Validate `form`, run `do(cleaned_data)`; a refusal shows the page again with the error at its field."""
    if form.is_valid():
        try:
            do(form.cleaned_data)
        except InboxError as refused:
            field = refused.field if refused.field in form.fields else None
            form.add_error(field, refused.message)
        else:
            return _done(request, conversation, message)
    return _page(request, conversation, status=400, **{form_name: form})


@workspace_view(VIEW, write=REPLY)
@require_POST
def reply(request, conversation_id):
    conversation = _conversation(request, conversation_id)
    limits = timeline.channel_limits(conversation)
    form = ReplyForm(request.POST, prefix="reply", max_length=limits.max_text if limits else None)
    return _act(
        request,
        conversation,
        form,
        "reply_form",
        lambda data: actions.reply(conversation, request.membership, data["text"]),
        _("Reply queued for sending."),
    )


@workspace_view(VIEW, write=REPLY)
@require_POST
def note(request, conversation_id):
    conversation = _conversation(request, conversation_id)
    return _act(
        request,
        conversation,
        NoteForm(request.POST, prefix="note"),
        "note_form",
        lambda data: actions.add_note(conversation, request.membership, data["text"]),
        _("Note added."),
    )


@workspace_view(VIEW, write=REPLY)
@require_POST
def assign(request, conversation_id):
    conversation = _conversation(request, conversation_id)
    return _act(
        request,
        conversation,
        AssignForm(request.POST, prefix="assign", workspace=request.workspace),
        "assign_form",
        lambda data: actions.assign(conversation, data["assignee"], request.membership),
        _("Assignment saved."),
    )


@workspace_view(VIEW, write=REPLY)
@require_POST
def status(request, conversation_id):
    conversation = _conversation(request, conversation_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, field_errors(form))
        return back(request, inbox_url(request, "conversation", conversation_id=conversation.pk))
    try:
        actions.set_status(conversation, form.cleaned_data["status"], request.membership)
    except InboxError as refused:
        messages.error(request, refused.message)
        return back(request, inbox_url(request, "conversation", conversation_id=conversation.pk))
    label = dict(Status.choices)[form.cleaned_data["status"]]
    return _done(request, conversation, _("Status set to “%(status)s”.") % {"status": label})


@workspace_view(VIEW, write=REPLY)
@require_POST
def priority(request, conversation_id):
    conversation = _conversation(request, conversation_id)
    return _act(
        request,
        conversation,
        PriorityForm(request.POST, prefix="priority"),
        "priority_form",
        lambda data: actions.set_priority(conversation, data["priority"], request.membership),
        _("Priority saved."),
    )


@workspace_view(VIEW, write=REPLY)
@require_POST
def handoff(request, conversation_id):
    conversation = _conversation(request, conversation_id)
    return _act(
        request,
        conversation,
        HandOffForm(request.POST, prefix="handoff", workspace=request.workspace),
        "handoff_form",
        lambda data: actions.hand_off(conversation, data["department"].pk, data["note"], request.membership),
        _("Handed to the department."),
    )


@workspace_view(VIEW, write=REPLY)
@require_POST
def answer(request, handoff_id):
    """A department member answers a hand-off from the conversation page."""
    handoff = get_object_or_404(
        HandOff.objects.select_related("conversation"),
        pk=handoff_id,
        conversation__workspace=request.workspace,
    )
    conversation = _conversation(request, handoff.conversation_id)
    form = AnswerForm(request.POST, prefix=f"answer-{handoff.pk}")
    if form.is_valid():
        try:
            actions.department_answer(handoff, form.cleaned_data["text"], by=request.membership)
        except InboxError as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            return _done(request, conversation, _("Answer saved."))
    return _page(request, conversation, status=400, answer_errors={handoff.pk: form})


def _message(request, message_id) -> Message:
    return get_object_or_404(
        Message.objects.select_related("conversation"), pk=message_id, workspace=request.workspace
    )


@workspace_view(VIEW, write=MODERATE)
@require_POST
def moderate(request, message_id):
    message = _message(request, message_id)
    conversation = _conversation(request, message.conversation_id)
    if message.direction != Message.Direction.IN or not timeline.can_moderate_on(conversation):
        messages.error(request, _("Only comments on networks that allow it can be hidden or deleted."))
        return back(request, inbox_url(request, "conversation", conversation_id=conversation.pk))
    form = ModerateForm(request.POST, prefix=f"moderate-{message.pk}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.moderate(message, data["action"], data["reason"], request.membership)
        except InboxError as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            done = _("Comment hidden.") if data["action"] == "hide" else _("Comment deleted.")
            return _done(request, conversation, done)
    return _page(request, conversation, status=400, moderation_errors={message.pk: form})


@workspace_view(VIEW, write=REPLY)
@require_POST
def retry(request, message_id):
    message = _message(request, message_id)
    conversation = _conversation(request, message.conversation_id)
    try:
        actions.retry_reply(message, request.membership)
    except InboxError as refused:
        messages.error(request, refused.message)
        return back(request, inbox_url(request, "conversation", conversation_id=conversation.pk))
    return _done(request, conversation, _("Sending again."))


urlpatterns = [
    path("c/<int:conversation_id>/", conversation, name="conversation"),
    path("c/<int:conversation_id>/live/", live, name="live"),
    path("c/<int:conversation_id>/canned/<int:reply_id>/", canned, name="canned"),
    path("c/<int:conversation_id>/reply/", reply, name="reply"),
    path("c/<int:conversation_id>/note/", note, name="note"),
    path("c/<int:conversation_id>/assign/", assign, name="assign"),
    path("c/<int:conversation_id>/status/", status, name="status"),
    path("c/<int:conversation_id>/priority/", priority, name="priority"),
    path("c/<int:conversation_id>/handoff/", handoff, name="handoff"),
    path("h/<int:handoff_id>/answer/", answer, name="answer"),
    path("m/<int:message_id>/moderate/", moderate, name="moderate"),
    path("m/<int:message_id>/retry/", retry, name="retry"),
]
