from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace

LANGUAGE_CHOICES = [("en", _("English")), ("ru", _("Russian")), ("sk", _("Slovak"))]
CURRENCY_CHOICES = [("RUB", "₽ RUB"), ("EUR", "€ EUR"), ("USD", "$ USD")]
WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class BusinessProfile(models.Model):
    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="profile")
    name = models.CharField(_("business name"), max_length=150)
    city = models.CharField(_("city"), max_length=100)
    districts = models.JSONField(_("districts"), default=list, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    site_url = models.URLField(_("site URL"), blank=True)
    languages = models.JSONField(_("languages"), default=list)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="RUB")

    def __str__(self):
        return self.name


class OpeningHours(models.Model):
    """One open interval on a weekday; several rows give a day with a break."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class HolidayException(models.Model):
    """A date when the usual hours do not apply: closed all day, or open at other hours."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=True)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["workspace", "date"], name="one_exception_per_date")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.note}".strip()


class Service(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("name"), max_length=120)
    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"), default=60)
    synonyms = models.JSONField(_("synonyms"), default=list, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_service_name")]

    def __str__(self):
        return self.name


class Department(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(
        Membership, blank=True, related_name="departments", verbose_name=_("members")
    )
    notify_email = models.EmailField(_("notify by e-mail"), blank=True)
    telegram_chat_id = models.CharField(_("notify in Telegram chat (id)"), max_length=32, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_department_name")]

    def __str__(self):
        return self.name
