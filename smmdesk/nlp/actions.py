"""Use cases of the triage that learns: an agent's sentiment correction, routing labels from hand-offs and
resolutions, retraining a workspace's models, and what the settings page says about them.

Retraining runs in the worker (tasks.py) and is safe to repeat: the labels are digested, and the same
labels as the newest saved version train nothing. Two runs at once cannot both train, because a run first
claims the training with a row whose version is still empty, and a unique constraint allows one such row
per workspace and kind. Whoever wins re-reads the labels when done and queues itself again if some
arrived meanwhile. Changes to inbox rows (a message's sentiment, a conversation's department) go
through the inbox's own actions.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.accounts.roles import allowed
from smmdesk.inbox import actions as inbox_actions
from smmdesk.inbox.models import Conversation, Message, Sentiment, TriageStage
from smmdesk.nlp.models import RoutingLabel, SentimentCorrection, WorkspaceModel

logger = logging.getLogger(__name__)

LABEL_TEXT_MAX = 1000
FIRST_MESSAGES = 5
# A training claim older than this belongs to a worker that died; the next run may take over.
STALE_TRAINING = timedelta(minutes=15)
ROUTER_MIN_DEPARTMENTS = 2
KINDS = WorkspaceModel.Kind


class NlpError(Exception):
    """A refused use case; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- queueing (after commit, so a rolled-back batch or label queues nothing) ----------------------------


def refine_later(message_ids: list[int]) -> None:
    ids = list(message_ids)
    transaction.on_commit(lambda: _tasks().refine_messages(ids))


def retrain_later(workspace_id: int, kind: str) -> None:
    transaction.on_commit(lambda: queue_retrain(workspace_id, kind))


def queue_retrain(workspace_id: int, kind: str) -> None:
    """Queue at once: for callers that are already past their commit."""
    tasks = _tasks()
    (tasks.retrain_sentiment if kind == KINDS.SENTIMENT else tasks.retrain_router)(workspace_id)


def _tasks():
    from smmdesk.nlp import tasks

    return tasks


# --- the team's labels --------------------------------------------------------------------------------


def conversation_text(conversation_id: int) -> str:
    """What the router reads for a conversation: the customer's first messages, joined and capped."""
    texts = (
        Message.objects.filter(conversation_id=conversation_id, direction=Message.Direction.IN)
        .exclude(text="")
        .order_by("received_at", "pk")
        .values_list("text", flat=True)[:FIRST_MESSAGES]
    )
    return "\n".join(t.strip() for t in texts)[:LABEL_TEXT_MAX].strip()


def correct_sentiment(membership: Membership | None, message: Message, label: str) -> Message:
    """An agent's one-click verdict on a customer message; it stays, and retrains the workspace's model."""
    if membership is None or membership.workspace_id != message.workspace_id:
        raise NlpError(_("This person is not a member of this workspace."))
    if not allowed(membership.role, "inbox.reply"):
        raise NlpError(_("Your role cannot correct the sentiment of messages."))
    if message.direction != Message.Direction.IN:
        raise NlpError(_("Only customers' messages have a sentiment to correct."), field="label")
    if label not in Sentiment.values:
        raise NlpError(
            _("Choose the sentiment: %(labels)s.") % {"labels": ", ".join(Sentiment.values)}, field="label"
        )
    with transaction.atomic():
        inbox_actions.set_sentiment({message.pk: (label, 1.0)}, TriageStage.CORRECTED)
        SentimentCorrection.objects.update_or_create(
            message=message,
            defaults={
                "workspace_id": message.workspace_id,
                "label": label,
                "corrected_by": membership,
                "created_at": timezone.now(),
            },
        )
        retrain_later(message.workspace_id, KINDS.SENTIMENT)
    message.refresh_from_db()
    return message


def record_routing_label(
    conversation: Conversation, department_id: int, source: str, *, queue: bool = True
) -> RoutingLabel | None:
    """The department a hand-off or a resolution showed to be right for this conversation. A hand-off is
    a person's deliberate choice, so a resolution never replaces its label. Without `queue` the caller
    queues the retraining itself, after its commit."""
    text = conversation_text(conversation.pk)
    if not text:
        return None
    label = RoutingLabel.objects.filter(conversation_id=conversation.pk).first()
    if label is not None:
        if label.source == RoutingLabel.Source.HANDOFF and source == RoutingLabel.Source.RESOLUTION:
            return label
        if (label.department_id, label.source, label.text) == (department_id, source, text):
            return label
    label, _created = RoutingLabel.objects.update_or_create(
        conversation_id=conversation.pk,
        defaults={
            "workspace_id": conversation.workspace_id,
            "department_id": department_id,
            "source": source,
            "text": text,
            "created_at": timezone.now(),
        },
    )
    if queue:
        retrain_later(conversation.workspace_id, KINDS.ROUTER)
    return label


# --- retraining ---------------------------------------------------------------------------------------


def sentiment_examples(workspace_id: int) -> list[tuple[str, str, str]]:
    """(message id, text, label) for every correction, oldest first."""
    rows = (
        SentimentCorrection.objects.filter(workspace_id=workspace_id)
        .exclude(message__text="")
        .order_by("message_id")
        .values_list("message_id", "message__text", "label")
    )
    return [(str(pk), text, label) for pk, text, label in rows]


def router_examples(workspace_id: int) -> list[tuple[str, str, str]]:
    """(conversation id, text, department id) for every routing label of a department still there."""
    rows = (
        RoutingLabel.objects.filter(workspace_id=workspace_id, department__workspace_id=workspace_id)
        .order_by("conversation_id")
        .values_list("conversation_id", "text", "department_id")
    )
    return [(str(pk), text, str(department)) for pk, text, department in rows]


def fingerprint(examples: list[tuple[str, str, str]]) -> str:
    return hashlib.blake2b(repr(examples).encode(), digest_size=20).hexdigest()


def retrain_sentiment(workspace_id: int) -> WorkspaceModel | None:
    """Train the workspace's sentiment model on its corrections, with the shipped model as the prior."""
    from smmdesk.nlp import sentiment

    def train(examples):
        texts = [text for _id, text, _label in examples]
        labels = [label for _id, _text, label in examples]
        return sentiment.train(texts, labels, prior=sentiment.shipped())

    return _retrain(workspace_id, KINDS.SENTIMENT, sentiment_examples, train)


def retrain_router(workspace_id: int) -> WorkspaceModel | None:
    """Train the workspace's router on its routing labels, once two departments have some."""
    from smmdesk.nlp import router

    def train(examples):
        ids, texts, labels = (list(column) for column in zip(*examples, strict=True))
        return router.train(texts, labels, ids=ids)

    return _retrain(workspace_id, KINDS.ROUTER, router_examples, train)


def enough(kind: str, examples: list[tuple[str, str, str]]) -> bool:
    if kind == KINDS.ROUTER:
        return len({label for _id, _text, label in examples}) >= ROUTER_MIN_DEPARTMENTS
    return bool(examples)


def _retrain(
    workspace_id: int, kind: str, read: Callable[[int], list], train: Callable[[list], object]
) -> WorkspaceModel | None:
    """The new version's row, or None when there was nothing to do (or another run is training)."""
    from smmdesk.nlp import store

    examples = read(workspace_id)
    digest = fingerprint(examples)
    if not enough(kind, examples) or _current(workspace_id, kind, digest):
        return None
    now = timezone.now()
    WorkspaceModel.objects.filter(
        workspace_id=workspace_id, kind=kind, version__isnull=True, trained_at__lt=now - STALE_TRAINING
    ).delete()
    try:
        with transaction.atomic():
            claim = WorkspaceModel.objects.create(
                workspace_id=workspace_id,
                kind=kind,
                fingerprint=digest,
                labels_seen=len(examples),
                trained_at=now,
            )
    except IntegrityError:
        return None  # another run is training; it checks for newer labels when it is done
    try:
        model = train(examples)
        version = store.save(workspace_id, model)
    except Exception:
        WorkspaceModel.objects.filter(pk=claim.pk).delete()
        raise
    with transaction.atomic():
        # A row naming the same version describes a file that is gone (a data dir restored without its
        # models restarted the numbering); the file just written is what that number means now.
        WorkspaceModel.objects.filter(workspace_id=workspace_id, kind=kind, version=version).delete()
        claim.version, claim.trained_on, claim.trained_at = version, int(model.trained_on), timezone.now()
        claim.save(update_fields=["version", "trained_on", "trained_at"])
    logger.info("workspace %s: %s model v%s trained on %s labels", workspace_id, kind, version, len(examples))
    if fingerprint(read(workspace_id)) != digest:
        retrain_later(workspace_id, kind)
    return claim


def _current(workspace_id: int, kind: str, digest: str) -> bool:
    """The newest saved version was trained on exactly these labels and its file is still there."""
    from smmdesk.nlp import store

    latest = latest_version(workspace_id, kind)
    if latest is None or latest.fingerprint != digest:
        return False
    model = store.load(workspace_id, kind)
    return model is not None and model.version == latest.version


def latest_version(workspace_id: int, kind: str) -> WorkspaceModel | None:
    return (
        WorkspaceModel.objects.filter(workspace_id=workspace_id, kind=kind, version__isnull=False)
        .order_by("-trained_at", "-pk")
        .first()
    )


# --- the settings page --------------------------------------------------------------------------------


@dataclass
class ModelStatus:
    kind: str
    label: str
    current: WorkspaceModel | None
    labels: int
    enough: bool
    up_to_date: bool
    training_since: datetime | None


def status(workspace: Workspace) -> list[ModelStatus]:
    readers = {KINDS.SENTIMENT: sentiment_examples, KINDS.ROUTER: router_examples}
    training = dict(
        WorkspaceModel.objects.filter(workspace=workspace, version__isnull=True).values_list(
            "kind", "trained_at"
        )
    )
    result = []
    for kind, label in KINDS.choices:
        examples = readers[kind](workspace.pk)
        current = latest_version(workspace.pk, kind)
        result.append(
            ModelStatus(
                kind=kind,
                label=str(label),
                current=current,
                labels=len(examples),
                enough=enough(kind, examples),
                up_to_date=current is not None and current.fingerprint == fingerprint(examples),
                training_since=training.get(kind),
            )
        )
    return result


def request_retrain(workspace: Workspace, kind: str) -> None:
    if kind not in KINDS.values:
        raise NlpError(_("Choose which model to retrain."), field="kind")
    retrain_later(workspace.pk, kind)
