"""Audience: the business's orders (imported from a CRM export or typed in), the names a CRM uses for
the profile's services, import jobs with their row-by-row report, saved segments, and follower counts
per channel per day.

Orders hold personal data of the business's clients: only a client id (the CRM's, never a name), gender,
age or birth year and district are kept, and only members of the workspace see them.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.business.models import Service
from smmdesk.channels.models import Channel


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    UNKNOWN = "unknown", _("Unknown")


class ImportJob(models.Model):
    """One uploaded file on its way in: mapped, checked, then imported whole or not at all."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded, columns to map")
        QUEUED = "queued", _("Waiting to run")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Refused: see the report")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="order_imports")
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept in the data dir, served to nobody; removed once the job is done.
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=255)
    # Detected on upload: "csv" or "xlsx", the text encoding and the separator of a CSV.
    file_format = models.CharField(max_length=8)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    # Our field name -> the file's column index: {"order_id": 0, "date": 1, ...}.
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # [{"row": n (1-based, as a spreadsheet numbers it, header = 1), "field": "...", "value": "...", "message": "..."}]
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # Service names found in the file that match no profile service: {"name as written": orders}.
    unknown_services = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # The process running it (host:pid, lib.workers), so a crashed run is taken up again at once.
    claimed_by = models.CharField(max_length=100, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.file_name


class Order(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="orders")
    # The business's own id of the order: importing the same order again changes nothing.
    order_id = models.CharField(_("order id"), max_length=100)
    date = models.DateField(_("date"))
    # The profile's service, when the name is known or mapped; service_name keeps what the file said.
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    service_name = models.CharField(_("service"), max_length=200)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    client_id = models.CharField(_("client id"), max_length=100, blank=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, default=Gender.UNKNOWN)
    # Age at the order's date: given, or computed from the birth year.
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    district = models.CharField(_("district"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=120, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=200, blank=True)
    import_job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "order_id"], name="one_order_per_id")]
        indexes = [models.Index(fields=["workspace", "date"], name="orders_by_date")]
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"{self.order_id} {self.service_name}"


class ServiceAlias(models.Model):
    """A CRM's name for a profile service ("Стрижка муж." → "Men's haircut"): applied to past and future
    orders with that name."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="service_aliases")
    # Case-folded, spaces collapsed.
    name = models.CharField(max_length=200)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="one_alias_per_name")]

    def __str__(self):
        return f"{self.name} → {self.service}"


class Segment(models.Model):
    """Who to target: service × gender × age × district. Empty parts mean "any"."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(_("name"), max_length=120)
    services = models.ManyToManyField(
        Service, blank=True, related_name="segments", verbose_name=_("services")
    )
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    age_min = models.PositiveSmallIntegerField(_("age from"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("age to"), null=True, blank=True)
    districts = models.JSONField(_("districts"), default=list, blank=True)
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="one_segment_name")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class FollowerCount(models.Model):
    """A channel's followers (members, subscribers) on one day, as its network reported it."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="follower_counts")
    date = models.DateField()
    followers = models.PositiveIntegerField()
    measured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "date"], name="one_follower_count_per_day")]
        ordering = ["channel", "date"]

    def __str__(self):
        return f"{self.channel} {self.date}: {self.followers}"


class WeeklyReport(models.Model):
    """A weekly report sent to a workspace's owners: once per week, however often the task runs."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="weekly_reports")
    # The Monday the report's week starts on, in the workspace's time zone.
    week_start = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "week_start"], name="one_report_per_week")
        ]
        ordering = ["-week_start"]

    def __str__(self):
        return f"{self.workspace} {self.week_start}"
