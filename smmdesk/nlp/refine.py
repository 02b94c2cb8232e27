"""The worker's second pass over new customer messages, right after ingestion commits.

1. Sentiment: the workspace's model (or the shipped one) reads the messages still at the fast pass, in
   batches of BATCH, with their embeddings; a person's correction is never overwritten.
2. Routing: a new conversation that no rule gave a department gets the workspace router's suggestion,
   or, before the router has been trained, the department whose name and description are closest (when
   at least two departments have a description).
   At MIN_CONFIDENCE or above it takes the department (and round-robin picks the assignee); below, the
   suggestion is only recorded. Either way `Conversation.routing_explanation` says why.

Running it twice changes nothing: refined messages are no longer at the fast pass, and a conversation's
explanation is written once (inbox.routing.apply_learned).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Min

from smmdesk.business.models import Department
from smmdesk.inbox import actions as inbox_actions
from smmdesk.inbox import routing
from smmdesk.inbox.models import Conversation, Message, TriageStage
from smmdesk.nlp.actions import conversation_text

logger = logging.getLogger(__name__)

BATCH = 64
MIN_CONFIDENCE = 0.5
COLD_START_DEPARTMENTS = 2
SNIPPET = 80


@dataclass
class Refined:
    messages: int = 0
    routed: int = 0
    suggested: int = 0


def refine(message_ids: list[int]) -> Refined:
    result = Refined()
    rows = list(
        Message.objects.filter(pk__in=set(message_ids), direction=Message.Direction.IN)
        .only("pk", "workspace_id", "conversation_id", "text", "language", "triage_stage")
        .order_by("pk")
    )
    by_workspace: dict[int, list[Message]] = defaultdict(list)
    for message in rows:
        if message.triage_stage == TriageStage.FAST and message.text.strip():
            by_workspace[message.workspace_id].append(message)
    for workspace_id, messages in by_workspace.items():
        for start in range(0, len(messages), BATCH):
            result.messages += _sentiment(workspace_id, messages[start : start + BATCH])
    routed = _route({m.pk for m in rows}, {m.conversation_id for m in rows})
    result.routed, result.suggested = routed.count(True), routed.count(False)
    return result


def _sentiment(workspace_id: int, messages: list[Message]) -> int:
    from smmdesk.nlp import embed, sentiment, store

    model = store.load(workspace_id, "sentiment") or sentiment.shipped()
    texts = [m.text for m in messages]
    verdicts = model.predict(texts, languages=[m.language for m in messages], embeddings=embed.embed(texts))
    changed = inbox_actions.set_sentiment(
        {m.pk: (v.label, float(v.score)) for m, v in zip(messages, verdicts, strict=True)},
        TriageStage.REFINED,
    )
    return len(changed)


def _route(message_ids: set[int], conversation_ids: set[int]) -> list[bool]:
    """Route the conversations these messages started; True per conversation routed, False per one
    only given a suggestion."""
    candidates = Conversation.objects.filter(pk__in=conversation_ids, department__isnull=True).exclude(
        routing_explanation__has_key="source"
    )
    # Only conversations these messages started are new; an old one without a department stays a person's call.
    firsts = (
        Message.objects.filter(conversation__in=candidates, direction=Message.Direction.IN)
        .values("conversation_id")
        .annotate(first=Min("pk"))
    )
    new = [row["conversation_id"] for row in firsts if row["first"] in message_ids]
    by_workspace: dict[int, list[int]] = defaultdict(list)
    for conversation_id, workspace_id in Conversation.objects.filter(pk__in=new).values_list(
        "pk", "workspace_id"
    ):
        by_workspace[workspace_id].append(conversation_id)
    outcomes = []
    for workspace_id, conversations in by_workspace.items():
        conversations.sort()
        for start in range(0, len(conversations), BATCH):
            outcomes += _route_in(workspace_id, conversations[start : start + BATCH])
    return outcomes


def _route_in(workspace_id: int, conversation_ids: list[int]) -> list[bool]:
    from smmdesk.nlp import router, store

    # A conversation that started with only a picture has nothing to route on yet.
    text_of = {pk: conversation_text(pk) for pk in conversation_ids}
    conversation_ids = [pk for pk in conversation_ids if text_of[pk]]
    if not conversation_ids:
        return []
    texts = [text_of[pk] for pk in conversation_ids]
    model = store.load(workspace_id, "router")
    if model is not None:
        suggestions = model.predict(texts)
        version = model.version
    else:
        # Only a described department can be matched, and a lone candidate would win every message.
        departments = {
            str(pk): f"{name}. {description.strip()}"
            for pk, name, description in Department.objects.filter(workspace_id=workspace_id)
            .exclude(description="")
            .values_list("pk", "name", "description")
            if description.strip()
        }
        if len(departments) < COLD_START_DEPARTMENTS:
            return []
        suggestions = router.cold_start(texts, departments)
        version = None
    outcomes = []
    for conversation_id, suggestion in zip(conversation_ids, suggestions, strict=True):
        department_id = int(suggestion.label) if str(suggestion.label or "").isdigit() else None
        apply = department_id is not None and suggestion.confidence >= MIN_CONFIDENCE
        explanation = {
            "source": suggestion.source,
            "department": department_id,
            "confidence": round(float(suggestion.confidence), 3),
            "similar": similar(workspace_id, conversation_id, suggestion.similar),
        }
        if version is not None:
            explanation["model_version"] = version
        if routing.apply_learned(conversation_id, department_id, explanation, apply):
            outcomes.append(apply)
    return outcomes


def similar(workspace_id: int, conversation_id: int, found) -> list[dict]:
    """The router's most similar training examples as conversations of this workspace, with the start of
    each one's first customer message (the page escapes it: it is the customer's text)."""
    ids = [int(example) for example, _score in found if str(example).isdigit()]
    scores = {int(example): float(score) for example, score in found if str(example).isdigit()}
    known = set(
        Conversation.objects.filter(workspace_id=workspace_id, pk__in=ids)
        .exclude(pk=conversation_id)
        .values_list("pk", flat=True)
    )
    result = []
    for pk in ids:
        if pk not in known:
            continue
        text = (
            Message.objects.filter(conversation_id=pk, direction=Message.Direction.IN)
            .order_by("received_at", "pk")
            .values_list("text", flat=True)
            .first()
            or ""
        )
        result.append({"conversation": pk, "snippet": snippet(text), "score": round(scores[pk], 3)})
    return result


def snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


# --- warming the engine -------------------------------------------------------------------------------

_warm_lock = threading.Lock()
_warm_started = False


def warm_in_background() -> None:
    """Load the embedding engine and the shipped model in a thread of their own, once per process, so a
    worker starting up takes other tasks at once and the first refinement finds the models loaded."""
    global _warm_started
    with _warm_lock:
        if _warm_started:
            return
        _warm_started = True
    threading.Thread(target=_warm, name="nlp-warm", daemon=True).start()


def _warm() -> None:
    try:
        from smmdesk.nlp import embed, sentiment

        embed.use_disk_cache()
        embed.warm()
        sentiment.shipped()
    except Exception:
        # The refinement loads lazily anyway; a failure here must not take the worker down.
        logger.exception("warming the NLP models failed")
