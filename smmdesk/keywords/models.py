"""Keyword research: the queries a workspace's customers type (generated from the business profile or
imported with their volumes), grouped into clusters — one cluster is one landing page — plus negative
keywords and landmarks for local queries."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Workspace
from smmdesk.business.models import Service


class Kind(models.TextChoices):
    DIRECT = "direct", _("Direct")
    INDIRECT = "indirect", _("Indirect")


class Intent(models.TextChoices):
    COMMERCIAL = "commercial", _("Commercial")
    INFORMATIONAL = "informational", _("Informational")
    NAVIGATIONAL = "navigational", _("Navigational")
    LOCAL = "local", _("Local")


class Landmark(models.Model):
    """A place people name in local queries ("near Orenburg railway station")."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="landmarks")
    name = models.CharField(_("name"), max_length=120)
    language = models.CharField(_("language"), max_length=5)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="one_landmark_name")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class NegativeKeyword(models.Model):
    """A word that makes a query worthless to the business ("free", "course", "vacancy")."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="negative_keywords")
    phrase = models.CharField(_("phrase"), max_length=120)
    # Its lemmas, so every form of the word is caught.
    lemmas = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "phrase"], name="one_negative_phrase")]
        ordering = ["phrase"]

    def __str__(self):
        return self.phrase


class Cluster(models.Model):
    """Queries that one landing page answers."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="keyword_clusters")
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(max_length=5)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The query the page is built around; null until the cluster has members.
    main = models.ForeignKey("Keyword", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Sum of the members' volumes, kept up to date by the actions that move queries.
    volume = models.PositiveIntegerField(default=0)
    intent = models.CharField(max_length=14, choices=Intent.choices, blank=True)
    # Set by a person (merge, split, move, rename): a re-run of clustering keeps it as it is.
    edited = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-volume", "name"]

    def __str__(self):
        return self.name


class Keyword(models.Model):
    class Source(models.TextChoices):
        GENERATED = "generated", _("Generated")
        IMPORTED = "imported", _("Imported")
        MANUAL = "manual", _("Added by hand")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="keywords")
    query = models.CharField(_("query"), max_length=300)
    # Sorted lemma set joined by spaces: word order and inflection do not make a new query.
    normalized = models.CharField(max_length=300)
    language = models.CharField(max_length=5)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    intent = models.CharField(_("intent"), max_length=14, choices=Intent.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.GENERATED)
    # Monthly searches as the imported report says; null when unknown.
    volume = models.PositiveIntegerField(_("volume"), null=True, blank=True)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="keywords"
    )
    # Contains a negative keyword: kept so it is not generated again, never put in a cluster.
    excluded = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "language", "normalized"], name="one_query_per_lemma_set"
            )
        ]
        indexes = [models.Index(fields=["workspace", "cluster"], name="keywords_by_cluster")]
        ordering = ["-volume", "query"]

    def __str__(self):
        return self.query
