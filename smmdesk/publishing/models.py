"""Posts, their per-channel variants, media, campaigns, metrics and the audit trail."""

from datetime import UTC
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.channels.models import Channel

UTM_KEYS = ("source", "medium", "campaign", "content", "term")


def add_utm(link: str, utm: dict) -> str:
    """The link with utm_* parameters added; parameters the link already carries are kept as they are."""
    if not link or not utm:
        return link
    parts = urlsplit(link)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _value in query}
    for key in UTM_KEYS:
        value = str(utm.get(key) or "").strip()
        if value and f"utm_{key}" not in present:
            query.append((f"utm_{key}", value))
    return urlunsplit(parts._replace(query=urlencode(query)))


class PublishingSettings(models.Model):
    """One per workspace, created on demand (actions.settings_for)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="publishing_settings")
    approval_required = models.BooleanField(_("posts need approval"), default=True)
    # The secret in the calendar feed's URL (secrets.token_urlsafe(32)); rotating it means a new token.
    ical_token = models.CharField(max_length=64, unique=True)

    def __str__(self):
        return f"publishing settings of {self.workspace_id}"


class MediaAsset(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="media_assets")
    # Under MEDIA_ROOT (the data dir's media folder), served only through authenticated views.
    file = models.FileField(_("file"), upload_to="media/%Y/%m/")
    thumbnail = models.FileField(upload_to="media/thumbs/%Y/%m/", blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.original_name


class Campaign(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="one_campaign_name")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class Post(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")

    class Recurrence(models.TextChoices):
        NONE = "", _("Does not repeat")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    title = models.CharField(_("internal name"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    # Aware, stored in UTC; shown in the workspace's time zone.
    scheduled_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    recurrence = models.CharField(
        _("repeats"), max_length=10, choices=Recurrence.choices, blank=True, default=Recurrence.NONE
    )
    recurrence_until = models.DateField(_("repeat until"), null=True, blank=True)
    # A recurring post's later occurrences are posts of their own pointing at the first one, so each
    # occurrence keeps its own variants, network ids and metrics.
    series = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "scheduled_at"]),
            models.Index(fields=["workspace", "state"]),
        ]
        ordering = ["scheduled_at", "pk"]

    def __str__(self):
        return self.title or f"#{self.pk}"


class Variant(models.Model):
    """What one channel gets of a post."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        HELD = "held", _("held: channel needs reconnecting")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("text"), blank=True)
    media = models.ManyToManyField(MediaAsset, blank=True, related_name="variants")
    link = models.URLField(_("link"), max_length=500, blank=True)
    # {"source", "medium", "campaign", "content"}: added to the link's query (see link_with_utm()).
    utm = models.JSONField(default=dict, blank=True)
    first_comment = models.TextField(_("first comment"), blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    # Which run of a recurring post; for any post fixed when it is first scheduled and never moved, so
    # the idempotency key stays the same whatever is rescheduled or retried (no second post).
    occurrence = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed it (PUBLISHING); a claim older than the stale limit is a crashed worker's.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # "host:pid" of the claiming worker: a claim by a process that no longer exists on this host is
    # taken back at the next sweep instead of waiting out the stale limit.
    claimed_by = models.CharField(max_length=100, blank=True)
    # A person checked the network after an uncertain attempt and the post is not there: the next
    # attempt may post again (ledger.publish_once's confirmed_absent).
    confirmed_absent = models.BooleanField(default=False)
    # Not before this time: the due time, or a retry's backoff. The sweeper queues PENDING variants whose
    # time has come.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "channel"], name="one_variant_per_channel")]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"{self.post_id}/{self.channel_id} ({self.state})"

    def idempotency_key(self) -> str:
        when = self.occurrence or self.post.scheduled_at
        stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M") if when else "unscheduled"
        return f"variant-{self.pk}-{stamp}"

    def link_with_utm(self) -> str:
        return add_utm(self.link, self.utm)

    def full_text(self) -> str:
        """The text as posted: the hashtags the text does not already carry follow it."""
        tags = []
        for tag in self.hashtags or []:
            tag = str(tag).strip().lstrip("#")
            if tag and f"#{tag}".lower() not in self.text.lower():
                tags.append(f"#{tag}")
        if not tags:
            return self.text
        return f"{self.text}\n\n{' '.join(tags)}" if self.text else " ".join(tags)


class VariantMetric(models.Model):
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=40)
    value = models.FloatField()
    measured_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "name", "measured_at"], name="one_metric_per_time")
        ]

    def __str__(self):
        return f"{self.variant_id} {self.name}={self.value}"


class PostEvent(models.Model):
    """The post's audit trail: who did what, when."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # created, edited, submitted, approved, rejected, scheduled, rescheduled, published, failed, retried,
    # held, deleted
    action = models.CharField(max_length=30)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.post_id} {self.action}"
