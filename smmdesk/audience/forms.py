"""The audience pages' forms: the report's period, quick entry of an order, the upload and its column
mapping, mapping a CRM's service name to a profile service, and a segment.

They check only the shape of what was typed; the rules (a date in the future, an age out of range, a
column chosen twice) belong to imports.py, rows.py and actions.py, whose errors are put back next to
their fields with `add_errors`.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.audience.models import Gender
from smmdesk.business.fields import encodable_text
from smmdesk.publishing.scheduling import workspace_zone

PRESETS = {"30": 30, "90": 90, "365": 365}
DEFAULT_PERIOD = "90"
MAX_DAYS = 3660  # ten years: the previous period doubles it, and years outside 2000-2199 are refused
FIRST_YEAR, LAST_YEAR = 2000, 2199


def add_errors(form: forms.Form, errors) -> None:
    """Put a use case's (field, message) errors next to the form's fields; the rest above the form."""
    for field, message in errors:
        form.add_error(field if field in form.fields else None, str(message))


def today_for(workspace) -> date:
    """The business's today: the report's periods end on its calendar, not the server's."""
    return timezone.localdate(timezone=workspace_zone(workspace))


class SafeForm(forms.Form):
    """Text that cannot be stored (a lone surrogate) is refused on its field, not deep in a save."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(encodable_text)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("365", _("Last 365 days")),
            ("custom", _("Dates below")),
        ],
        required=False,
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean(self):
        data = super().clean()
        period = data.get("period") or DEFAULT_PERIOD
        start, end = data.get("start"), data.get("end")
        # Dates typed without choosing "Dates below" still mean those dates.
        if period != "custom" and (start or end) and not self.data.get("period"):
            period = "custom"
        data["period"] = period
        if period != "custom":
            return data
        if start is None and "start" not in self.errors:
            self.add_error("start", _("Choose the first day."))
        if end is None and "end" not in self.errors:
            self.add_error("end", _("Choose the last day."))
        if start and end:
            if end < start:
                self.add_error("end", _("The last day cannot be before the first day."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", _("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        for name, day in (("start", start), ("end", end)):
            if day and not FIRST_YEAR <= day.year <= LAST_YEAR and name not in self.errors:
                self.add_error(
                    name,
                    _("Choose a year from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR},
                )
        return data

    def bounds(self) -> tuple[date, date]:
        """The first and last day of the chosen period, both included."""
        data = self.cleaned_data
        if data["period"] == "custom":
            return data["start"], data["end"]
        last = today_for(self.workspace)
        return last - timedelta(days=PRESETS[data["period"]] - 1), last


def period_form(request) -> PeriodForm:
    form = PeriodForm(request.GET or {"period": DEFAULT_PERIOD}, workspace=request.workspace)
    form.is_valid()
    return form


class OrderForm(SafeForm):
    """Quick entry. Every value goes to the use case as typed, exactly as a cell of an imported file
    would, so the page and the import accept and refuse the same things in the same words."""

    order_id = forms.CharField(label=_("Order ID"), max_length=100)
    date = forms.CharField(label=_("Date"), max_length=20, widget=DateInput())
    service = forms.CharField(
        label=_("Service"),
        max_length=200,
        help_text=_("A service of the profile, or the name your records use."),
        widget=forms.TextInput(attrs={"list": "audience-services"}),
    )
    price = forms.CharField(label=_("Price"), max_length=30, required=False)
    client_id = forms.CharField(label=_("Client ID"), max_length=100, required=False)
    gender = forms.ChoiceField(label=_("Gender"), required=False)
    age = forms.CharField(
        label=_("Age"), max_length=10, required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    birth_year = forms.CharField(
        label=_("Birth year"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    district = forms.CharField(
        label=_("District"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"list": "audience-districts"}),
    )
    source = forms.CharField(label=_("Source"), max_length=120, required=False)
    utm_campaign = forms.CharField(label=_("UTM campaign"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gender"].choices = [("", _("Not known"))] + [
            (value, label) for value, label in Gender.choices if value != Gender.UNKNOWN
        ]

    def data_for_action(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or Windows-1251; comma, semicolon or tab between columns) or Excel XLSX."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,text/csv"}),
    )


NOT_IN_FILE = ""


class MappingForm(forms.Form):
    """One select per order field, offering the file's columns by their headers."""

    def __init__(self, *args, fields=(), headers=(), mapping=None, **kwargs):
        super().__init__(*args, **kwargs)
        columns = [(NOT_IN_FILE, _("— not in the file —"))]
        columns += [
            (str(index), header or _("column %(n)d") % {"n": index + 1})
            for index, header in enumerate(headers)
        ]
        mapping = mapping or {}
        self.required_fields = set()
        for name, label, required in fields:
            chosen = mapping.get(name)
            self.fields[name] = forms.ChoiceField(
                label=label,
                choices=columns,
                required=False,
                initial=NOT_IN_FILE if chosen is None else str(chosen),
            )
            if required:
                self.required_fields.add(name)
                self.fields[name].widget.attrs["aria-required"] = "true"

    def mapping(self) -> dict[str, int | None]:
        """Field -> column index (None: not in the file), for imports.set_mapping to judge."""
        data = self.cleaned_data
        return {name: int(data[name]) if data.get(name) else None for name in self.fields}


class ServiceMapForm(forms.Form):
    name = forms.CharField(max_length=200, widget=forms.HiddenInput)
    service = forms.TypedChoiceField(label=_("Profile service"), coerce=int, empty_value=None)

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("Choose a service"))] + [
            (str(s.pk), s.name) for s in services
        ]


class SegmentForm(SafeForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    services = forms.TypedMultipleChoiceField(
        label=_("Services"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any service."),
    )
    gender = forms.ChoiceField(label=_("Gender"), required=False)
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=120)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=120)
    districts = forms.MultipleChoiceField(
        label=_("Districts"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any district."),
    )
    other_districts = forms.CharField(
        label=_("Other districts"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Districts not in the profile, as your orders name them: one per line."),
    )

    def __init__(self, *args, services=(), districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = [(s.pk, s.name) for s in services]
        self.fields["gender"].choices = [("", _("Any"))] + [
            (value, label) for value, label in Gender.choices if value != Gender.UNKNOWN
        ]
        self.fields["districts"].choices = [(name, name) for name in districts]

    @staticmethod
    def initial_for(segment, districts=()) -> dict:
        stored = [str(d) for d in segment.districts] if isinstance(segment.districts, list) else []
        known = set(districts)
        return {
            "name": segment.name,
            "services": [s.pk for s in segment.services.all()],
            "gender": segment.gender,
            "age_min": segment.age_min,
            "age_max": segment.age_max,
            "districts": [d for d in stored if d in known],
            "other_districts": "\n".join(d for d in stored if d not in known),
        }

    def data_for_action(self) -> dict:
        data = self.cleaned_data
        districts = list(data.get("districts") or [])
        for line in (data.get("other_districts") or "").splitlines():
            name = line.strip()
            if name and name.casefold() not in {d.casefold() for d in districts}:
                districts.append(name)
        return {
            "name": data.get("name", "").strip(),
            "services": list(data.get("services") or []),
            "gender": data.get("gender") or "",
            "age_min": data.get("age_min"),
            "age_max": data.get("age_max"),
            "districts": districts,
        }
