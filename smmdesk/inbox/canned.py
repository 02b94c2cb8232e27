"""Canned replies: filling in their variables, and the use cases of their settings page.

Only `{customer_name}`, `{business_name}` and `{opening_hours}` are replaced, by plain text substitution in
one pass. Nothing else in braces is interpreted: str.format would evaluate `{customer_name.__class__}` or
`{0}`, and a customer called "{business_name}" must stay as written, so neither is used here.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from smmdesk.business.actions import InvalidInput
from smmdesk.business.fields import format_time
from smmdesk.business.models import BusinessProfile, OpeningHours
from smmdesk.inbox.models import CannedReply, Conversation

VARIABLES = ("customer_name", "business_name", "opening_hours")
VARIABLE = re.compile(r"\{(" + "|".join(VARIABLES) + r")\}")
SPOKEN = ("ru", "sk", "en")


def render_text(text: str, values: dict[str, str]) -> str:
    return VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def render_canned(reply: CannedReply, conversation: Conversation) -> str:
    """The reply's text for this conversation, in the conversation's language where it matters."""
    return render_text(reply.text, variables_for(conversation, fallback_language=reply.language))


def variables_for(conversation: Conversation, *, fallback_language: str = "") -> dict[str, str]:
    profile = BusinessProfile.objects.filter(workspace_id=conversation.workspace_id).first()
    language = _language(conversation.language, fallback_language, profile)
    return {
        "customer_name": _customer_name(conversation),
        "business_name": profile.name if profile else conversation.workspace.name,
        "opening_hours": opening_hours_text(conversation.workspace_id, language),
    }


def _language(conversation_language: str, fallback: str, profile: BusinessProfile | None) -> str:
    for candidate in (conversation_language, fallback, *(profile.languages if profile else [])):
        if candidate in SPOKEN:
            return candidate
    return "en"


def _customer_name(conversation: Conversation) -> str:
    customer = conversation.customer
    if customer is None:
        return ""
    if customer.name:
        return customer.name
    identity = customer.identities.exclude(handle="").first()
    return identity.handle if identity else ""


def opening_hours_text(workspace_id: int, language: str) -> str:
    """The usual week, e.g. "Mon–Fri 09:00–20:00, Sat 10:00–16:00, Sun closed"; "" when none are set,
    since a reply should not promise hours nobody entered."""
    days: list[list[str]] = [[] for _day in range(7)]
    for row in OpeningHours.objects.filter(workspace_id=workspace_id).order_by("weekday", "opens"):
        days[row.weekday].append(f"{format_time(row.opens)}–{format_time(row.closes)}")
    if not any(days):
        return ""
    with translation.override(language):
        closed = _("closed")
        parts = []
        start = 0
        # Runs of consecutive days with the same hours are written as one range.
        for day in range(1, 8):
            if day < 7 and days[day] == days[start]:
                continue
            name = str(WEEKDAYS_ABBR[start])
            if day - 1 > start:
                name = f"{name}–{WEEKDAYS_ABBR[day - 1]}"
            parts.append(f"{name} {', '.join(days[start]) or closed}")
            start = day
        return "; ".join(parts)


# --- use cases for the settings pages ------------------------------------------------------------------


def replies(workspace):
    return CannedReply.objects.filter(workspace=workspace).order_by("title", "pk")


def replies_for(conversation: Conversation) -> list[CannedReply]:
    """The replies a composer offers: those in the conversation's language first, then any-language ones."""
    rows = CannedReply.objects.filter(workspace_id=conversation.workspace_id)
    if conversation.language:
        rows = rows.filter(Q(language=conversation.language) | Q(language=""))
    return sorted(rows, key=lambda reply: (reply.language != conversation.language, reply.title.casefold()))


def reply_form(workspace, data=None, *, reply: CannedReply | None = None):
    from smmdesk.inbox.rules_forms import CannedReplyForm

    return CannedReplyForm(data=data, instance=reply, workspace=workspace)


def _save(form, workspace) -> CannedReply:
    if not form.is_valid():
        raise InvalidInput(form)
    reply = form.save(commit=False)
    reply.workspace = workspace
    reply.save()
    return reply


@transaction.atomic
def create_reply(workspace, data) -> CannedReply:
    return _save(reply_form(workspace, data), workspace)


@transaction.atomic
def update_reply(workspace, reply: CannedReply, data) -> CannedReply:
    return _save(reply_form(workspace, data, reply=reply), workspace)


@transaction.atomic
def delete_reply(workspace, reply_id: int) -> bool:
    deleted, _rows = CannedReply.objects.filter(workspace=workspace, pk=reply_id).delete()
    return bool(deleted)
