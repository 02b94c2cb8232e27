"""Ads: targeting campaigns (an audience from a saved segment, creatives) and contextual campaigns (ad
groups from keyword clusters, keywords with match types, ads with headlines and sitelinks), their budget
assumptions, and the statistics imported back from the platforms.

Campaigns are planned here and exported as the files each platform imports; smmdesk never calls an ad
platform's API, so no ad account credentials are kept.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace


class Kind(models.TextChoices):
    TARGETING = "targeting", _("Targeting")
    CONTEXTUAL = "contextual", _("Contextual")


class Platform(models.TextChoices):
    VK_ADS = "vk", _("VK Ads")
    TELEGRAM_ADS = "telegram", _("Telegram Ads")
    META = "meta", _("Meta")
    YANDEX_DIRECT = "yandex", _("Yandex Direct")
    GOOGLE_ADS = "google", _("Google Ads")


TARGETING_PLATFORMS = (Platform.VK_ADS, Platform.TELEGRAM_ADS, Platform.META)
CONTEXTUAL_PLATFORMS = (Platform.YANDEX_DIRECT, Platform.GOOGLE_ADS)


class MatchType(models.TextChoices):
    BROAD = "broad", _("Broad")
    PHRASE = "phrase", _("Phrase")
    EXACT = "exact", _("Exact")


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        READY = "ready", _("Ready to export")
        RUNNING = "running", _("Running")
        ENDED = "ended", _("Ended")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ad_campaigns")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    # Targeting: the saved audience segment it was built from (its settings are copied below, so a later
    # change of the segment does not silently change a running campaign).
    segment = models.ForeignKey(
        "audience.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    city = models.CharField(_("city"), max_length=100, blank=True)
    districts = models.JSONField(_("districts"), default=list, blank=True)
    radius_km = models.DecimalField(_("radius, km"), max_digits=5, decimal_places=1, null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=8, blank=True)
    age_min = models.PositiveSmallIntegerField(_("age from"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("age to"), null=True, blank=True)
    interests = models.JSONField(_("interests"), default=list, blank=True)
    # Budget, in the workspace's currency.
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    daily_budget = models.DecimalField(
        _("daily budget"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    monthly_budget = models.DecimalField(
        _("monthly budget"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # The planner's assumptions where they differ from the documented defaults: {"ctr": 0.02, ...}.
    assumptions = models.JSONField(default=dict, blank=True)
    target_cpa = models.DecimalField(
        _("target cost per order"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    # Links to the site carry utm_campaign=<this>; orders with it are attributed to the campaign.
    utm_campaign = models.CharField(_("UTM campaign"), max_length=120)
    # Russian ad labelling (ОРД): the token from the operator, and who advertises.
    erid = models.CharField(_("ERID token"), max_length=120, blank=True)
    advertiser = models.CharField(_("advertiser"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="one_ad_campaign_name"),
            models.UniqueConstraint(fields=["workspace", "utm_campaign"], name="one_ad_utm_campaign"),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.name


class AdGroup(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="ad_groups")
    name = models.CharField(_("name"), max_length=120)
    # Contextual: the keyword cluster it was built from; its landing page is the final URL.
    cluster = models.ForeignKey(
        "keywords.Cluster", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    final_url = models.URLField(_("final URL"), max_length=1000, blank=True)
    negative_keywords = models.JSONField(_("negative keywords"), default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class AdKeyword(models.Model):
    ad_group = models.ForeignKey(AdGroup, on_delete=models.CASCADE, related_name="keywords")
    text = models.CharField(_("keyword"), max_length=300)
    match_type = models.CharField(
        _("match type"), max_length=6, choices=MatchType.choices, default=MatchType.PHRASE
    )
    max_cpc = models.DecimalField(_("max CPC"), max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.text


class Ad(models.Model):
    """One ad: for contextual platforms headlines, descriptions, a display path and sitelinks; for
    targeting platforms a creative (title, text, image) often made from a post."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="ads")
    ad_group = models.ForeignKey(AdGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="ads")
    headlines = models.JSONField(_("headlines"), default=list, blank=True)
    descriptions = models.JSONField(_("descriptions"), default=list, blank=True)
    path1 = models.CharField(_("display path 1"), max_length=60, blank=True)
    path2 = models.CharField(_("display path 2"), max_length=60, blank=True)
    # [{"text": str, "url": str, "description": str}]
    sitelinks = models.JSONField(_("sitelinks"), default=list, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    image = models.ForeignKey(
        "publishing.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    post = models.ForeignKey(
        "publishing.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    final_url = models.URLField(_("final URL"), max_length=1000, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.title or (self.headlines[0] if self.headlines else f"ad {self.pk}")


class ReportFile(models.Model):
    """A platform's statistics report from a member: uploaded (StatsUpload) or imported (StatsImport)."""

    platform = models.CharField(max_length=10, choices=Platform.choices)
    file_name = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.file_name


class StatsImport(ReportFile):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ad_stats_imports")
    rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    # [{"row": n, "field": str, "message": str}]
    errors = models.JSONField(default=list, blank=True)


class StatsUpload(ReportFile):
    """A report uploaded and waiting for its column mapping (stats_upload.py). It becomes a StatsImport
    when imported; its file (the business's figures) is deleted then, or after a day if nobody does."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ad_stats_uploads")
    file = models.FileField(upload_to="ads/stats/%Y/%m/")
    headers = models.JSONField(default=list, blank=True)
    # Our field -> column index, as recognised from the headers and then chosen on the page.
    mapping = models.JSONField(default=dict, blank=True)


class StatRow(models.Model):
    """A platform report's row: one day of one campaign, ad group and keyword (blank when the report is
    at a higher level). Importing the same report again replaces its rows instead of adding them."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ad_stats")
    platform = models.CharField(max_length=10, choices=Platform.choices)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="stats"
    )
    date = models.DateField()
    campaign_name = models.CharField(max_length=200)
    ad_group_name = models.CharField(max_length=200, blank=True)
    keyword = models.CharField(max_length=300, blank=True)
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    conversions = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    imported_by = models.ForeignKey(
        StatsImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "platform", "date", "campaign_name", "ad_group_name", "keyword"],
                name="one_stat_row",
            )
        ]
        indexes = [models.Index(fields=["workspace", "campaign", "date"], name="ad_stats_by_campaign")]
        ordering = ["-date", "campaign_name"]

    def __str__(self):
        return f"{self.date} {self.campaign_name}"
