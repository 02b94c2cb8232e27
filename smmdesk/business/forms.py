"""Forms for the business profile. They hold every validation rule; the API feeds them too, so the web
pages and the API refuse the same input with the same messages."""

import re
from datetime import date, time
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership
from smmdesk.business.fields import (
    ClockTimeField,
    IntervalsField,
    ListField,
    MemberChoiceField,
    PriceField,
    WebAddressField,
    encodable_text,
    timezone_choices,
)
from smmdesk.business.models import (
    LANGUAGE_CHOICES,
    WEEKDAYS,
    BusinessProfile,
    Department,
    HolidayException,
    Service,
)

WEEKDAY_KEYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# Holidays far outside this range are typing mistakes, and date arithmetic near year 9999 overflows.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2199, 12, 31)


class TextSafetyMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(encodable_text)


def make_read_only(form):
    for field in form.fields.values():
        field.disabled = True
    return form


PHONE_RE = re.compile(r"\+?[\d\s().\-]{5,40}")
TELEGRAM_CHAT_RE = re.compile(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,30}")


class ProfileForm(TextSafetyMixin, forms.ModelForm):
    districts = ListField(
        label=_("Districts"),
        max_items=50,
        help_text=_("One per line or separated by commas, e.g. Leninsky, Central."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The languages you talk to customers in."),
        error_messages={
            "required": _("Choose at least one language."),
            "invalid_choice": _(
                "“%(value)s” is not a supported language: choose from English, Russian, Slovak."
            ),
            "invalid_list": _("Choose languages from the list."),
        },
    )
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=timezone_choices,
        help_text=_("Opening hours and reply deadlines are counted in this time zone."),
        error_messages={
            "invalid_choice": _("“%(value)s” is not a known time zone; pick one such as Asia/Yekaterinburg."),
        },
    )
    site_url = WebAddressField(label=_("Site URL"), required=False, max_length=200)

    class Meta:
        model = BusinessProfile
        fields = [
            "name",
            "city",
            "districts",
            "address",
            "phone",
            "site_url",
            "languages",
            "timezone",
            "currency",
        ]
        help_texts = {"phone": _("Digits, spaces, brackets and dashes, e.g. +7 3532 12-34-56.")}
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})}

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and (not PHONE_RE.fullmatch(phone) or sum(ch.isdigit() for ch in phone) < 5):
            raise ValidationError(
                _("Enter a phone number with at least 5 digits, e.g. +7 3532 12-34-56."), code="invalid"
            )
        return phone


def _day(number: int) -> IntervalsField:
    return IntervalsField(
        label=WEEKDAYS[number][1], widget=forms.TextInput(attrs={"placeholder": "09:00-13:00, 14:00-19:00"})
    )


class WeekForm(TextSafetyMixin, forms.Form):
    """The usual week: each weekday's intervals in one field, so a day with a lunch break is one line."""

    monday = _day(0)
    tuesday = _day(1)
    wednesday = _day(2)
    thursday = _day(3)
    friday = _day(4)
    saturday = _day(5)
    sunday = _day(6)

    @classmethod
    def initial_for(cls, rows) -> dict[str, list[tuple[time, time]]]:
        initial: dict[str, list[tuple[time, time]]] = {key: [] for key in WEEKDAY_KEYS}
        for row in rows:
            initial[WEEKDAY_KEYS[row.weekday]].append((row.opens, row.closes))
        return initial


class HolidayForm(TextSafetyMixin, forms.ModelForm):
    taken_message = _("This date already has an exception.")
    opens = ClockTimeField(
        label=_("Opens"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    closes = ClockTimeField(
        label=_("Closes"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    class Meta:
        model = HolidayException
        fields = ["date", "closed", "opens", "closes", "note"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {"closed": _("Untick to give this date its own opening hours instead.")}

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["closed"].required = False

    def clean_date(self):
        day = self.cleaned_data["date"]
        if not FIRST_DATE <= day <= LAST_DATE:
            raise ValidationError(
                _("Enter a date between %(first)s and %(last)s."),
                params={"first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()},
                code="range",
            )
        taken = HolidayException.objects.filter(workspace=self.workspace, date=day).exclude(
            pk=self.instance.pk
        )
        if taken.exists():
            raise ValidationError(
                _("%(date)s already has an exception; delete it first to replace it."),
                params={"date": day.isoformat()},
                code="unique",
            )
        return day

    def clean(self):
        data = super().clean()
        if data.get("closed"):
            data["opens"] = data["closes"] = None
            return data
        opens, closes = data.get("opens"), data.get("closes")
        if opens is None and "opens" not in self.errors:
            self.add_error("opens", _("Enter the opening time, or tick “closed all day”."))
        if closes is None and "closes" not in self.errors:
            self.add_error("closes", _("Enter the closing time, or tick “closed all day”."))
        if opens is not None and closes is not None and closes <= opens:
            self.add_error("closes", _("The closing time must be later than the opening time."))
        return data


class WorkspaceNameMixin:
    """Names are unique within a workspace; say so on the field instead of failing on the constraint."""

    taken_message = _("This name is already used.")

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(self.fields["name"].error_messages["required"], code="required")
        clash = type(self.instance).objects.filter(workspace=self.workspace, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise ValidationError(self.taken_message, code="unique")
        return name


class ServiceForm(TextSafetyMixin, WorkspaceNameMixin, forms.ModelForm):
    taken_message = _("There is already a service with this name.")
    price = PriceField(
        label=_("Price"),
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"min_value": _("The price cannot be negative.")},
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, minutes"),
        min_value=5,
        max_value=1440,
        initial=60,
        error_messages={
            "min_value": _("A service lasts at least 5 minutes."),
            "max_value": _("A service lasts at most 1440 minutes (one day)."),
        },
    )
    synonyms = ListField(
        label=_("Synonyms"),
        max_items=50,
        help_text=_("Other words customers use for it, one per line or separated by commas."),
    )

    class Meta:
        model = Service
        fields = ["name", "price", "duration_minutes", "synonyms"]

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_price(self):
        price = self.cleaned_data["price"]
        try:
            return price.quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ValidationError(_("Enter a valid price."), code="invalid")


class DepartmentForm(TextSafetyMixin, WorkspaceNameMixin, forms.ModelForm):
    taken_message = _("There is already a department with this name.")
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea
    )
    members = MemberChoiceField(
        label=_("Members"),
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("They see this department's conversations and are notified about them."),
        error_messages={"invalid_choice": _("%(value)s is not a member of this workspace.")},
    )

    class Meta:
        model = Department
        fields = ["name", "description", "members", "notify_email", "telegram_chat_id"]
        help_texts = {
            "notify_email": _("Where new conversations for this department are announced."),
            "telegram_chat_id": _(
                "A numeric chat id such as -1001234567890, or a channel such as @salon_team."
            ),
        }

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        # Only this workspace's people can be chosen, whatever ids a request sends.
        self.fields["members"].queryset = (
            Membership.objects.filter(workspace=workspace)
            .select_related("user")
            .order_by("user__name", "user__email")
        )

    def clean_telegram_chat_id(self):
        chat = self.cleaned_data["telegram_chat_id"].strip()
        if chat and not TELEGRAM_CHAT_RE.fullmatch(chat):
            raise ValidationError(
                _("Enter a numeric chat id such as -1001234567890, or a channel name such as @salon_team."),
                code="invalid",
            )
        return chat
