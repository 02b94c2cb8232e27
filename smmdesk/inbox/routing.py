"""Routing: who handles a new conversation, and the use cases on the rules that decide it.

`route` runs once per new conversation (ingest saves the conversation afterwards):

1. The workspace's enabled rules, in order. A rule matches when every condition it sets matches: the
   channel, any of its words or phrases (on lemmas, so "жалобу" and "жалобы" find "жалоба", and
   "sťažnosti" finds "sťažnosť"; a phrase needs all its words), the sentiment, the language, the
   customer. A matching rule sets the department, priority and assignee and adds its tags; a later
   matching rule overrides what an earlier one set, and a rule with `stop` ends the list.
2. No rule set a department: the learned router (`set_router`) may name one. The NLP app does not use
   that synchronous hook: embeddings take too long for ingestion, so it routes in the worker right
   after (`apply_learned`), and records why in `Conversation.routing_explanation`.
3. A department but no assignee: round-robin among the department's available members, strictly in
   turn: the member after the one who got the department's latest conversation. "Available" means an
   active user account for now; when presence (online, on leave) exists it belongs in `_available`.
   Two workers routing at the same instant may pick the same member; the next one evens it out.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Max

from smmdesk.accounts.models import Membership
from smmdesk.business.actions import InvalidInput
from smmdesk.business.models import Department
from smmdesk.inbox import memo, rules_forms
from smmdesk.inbox.models import Conversation, RoutingRule, TimelineEvent
from smmdesk.inbox.triage import phrase_matches, terms

Router = Callable[[Conversation, object], "int | None"]


def _no_router(conversation, message) -> int | None:
    return None


_router: Router = _no_router


def set_router(router: Router | None) -> None:
    """Register the learned router: (conversation, message) -> a department id, or None to abstain."""
    global _router
    _router = router or _no_router


class _Words:
    """The message's terms, computed once, and each rule word's match, once per route() call."""

    def __init__(self, text: str, language: str):
        self.language = language
        self.terms = terms(text or "", language)
        self.cache: dict[str, bool] = {}

    def any(self, words: list[str]) -> bool:
        for word in words:
            if word not in self.cache:
                self.cache[word] = phrase_matches(str(word), self.language, self.terms)
            if self.cache[word]:
                return True
        return False


def matches(rule: RoutingRule, conversation: Conversation, triage, words: _Words) -> bool:
    if rule.channel_id is not None and rule.channel_id != conversation.channel_id:
        return False
    if rule.sentiment and rule.sentiment != triage.sentiment:
        return False
    if rule.language and rule.language != triage.language:
        return False
    if rule.customer_id is not None and rule.customer_id != conversation.customer_id:
        return False
    if rule.words and not words.any(rule.words):
        return False
    return True


def route(conversation: Conversation, message, triage) -> list[dict]:
    """Apply the workspace's rules to a new conversation; returns timeline details of what was done."""
    details: list[dict] = []
    workspace_id = conversation.workspace_id
    rules = memo.remembered(
        ("routing_rules", workspace_id),
        lambda: list(
            RoutingRule.objects.filter(workspace_id=workspace_id, enabled=True)
            .select_related("set_department", "set_assignee__user")
            .order_by("position", "pk")
        ),
    )
    words = _Words(getattr(message, "text", ""), triage.language or getattr(message, "language", ""))
    decided_department = False
    for rule in rules:
        if not matches(rule, conversation, triage, words):
            continue
        details.append(_apply(rule, conversation))
        decided_department = decided_department or rule.set_department_id is not None
        if rule.stop:
            break
    if not decided_department:
        details += _learned(conversation, message)
    if conversation.department_id is not None and conversation.assignee_id is None:
        details += _round_robin(conversation)
    return details


def _apply(rule: RoutingRule, conversation: Conversation) -> dict:
    detail: dict = {"rule": rule.name, "rule_id": rule.pk}
    if rule.set_department_id is not None:
        conversation.department = rule.set_department
        detail["department"] = rule.set_department.name
        conversation.routing_explanation = {
            "source": "rule",
            "rule": rule.name,
            "rule_id": rule.pk,
            "department": rule.set_department_id,
        }
    if rule.set_priority is not None:
        conversation.priority = rule.set_priority
        detail["priority"] = rule.set_priority
    if rule.set_assignee_id is not None:
        conversation.assignee = rule.set_assignee
        detail["assignee"] = rule.set_assignee.user.email
    if rule.add_tags:
        tags = list(conversation.tags or [])
        tags += [tag for tag in rule.add_tags if tag not in tags]
        conversation.tags = tags
        detail["tags"] = list(rule.add_tags)
    return detail


def _learned(conversation: Conversation, message) -> list[dict]:
    department_id = _router(conversation, message)
    if department_id is None:
        return []
    # The router is outside code: only a department of this workspace is taken from it.
    department = Department.objects.filter(workspace_id=conversation.workspace_id, pk=department_id).first()
    if department is None:
        return []
    conversation.department = department
    return [{"router": "learned", "department": department.name}]


def _available(department_id: int) -> list[Membership]:
    return memo.remembered(
        ("available", department_id),
        lambda: list(
            Membership.objects.filter(departments=department_id, user__is_active=True)
            .select_related("user")
            .order_by("pk")
        ),
    )


def _round_robin(conversation: Conversation) -> list[dict]:
    members = _available(conversation.department_id)
    if not members:
        return []
    # Latest by id, not created_at: ids follow the order conversations were routed in, and the
    # department index then finds the row without sorting the department's whole history.
    last = memo.remembered(
        ("last_assignee", conversation.department_id),
        lambda: (
            Conversation.objects.filter(department_id=conversation.department_id, assignee__isnull=False)
            .exclude(pk=conversation.pk)
            .order_by("-pk")
            .values_list("assignee_id", flat=True)
            .first()
        ),
    )
    # The next member after the last one served, in membership order; also right when the last
    # conversation went to someone who has since left the department.
    chosen = next((m for m in members if last is not None and m.pk > last), members[0])
    conversation.assignee = chosen
    memo.remember(("last_assignee", conversation.department_id), chosen.pk)
    return [{"round_robin": True, "department": conversation.department.name, "assignee": chosen.user.email}]


def apply_learned(conversation_id: int, department_id: int | None, explanation: dict, apply: bool) -> bool:
    """The learned router's verdict on a new conversation no rule gave a department: record why, and
    with `apply` set the department and assign round-robin. Once per conversation: the explanation is
    written with a conditional UPDATE, so a second run (or a person who chose a department meanwhile)
    changes nothing. True if this call recorded it."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_related("department")
            .filter(pk=conversation_id, department__isnull=True)
            .first()
        )
        if conversation is None or "source" in (conversation.routing_explanation or {}):
            return False
        department = None
        if apply and department_id is not None:
            department = Department.objects.filter(
                workspace_id=conversation.workspace_id, pk=department_id
            ).first()
        details: list[dict] = []
        assignee_before = conversation.assignee_id
        if department is not None:
            conversation.department = department
            details.append({"router": "learned", "department": department.name})
            if conversation.assignee_id is None:
                details += _round_robin(conversation)
        claimed = (
            Conversation.objects.filter(
                pk=conversation_id, department__isnull=True, assignee_id=assignee_before
            )
            .exclude(routing_explanation__has_key="source")
            .update(
                routing_explanation={**explanation, "applied": department is not None},
                department=department,
                assignee=conversation.assignee,
            )
        )
        if claimed:
            TimelineEvent.objects.bulk_create(
                TimelineEvent(conversation_id=conversation_id, kind=TimelineEvent.Kind.ROUTED, detail=detail)
                for detail in details
            )
    return bool(claimed)


# --- use cases on the rules (the settings pages and the API) -------------------------------------------


def rules(workspace):
    return (
        RoutingRule.objects.filter(workspace=workspace)
        .select_related("channel", "customer", "set_department", "set_assignee__user")
        .order_by("position", "pk")
    )


def rule_form(workspace, data=None, *, rule: RoutingRule | None = None) -> rules_forms.RoutingRuleForm:
    return rules_forms.RoutingRuleForm(data=data, instance=rule, workspace=workspace)


def _save(form) -> RoutingRule:
    if not form.is_valid():
        raise InvalidInput(form)
    return form.save()


@transaction.atomic
def create_rule(workspace, data) -> RoutingRule:
    """A new rule goes last: it cannot silently take over messages the existing rules route."""
    form = rule_form(workspace, data)
    if form.is_valid():
        last = RoutingRule.objects.filter(workspace=workspace).aggregate(last=Max("position"))["last"]
        form.instance.workspace = workspace
        form.instance.position = 0 if last is None else last + 1
    return _save(form)


@transaction.atomic
def update_rule(workspace, rule: RoutingRule, data) -> RoutingRule:
    return _save(rule_form(workspace, data, rule=rule))


@transaction.atomic
def delete_rule(workspace, rule_id: int) -> bool:
    deleted, _rows = RoutingRule.objects.filter(workspace=workspace, pk=rule_id).delete()
    return bool(deleted)


@transaction.atomic
def move_rule(workspace, rule_id: int, direction: str) -> bool:
    """Swap a rule with its neighbour ("up" runs it earlier); False when it is already at that end."""
    if direction not in ("up", "down"):
        raise ValueError("direction must be up or down")
    ordered = list(
        RoutingRule.objects.select_for_update().filter(workspace=workspace).order_by("position", "pk")
    )
    index = next((i for i, rule in enumerate(ordered) if rule.pk == rule_id), None)
    if index is None:
        raise RoutingRule.DoesNotExist
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    # Renumber all: positions may have gaps or ties (rules saved at once, or through the admin).
    for position, rule in enumerate(ordered):
        if rule.position != position:
            rule.position = position
            rule.save(update_fields=["position"])
    return True
