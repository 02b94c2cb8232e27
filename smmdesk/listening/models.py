"""Listening: what a workspace tracks (terms), where it looks (sources), what it found (mentions, grouped
into clusters of near-duplicates and reposts), the bursts it saw (trends) and the alerts it raised.

Everything in a mention is written by strangers: stored as given, shown escaped, and its links are
offered only when they are http(s), with rel="nofollow noopener noreferrer ugc".
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.channels.models import Channel


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class TrackedTerm(models.Model):
    class Kind(models.TextChoices):
        BRAND = "brand", _("Brand")
        COMPETITOR = "competitor", _("Competitor")
        PRODUCT = "product", _("Product or service")
        HASHTAG = "hashtag", _("Hashtag")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tracked_terms")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.BRAND)
    # What is looked for, as a person writes it: "Lokon", "Локон", "#стрижкаоренбург", "women's haircut".
    phrase = models.CharField(_("phrase"), max_length=200)
    # Phrases that make a match not count ("локон волос" is not the salon).
    exclusions = models.JSONField(_("exclusions"), default=list, blank=True)
    # Language codes a mention must be in to count; empty: any.
    languages = models.JSONField(_("languages"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "phrase"], name="one_tracked_phrase")]
        ordering = ["kind", "phrase"]

    def __str__(self):
        return self.phrase


class Source(models.Model):
    """Where mentions are looked for: one channel of the workspace that can search (Mastodon, Bluesky,
    VK newsfeed.search, X, the fake network: a search per tracked term), an RSS/Atom channel (its feeds
    are read and matched), or the workspace's own channel whose comments and channel posts already reach
    the inbox (matched as they arrive, never polled). Each has its own schedule, backoff and health."""

    class Kind(models.TextChoices):
        SEARCH = "search", _("Network search")
        FEED = "feed", _("Feeds")
        OWN = "own", _("Own channel's comments and posts")

    class Health(models.TextChoices):
        NEW = "new", _("Not polled yet")
        OK = "ok", _("Working")
        FAILING = "failing", _("Failing")
        PAUSED = "paused", _("Paused")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="listening_sources")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="listening_sources")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    interval_minutes = models.PositiveIntegerField(_("poll every (minutes)"), default=15)
    active = models.BooleanField(_("active"), default=True)
    health = models.CharField(max_length=8, choices=Health.choices, default=Health.NEW)
    # When the next poll may start; pushed back with backoff after failures.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # Claimed by a worker until then, so two workers never poll one source at once.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The adapter's poll cursor (feeds) or the time of the newest mention seen per term (search), JSON.
    cursor = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    found_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "channel"], name="one_source_per_channel")
        ]
        indexes = [models.Index(fields=["active", "next_poll_at"], name="listening_source_due")]

    def __str__(self):
        return f"{self.channel} ({self.get_kind_display()})"


class MentionCluster(models.Model):
    """Near-duplicates and reposts of one text: shown once in the stream, with how many there are."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="mention_clusters")
    # The normalised text the members are compared with (the first member's).
    fingerprint = models.TextField()
    size = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.fingerprint[:80]


class Mention(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        HANDLED = "handled", _("Handled")
        IN_INBOX = "in_inbox", _("Sent to the inbox")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="mentions")
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The network's id of the post or comment (a feed entry's id); one mention per channel and id.
    external_id = models.CharField(max_length=300)
    url = models.URLField(max_length=1000, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_handle = models.CharField(max_length=200, blank=True)
    author_url = models.URLField(max_length=1000, blank=True)
    # The network's id of the author: a mention sent to the inbox becomes that person's conversation.
    author_external_id = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=10, blank=True)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    # Views, followers or reach, where the network tells it.
    reach = models.PositiveIntegerField(null=True, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    # The text's content lemmas and pairs of them ("стрижка", "свадебный стрижка"), stop words left out:
    # what trend detection counts as emerging phrases, worked out once when the mention is stored.
    phrases = models.JSONField(default=list, blank=True)
    terms = models.ManyToManyField(TrackedTerm, blank=True, related_name="mentions")
    published_at = models.DateTimeField()
    fetched_at = models.DateTimeField(default=timezone.now)
    cluster = models.ForeignKey(
        MentionCluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    # A repost or near-duplicate of the cluster's first mention.
    duplicate = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    handled_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "external_id"], name="one_mention_per_post"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "-published_at"], name="mention_stream"),
            models.Index(fields=["workspace", "sentiment", "published_at"], name="mention_sentiment"),
        ]
        ordering = ["-published_at", "-pk"]

    def __str__(self):
        return self.text[:80]


class Trend(models.Model):
    """A burst in the counts of a tracked term, a hashtag or a new n-gram, with its evidence."""

    class Kind(models.TextChoices):
        TERM = "term", _("Tracked term")
        HASHTAG = "hashtag", _("Hashtag")
        NGRAM = "ngram", _("Phrase")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        DISMISSED = "dismissed", _("Dismissed")
        DRAFTED = "drafted", _("Post drafted")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="trends")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The hashtag with its "#", the n-gram's words, or the tracked term's phrase.
    key = models.CharField(max_length=200)
    term = models.ForeignKey(TrackedTerm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Not a tracked term yet: an emerging hashtag or phrase nobody asked for.
    emerging = models.BooleanField(default=False)
    score = models.FloatField()
    # The bucket the burst began in; one trend per key and start.
    started_at = models.DateTimeField()
    detected_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    bucket_minutes = models.PositiveIntegerField(default=60)
    # The chart: [[ISO time of the bucket, count], ...] around the burst.
    counts = models.JSONField(default=list)
    examples = models.ManyToManyField(Mention, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    post = models.ForeignKey(
        "publishing.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "key", "started_at"], name="one_trend_per_burst"
            )
        ]
        ordering = ["-detected_at", "-pk"]

    def __str__(self):
        return self.key


class ListeningAlert(models.Model):
    """A raised alert, once per key: a negative mention (key "negative:<mention id>") or a spike of
    negative mentions over their baseline (key "spike:<bucket start>")."""

    class Kind(models.TextChoices):
        NEGATIVE = "negative", _("Negative mention")
        SPIKE = "spike", _("Spike of negative mentions")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="listening_alerts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=200)
    mention = models.ForeignKey(Mention, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    # For a spike: how many negative mentions, against how many expected.
    observed = models.PositiveIntegerField(default=0)
    expected = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="one_listening_alert_per_key")
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.text
