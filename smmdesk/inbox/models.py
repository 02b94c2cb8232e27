"""Conversations, their messages and timeline, customers, SLA policies, routing rules, canned replies."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.business.models import Department
from smmdesk.channels.models import Channel


class Kind(models.TextChoices):
    DM = "dm", _("Direct message")
    COMMENT = "comment", _("Comment thread")
    MENTION = "mention", _("Mention")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Site chat")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_DEPARTMENT = "waiting_department", _("Waiting on department")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING_DEPARTMENT)


class Priority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    URGENT = 3, _("Urgent")


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class Customer(models.Model):
    """One person, possibly known on several channels (see CustomerIdentity)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name or self.email or f"#{self.pk}"


class CustomerIdentity(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    network_id = models.CharField(max_length=200)
    handle = models.CharField(max_length=200, blank=True)
    profile_url = models.URLField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "network_id"], name="one_identity_per_channel")
        ]

    def __str__(self):
        return f"{self.handle or self.network_id} on {self.channel_id}"


class SlaPolicy(models.Model):
    """Deadlines in minutes; the most specific matching policy (channel, priority, department) wins."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sla_policies")
    name = models.CharField(_("name"), max_length=120)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(_("first response, minutes"), default=10)
    next_response_minutes = models.PositiveIntegerField(_("next response, minutes"), default=30)
    resolution_minutes = models.PositiveIntegerField(_("resolution, minutes"), default=24 * 60)
    business_hours = models.BooleanField(_("count business hours only"), default=True)
    auto_acknowledge = models.BooleanField(_("acknowledge messages outside opening hours"), default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RoutingRule(models.Model):
    """Ordered rules: every condition that is set must match; the first matching rule with `stop` ends it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="routing_rules")
    position = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=120)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Conditions
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    words = models.JSONField(_("words"), default=list, blank=True)
    sentiment = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # Actions
    set_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("department"),
    )
    set_priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    set_assignee = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assignee"),
    )
    add_tags = models.JSONField(_("tags"), default=list, blank=True)
    stop = models.BooleanField(_("stop after this rule"), default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class Conversation(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # Which network thread this is: the chat, the post a comment thread hangs under, the first e-mail.
    thread_key = models.CharField(max_length=300)
    customer = models.ForeignKey(Customer, null=True, on_delete=models.SET_NULL, related_name="conversations")
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    assignee = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_conversations"
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    sentiment = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # Why the department was chosen or suggested: {"source": "rule" | "model" | "cold-start", ...}; the
    # learned router writes it after ingestion (smmdesk.nlp.refine), so it is empty until then.
    routing_explanation = models.JSONField(default=dict, blank=True)
    # SLA: the policy in force, the open deadlines, and the pause bookkeeping.
    sla_policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    # The nearest open deadline, kept in one column so the inbox can sort by urgency with an index.
    due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_warned_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "thread_key"], name="one_conversation_per_thread")
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "department", "due_at"], name="inbox_queue"),
            models.Index(fields=["workspace", "status", "due_at"], name="inbox_status_due"),
            models.Index(fields=["workspace", "updated_at"], name="inbox_recent"),
            # The list's default view (not resolved or closed) in its two orders: a page is read straight off
            # these in order, instead of joining and sorting every active conversation to keep 50.
            models.Index(
                fields=["workspace", "due_at", "id"],
                condition=~Q(status__in=["resolved", "closed"]),
                name="inbox_active_due",
            ),
            models.Index(
                fields=["workspace", "updated_at", "id"],
                condition=~Q(status__in=["resolved", "closed"]),
                name="inbox_active_recent",
            ),
        ]

    def __str__(self):
        return self.subject or f"{self.get_kind_display()} #{self.pk}"


class TriageStage(models.TextChoices):
    FAST = "fast", _("Fast pass")
    REFINED = "refined", _("Refined")
    CORRECTED = "corrected", _("Corrected by the team")


class MessageQuerySet(models.QuerySet):
    """Lookups by the keys of the partial unique indexes below. They repeat the index's condition
    (the key is not empty) because SQLite uses a partial index only when the query states its condition;
    without it each lookup read the whole table, and ingestion slowed as the inbox grew."""

    def by_external_id(self, channel, external_ids):
        return self.filter(channel=channel, external_id__in=list(external_ids)).exclude(external_id="")

    def by_idempotency_key(self, key: str):
        return self.filter(idempotency_key=key).exclude(idempotency_key="")


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("Incoming")
        OUT = "out", _("Reply")
        NOTE = "note", _("Internal note")

    class Delivery(models.TextChoices):
        RECEIVED = "received", _("Received")
        PENDING = "pending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    # The network's id; empty for internal notes and for replies not sent yet.
    external_id = models.CharField(max_length=300, blank=True)
    reply_to_external_id = models.CharField(max_length=300, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_external_id = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # Triage
    language = models.CharField(max_length=8, blank=True)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    # Which pass set the sentiment: the rules at ingestion, the worker's embedding model, or a person.
    triage_stage = models.CharField(max_length=10, choices=TriageStage.choices, default=TriageStage.FAST)
    # Outbound delivery
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.RECEIVED)
    delivery_error = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="one_message_per_external_id",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_message_per_idempotency_key",
            ),
        ]
        indexes = [models.Index(fields=["conversation", "received_at"], name="message_timeline")]

    def __str__(self):
        return f"{self.direction}: {self.text[:40]}"


class TimelineEvent(models.Model):
    """Every step of a conversation, who did it and when (messages themselves are shown from Message)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Conversation started")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        ROUTED = "routed", _("Routed")
        HANDOFF = "handoff", _("Handed to a department")
        DEPARTMENT_REPLY = "department_reply", _("Department answered")
        PRIORITY = "priority", _("Priority changed")
        SLA_WARNING = "sla_warning", _("SLA deadline near")
        SLA_BREACH = "sla_breach", _("SLA deadline missed")
        MODERATED = "moderated", _("Comment moderated")
        AUTO_ACK = "auto_ack", _("Automatic acknowledgement sent")
        REPLY_FAILED = "reply_failed", _("Reply failed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.kind} @ {self.created_at:%Y-%m-%d %H:%M}"


class HandOff(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="handoffs")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="handoffs")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Lets a department member answer by replying to the notification e-mail.
    reply_token = models.CharField(max_length=64, unique=True)
    answer = models.TextField(blank=True)
    answered_by = models.CharField(max_length=254, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.conversation_id} → {self.department}"


class CannedReply(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="canned_replies")
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(
        _("text"), help_text=_("Variables: {customer_name}, {business_name}, {opening_hours}")
    )
    language = models.CharField(_("language"), max_length=8, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title


class RawEvent(models.Model):
    """A webhook body as it arrived, kept until processed so a crash between receipt and ingestion
    loses nothing; processing is idempotent, so it may run again."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # The waiting deliveries of a channel, which a worker takes in together (ingest_tasks), and
            # the stranded ones; processed rows, nearly all of them, stay out of it.
            models.Index(
                fields=["channel", "id"],
                condition=models.Q(processed_at__isnull=True),
                name="inbox_rawevent_waiting",
            )
        ]

    def __str__(self):
        return f"raw event {self.pk} for channel {self.channel_id}"


class Notification(models.Model):
    """A notice for one member: SLA warnings and breaches, hand-offs, @mentions. Shown in the UI and as
    desktop notifications; optionally sent by e-mail or Telegram."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notifications")
    conversation = models.ForeignKey(Conversation, null=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    text = models.CharField(max_length=300)
    # Makes a notice idempotent: the same warning for the same deadline is created once.
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["membership", "key"], name="one_notification_per_key")]
        indexes = [models.Index(fields=["membership", "read_at", "created_at"], name="unread_notifications")]

    def __str__(self):
        return self.text
