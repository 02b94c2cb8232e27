"""Landing pages: one per keyword cluster, with their copy, published under /site/<workspace>/, plus what
comes back from the web: positions from a rank tracker and visits per page."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Workspace
from smmdesk.keywords.models import Cluster, Keyword


class Page(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="pages")
    cluster = models.OneToOneField(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="page"
    )
    # The address under /site/<workspace>/: transliterated from the main query.
    slug = models.SlugField(_("address"), max_length=120)
    language = models.CharField(max_length=5)
    title = models.CharField(_("title"), max_length=120)
    description = models.CharField(_("meta description"), max_length=300)
    h1 = models.CharField(_("heading"), max_length=200)
    intro = models.TextField(_("first paragraph"))
    # The body's sections as [{"heading": str, "text": str}] — plain text, escaped when shown.
    sections = models.JSONField(default=list, blank=True)
    # [{"question": str, "answer": str}] from the cluster's informational queries.
    faq = models.JSONField(default=list, blank=True)
    # Image alt texts are part of the copy: [{"src": url, "alt": str}].
    images = models.JSONField(default=list, blank=True)
    published = models.BooleanField(_("published"), default=False)
    # Changed by a person in the editor: regenerating the page keeps the copy.
    edited = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="one_page_per_slug")]
        ordering = ["slug"]

    def __str__(self):
        return self.title


class Position(models.Model):
    """A query's place in a search engine on a day, imported from any rank tracker's CSV."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="positions")
    keyword = models.ForeignKey(Keyword, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    query = models.CharField(max_length=300)
    engine = models.CharField(max_length=30, blank=True)
    date = models.DateField()
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.SET_NULL, related_name="positions")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "query", "engine", "date"], name="one_position_per_day"
            )
        ]
        ordering = ["-date", "query"]

    def __str__(self):
        return f"{self.query} {self.position}"


class PageVisits(models.Model):
    """Visits to one page on one day (imported from web analytics), and the site chats and leads that
    started on it (counted by smmdesk)."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="visits")
    date = models.DateField()
    visits = models.PositiveIntegerField(default=0)
    chats = models.PositiveIntegerField(default=0)
    leads = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["page", "date"], name="one_visits_row_per_day")]
        ordering = ["-date"]

    def __str__(self):
        return f"{self.page} {self.date}: {self.visits}"
