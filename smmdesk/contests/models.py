"""Contests, their entrants and their audit trail.

draft → open (commitment published) → closed (entrant list frozen, its hash published) → drawn (public
value recorded, winners picked, server seed revealed). The draw's arithmetic is in draw.py, the published
list's form in listing.py, the proof in proof.py; the use cases are in actions.py.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.channels.models import Channel
from smmdesk.contests import listing


class Contest(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        DRAWN = "drawn", _("Drawn")

    class Pseudonymisation(models.TextChoices):
        FULL = listing.FULL, _("Full names")
        INITIALS = listing.INITIALS, _("Initials and a hash of the id")
        HASHED = listing.HASHED, _("Hashed ids only")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contests")
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The post: a published variant of ours, or a channel and the id of a post made outside smmdesk.
    # A deleted channel leaves its contests (their proofs are public) without a channel.
    channel = models.ForeignKey(
        Channel, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("channel")
    )
    # The channel's kind, kept for the proof and for "won recently" after the channel is gone.
    network = models.CharField(max_length=30)
    variant = models.ForeignKey(
        "publishing.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    post_external_id = models.CharField(_("post id on the network"), max_length=300)
    post_url = models.CharField(_("post address"), max_length=500, blank=True)
    # Conditions
    require_comment = models.BooleanField(_("must comment"), default=True)
    require_repost = models.BooleanField(_("must repost"), default=False)
    require_like = models.BooleanField(_("must like"), default=False)
    require_member = models.BooleanField(_("must be a member or subscriber"), default=False)
    comment_pattern = models.CharField(_("comment must contain"), max_length=200, blank=True)
    pattern_is_regex = models.BooleanField(_("the pattern is a regular expression"), default=False)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    winners_count = models.PositiveSmallIntegerField(_("number of winners"), default=1)
    # Network account ids or handles that may not win (the business's own, its staff).
    staff_accounts = models.JSONField(_("staff accounts"), default=list, blank=True)
    # Who won a contest of this workspace within this many days may not win again; 0: no such rule.
    exclude_winners_days = models.PositiveSmallIntegerField(_("exclude winners of the last days"), default=0)
    pseudonymisation = models.CharField(
        _("published list shows"),
        max_length=10,
        choices=Pseudonymisation.choices,
        default=Pseudonymisation.INITIALS,
    )
    # The draw
    proof_token = models.CharField(max_length=64, unique=True)
    commitment = models.CharField(max_length=64, blank=True)
    # Fernet token of the server seed's hex (lib/crypto), until the draw reveals it in `server_seed`.
    sealed_seed = models.TextField(blank=True)
    server_seed = models.CharField(max_length=64, blank=True)
    entrant_list = models.TextField(blank=True)
    list_hash = models.CharField(max_length=64, blank=True)
    public_value = models.CharField(_("public value"), max_length=200, blank=True)
    public_value_source = models.CharField(_("where the value comes from"), max_length=200, blank=True)
    public_value_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    public_value_at = models.DateTimeField(null=True, blank=True)
    draw_seed = models.CharField(max_length=64, blank=True)
    drawn_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    announcement = models.ForeignKey(
        "publishing.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    # Collection
    collected_at = models.DateTimeField(null=True, blank=True)
    collect_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self):
        return self.title

    @property
    def network_label(self) -> str:
        from smmdesk.channels import registry

        adapter = registry.ADAPTERS.get(self.network)
        return str(adapter.label) if adapter else self.network

    @property
    def post_link(self) -> str:
        return self.post_url if self.post_url.startswith(("https://", "http://")) else ""


class Entrant(models.Model):
    """One person on the post, as the network last reported them, and whether they may win."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="entrants")
    author_id = models.CharField(max_length=200)
    author_name = models.CharField(max_length=200, blank=True)
    kinds = models.JSONField(default=list)
    text = models.TextField(blank=True)
    # The network's date of the first action (comment, repost), if it tells one.
    entered_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    # Still on the post at the latest collection (a deleted comment or a withdrawn like is not).
    present = models.BooleanField(default=True)
    eligible = models.BooleanField(default=False)
    # [{"code": ..., "detail": ...}]: why not eligible (entries.REASONS has the words).
    reasons = models.JSONField(default=list, blank=True)
    disqualified_reason = models.TextField(blank=True)
    disqualified_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disqualified_at = models.DateTimeField(null=True, blank=True)
    # Set at closing: this entrant's line in the published list, and its 1-based number there.
    line = models.CharField(max_length=400, blank=True)
    line_number = models.PositiveIntegerField(null=True, blank=True)
    winner_rank = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contest", "author_id"], name="one_entry_per_person")]
        ordering = ["first_seen_at", "pk"]

    def __str__(self):
        return f"{self.contest_id}:{self.author_id}"


class ContestEvent(models.Model):
    """The contest's trail: who did what, when (created, opened, collected, closed, public_value, drawn,
    disqualified, reinstated, edited)."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=30)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.contest_id} {self.action}"
