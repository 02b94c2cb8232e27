"""Why a conversation has its department, for the inbox: the rule that set it, or the learned router with
its confidence and the similar past conversations, or the cold start's match on department descriptions.

Only what still holds is shown: once a person hands the conversation elsewhere the old reason is gone
(the timeline keeps the history). A suggestion the router was not sure enough to apply is shown as one.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from smmdesk.business.models import Department
from smmdesk.inbox.models import Conversation, TimelineEvent

LEARNED = ("model", "cold-start")


def routing_reason(conversation: Conversation, events: list[TimelineEvent] = ()) -> dict | None:
    """{"kind": "rule" | "model" | "cold-start", "applied", "department", "rule", "percent", "similar"}."""
    data = conversation.routing_explanation if isinstance(conversation.routing_explanation, dict) else {}
    source, department_id = data.get("source"), data.get("department")
    current = conversation.department_id
    if source == "rule" and department_id == current and current is not None:
        return {"kind": "rule", "applied": True, "rule": str(data.get("rule", ""))}
    if source in LEARNED and isinstance(department_id, int):
        applied = bool(data.get("applied")) and department_id == current
        if current is not None and not applied:
            return None
        department = conversation.department if applied else _department(conversation, department_id)
        if department is None:
            return None
        return {
            "kind": source,
            "applied": applied,
            "department": department.name,
            "percent": round(float(data.get("confidence") or 0) * 100),
            "similar": _similar(conversation, data.get("similar")),
        }
    # Conversations routed before explanations were kept: the rule named in the routing step.
    for event in reversed(list(events)):
        detail = event.detail if isinstance(event.detail, dict) else {}
        if event.kind == TimelineEvent.Kind.ROUTED and detail.get("rule") and detail.get("department"):
            return {"kind": "rule", "applied": True, "rule": str(detail["rule"])} if current else None
    return None


def _department(conversation: Conversation, department_id: int) -> Department | None:
    return Department.objects.filter(workspace_id=conversation.workspace_id, pk=department_id).first()


def _similar(conversation: Conversation, rows) -> list[dict]:
    """Only conversations still in this workspace, so a link never leads elsewhere."""
    rows = [row for row in rows or [] if isinstance(row, dict) and isinstance(row.get("conversation"), int)]
    known = set(
        Conversation.objects.filter(
            workspace_id=conversation.workspace_id, pk__in=[row["conversation"] for row in rows]
        ).values_list("pk", flat=True)
    )
    return [
        {"pk": row["conversation"], "snippet": str(row.get("snippet", ""))}
        for row in rows
        if row["conversation"] in known
    ]


def short_reason(conversation: Conversation) -> str:
    """The list row's hint, from the conversation's own field only (no queries per row)."""
    data = conversation.routing_explanation if isinstance(conversation.routing_explanation, dict) else {}
    if conversation.department_id is None or data.get("department") != conversation.department_id:
        return ""
    if data.get("source") == "rule":
        return _("Rule: %(rule)s") % {"rule": data.get("rule", "")}
    if data.get("source") in LEARNED and data.get("applied"):
        percent = round(float(data.get("confidence") or 0) * 100)
        if data["source"] == "cold-start":
            return _("Cold start, %(percent)s %%") % {"percent": percent}
        return _("Learned, %(percent)s %%") % {"percent": percent}
    return ""
