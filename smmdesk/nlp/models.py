"""What the team teaches the workspace's models, and which model versions were trained from it.

The model files themselves live in the data dir (smmdesk.nlp.store); these rows say what each version
was trained on, so the settings page can show it and a retrain can tell that nothing changed.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.business.models import Department
from smmdesk.inbox.models import Conversation, Message, Sentiment


class SentimentCorrection(models.Model):
    """An agent's verdict on one customer message; the latest click wins."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="sentiment_correction")
    label = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices)
    corrected_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.message_id}: {self.label}"


class RoutingLabel(models.Model):
    """Which department a conversation belonged to, learnt from a hand-off or a resolution."""

    class Source(models.TextChoices):
        HANDOFF = "handoff", _("Hand-off")
        RESOLUTION = "resolution", _("Resolution")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="routing_label")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    # The customer's first messages, as the router sees a new conversation.
    text = models.TextField()
    source = models.CharField(max_length=12, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.conversation_id} → {self.department_id} ({self.source})"


class WorkspaceModel(models.Model):
    """One trained version of a workspace's model; `version` is empty while its training runs."""

    class Kind(models.TextChoices):
        SENTIMENT = "sentiment", _("Sentiment")
        ROUTER = "router", _("Routing")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    version = models.PositiveIntegerField(null=True, blank=True)
    # Examples the model learnt from (the shipped seed set included, for sentiment) and team labels used.
    trained_on = models.PositiveIntegerField(default=0)
    labels_seen = models.PositiveIntegerField(default=0)
    # A digest of the labels trained on: the same labels again need no new version.
    fingerprint = models.CharField(max_length=40)
    # When the training started (while it runs), then when it was saved.
    trained_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "version"], name="one_row_per_model_version"
            ),
            # The claim that makes two retrain tasks at once train once.
            models.UniqueConstraint(
                fields=["workspace", "kind"], condition=Q(version__isnull=True), name="one_training_at_a_time"
            ),
        ]

    def __str__(self):
        return f"{self.workspace_id} {self.kind} v{self.version or '…'}"
