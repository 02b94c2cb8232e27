"""Forms of the ads pages: the two "new campaign" forms, a campaign's settings, an ad's fields, the
planner's assumptions and what-if budgets, the stats upload and the effectiveness period.

They check only the shape of what was typed; the rules (a platform that does not fit the kind, a
segment of another workspace, a text over a platform's limit) belong to actions.py, limits.py and
stats.py, whose refusals are put back next to their fields with `add_errors`.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from smmdesk.ads.models import CONTEXTUAL_PLATFORMS, TARGETING_PLATFORMS, Campaign, Platform
from smmdesk.audience.forms import DateInput, PeriodForm, SafeForm
from smmdesk.business.fields import encodable_text

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0"), "required": False}
MAX_TEXT = 2000
MAX_UPLOAD = 20 * 1024 * 1024  # a platform's daily report for a year is far below this
STATS_PLATFORMS = (Platform.YANDEX_DIRECT, Platform.GOOGLE_ADS, Platform.VK_ADS)


def add_errors(form: forms.Form, error) -> None:
    """A refused use case next to its fields: (field, message) pairs when it has them, else one."""
    pairs = getattr(error, "errors", None) or [
        (getattr(error, "field", None), getattr(error, "message", "") or str(error))
    ]
    for pair in pairs:
        if isinstance(pair, dict):
            field, message = pair.get("field"), pair.get("message", "")
        else:
            field, message = pair
        form.add_error(_form_field(form, str(field or "")), str(message))


def _form_field(form: forms.Form, name: str) -> str | None:
    """The form's field for a use case's field name: the form's own answer (field_for) first, then
    "headlines.0" -> headlines (a line of the field) and "assumptions.ctr" -> ctr (a key of it)."""
    found = form.field_for(name) if hasattr(form, "field_for") else None
    if found:
        return found
    parts = name.split(".")
    return next((part for part in (parts[0], parts[-1]) if part in form.fields), None)


def _choices(platforms) -> list[tuple[str, str]]:
    labels = dict(Platform.choices)
    return [(str(p.value), labels[p.value]) for p in platforms]


class BudgetFields(SafeForm):
    daily_budget = forms.DecimalField(label=_("Daily budget"), **MONEY)
    monthly_budget = forms.DecimalField(label=_("Monthly budget"), **MONEY)
    target_cpa = forms.DecimalField(label=_("Target cost per order"), **MONEY)

    def campaign_data(self) -> dict:
        """The use case takes ids, as the API does: rows chosen here become their primary keys."""
        data = {}
        for name, value in self.cleaned_data.items():
            if hasattr(value, "pk"):
                value = value.pk
            elif hasattr(value, "values_list"):
                value = list(value.values_list("pk", flat=True))
            data[name] = value
        return data


class TargetingForm(BudgetFields):
    name = forms.CharField(label=_("Name"), max_length=120)
    platform = forms.ChoiceField(label=_("Platform"), choices=_choices(TARGETING_PLATFORMS))
    segment = forms.ModelChoiceField(label=_("Audience segment"), queryset=None)
    post = forms.ModelChoiceField(
        label=_("Creative from a post"),
        queryset=None,
        required=False,
        empty_label=_("— write it below —"),
        help_text=_("Leave empty to write the creative's title and text here."),
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    text = forms.CharField(label=_("Text"), max_length=MAX_TEXT, required=False, widget=forms.Textarea)
    erid = forms.CharField(
        label=_("ERID token"),
        max_length=120,
        required=False,
        help_text=_("The ad labelling token from the operator (Russia); the ad is marked “Реклама”."),
    )
    advertiser = forms.CharField(label=_("Advertiser"), max_length=200, required=False)

    field_order = ["name", "platform", "segment", "daily_budget", "monthly_budget", "target_cpa"]

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        from smmdesk.audience.models import Segment
        from smmdesk.publishing.models import Post

        self.fields["segment"].queryset = Segment.objects.filter(workspace=workspace).order_by("name")
        self.fields["post"].queryset = Post.objects.filter(workspace=workspace).order_by("-pk")
        self.fields["post"].label_from_instance = lambda post: str(post)[:80] or f"#{post.pk}"

    def clean(self):
        data = super().clean()
        if not data.get("post") and not (data.get("title") or data.get("text")):
            self.add_error("text", _("Choose a post or write the creative's text."))
        return data


class ContextualForm(BudgetFields):
    name = forms.CharField(label=_("Name"), max_length=120)
    platform = forms.ChoiceField(label=_("Platform"), choices=_choices(CONTEXTUAL_PLATFORMS))
    clusters = forms.ModelMultipleChoiceField(
        label=_("Keyword clusters"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One ad group per cluster; its landing page is the ads' final URL."),
    )

    field_order = ["name", "platform", "clusters"]

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        from smmdesk.keywords.models import Cluster

        self.fields["clusters"].queryset = Cluster.objects.filter(workspace=workspace).order_by("name")


class SettingsForm(BudgetFields):
    name = forms.CharField(label=_("Name"), max_length=120)
    status = forms.ChoiceField(label=_("Status"), choices=Campaign.Status.choices)
    starts_on = forms.DateField(label=_("Starts"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("Ends"), required=False, widget=DateInput())
    erid = forms.CharField(label=_("ERID token"), max_length=120, required=False)
    advertiser = forms.CharField(label=_("Advertiser"), max_length=200, required=False)

    field_order = ["name", "status", "daily_budget", "monthly_budget", "target_cpa", "starts_on", "ends_on"]

    @classmethod
    def of(cls, campaign: Campaign) -> SettingsForm:
        return cls(initial={name: getattr(campaign, name) for name in cls.base_fields}, auto_id="set_%s")


def lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


SITELINK_PARTS = {
    "text": _("Text"),
    "url": _("Address (http or https)"),
    "description": _("Description"),
    "description2": _("Description line 2"),
}
MAX_SITELINK_SLOTS = 8


class AdForm(SafeForm):
    """One ad; headlines and descriptions one per line, as many as the platform takes. A contextual ad
    also has sitelink slots, sitelink_<n>_<part>; an empty slot is no sitelink."""

    headlines = forms.CharField(
        label=_("Headlines"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    descriptions = forms.CharField(
        label=_("Descriptions"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    path1 = forms.CharField(label=_("Display path 1"), max_length=60, required=False)
    path2 = forms.CharField(label=_("Display path 2"), max_length=60, required=False)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    text = forms.CharField(label=_("Text"), max_length=MAX_TEXT, required=False, widget=forms.Textarea)

    def __init__(self, *args, platform: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.sitelink_parts = (
            tuple(SITELINK_PARTS) if platform == Platform.GOOGLE_ADS else ("text", "url", "description")
        )
        self.sitelink_slots = MAX_SITELINK_SLOTS if platform in CONTEXTUAL_PLATFORMS else 0
        self.used_slots: list[int] = []
        for slot in range(self.sitelink_slots):
            for part in self.sitelink_parts:
                label = (
                    _("Description line 1")
                    if part == "description" and platform == Platform.GOOGLE_ADS
                    else SITELINK_PARTS[part]
                )
                field = forms.CharField(
                    label=label,
                    required=False,
                    max_length=1000 if part == "url" else 200,
                    widget=forms.URLInput if part == "url" else forms.TextInput,
                )
                field.validators.append(encodable_text)
                self.fields[self.slot_field(slot, part)] = field

    @staticmethod
    def slot_field(slot: int, part: str) -> str:
        return f"sitelink_{slot}_{part}"

    @classmethod
    def of(cls, ad) -> AdForm:
        initial = {
            "headlines": "\n".join(ad.headlines or []),
            "descriptions": "\n".join(ad.descriptions or []),
            **{name: getattr(ad, name) for name in ("path1", "path2", "title", "text")},
        }
        for slot, link in enumerate((ad.sitelinks or [])[:MAX_SITELINK_SLOTS]):
            for part in SITELINK_PARTS:
                initial[cls.slot_field(slot, part)] = link.get(part, "") if isinstance(link, dict) else ""
        return cls(initial=initial, auto_id=f"ad{ad.pk}_%s", platform=ad.campaign.platform)

    def filled_slots(self) -> int:
        """How many slots, counted to the last one with anything in it (as typed, or as saved)."""
        last = -1
        for slot in range(self.sitelink_slots):
            for part in self.sitelink_parts:
                name = self.slot_field(slot, part)
                value = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
                if (value or "").strip():
                    last = slot
        return last + 1

    def ad_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("path1", "path2", "title", "text")}
        data["headlines"] = lines(self.cleaned_data["headlines"])
        data["descriptions"] = lines(self.cleaned_data["descriptions"])
        if self.sitelink_slots:
            links, self.used_slots = [], []
            for slot in range(self.sitelink_slots):
                link = {
                    part: self.cleaned_data[self.slot_field(slot, part)].strip()
                    for part in self.sitelink_parts
                }
                if any(link.values()):
                    links.append(link)
                    self.used_slots.append(slot)
            data["sitelinks"] = links
        return data

    def field_for(self, name: str) -> str | None:
        """ "sitelinks.<n>.<part>" of the use case is the n-th filled slot's field here."""
        parts = name.split(".")
        if parts[0] != "sitelinks":
            return None
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(self.used_slots):
            field = self.slot_field(self.used_slots[int(parts[1])], parts[2])
            if field in self.fields:
                return field
        return NON_FIELD_ERRORS  # the set as a whole: above the form, never on a same-named field


class AssumptionsForm(forms.Form):
    """The planner's assumptions; a field left empty keeps the documented default. Recalculating uses
    them once; saving keeps them as the campaign's (the what-if budgets are never saved)."""

    ctr = forms.DecimalField(label=_("CTR, %"), required=False, min_value=0, max_value=100, decimal_places=3)
    cpc = forms.DecimalField(label=_("Cost per click"), **MONEY)
    click_to_lead = forms.DecimalField(
        label=_("Click to lead, %"), required=False, min_value=0, max_value=100, decimal_places=3
    )
    lead_to_order = forms.DecimalField(
        label=_("Lead to order, %"), required=False, min_value=0, max_value=100, decimal_places=3
    )
    average_order_value = forms.DecimalField(label=_("Average order"), **MONEY)
    budgets = forms.CharField(
        label=_("What-if monthly budgets"),
        required=False,
        max_length=200,
        help_text=_("Several monthly budgets, separated by spaces or semicolons."),
    )

    PERCENT = ("ctr", "click_to_lead", "lead_to_order")

    @classmethod
    def of(cls, campaign: Campaign, data=None) -> AssumptionsForm:
        """The form, filled in with the campaign's saved assumptions (rates as percentages)."""
        initial = {}
        for name, value in (campaign.assumptions or {}).items():
            if name in cls.base_fields and isinstance(value, int | float) and not isinstance(value, bool):
                number = Decimal(str(value))
                initial[name] = format((number * 100 if name in cls.PERCENT else number).normalize(), "f")
        return cls(data or None, initial=initial, auto_id="plan_%s")

    def saved(self) -> dict:
        """The filled-in assumptions as the campaign keeps them: numbers, rates as shares of 1."""
        return {name: float(value) for name, value in self.overrides().items()}

    def overrides(self) -> dict:
        """The filled-in assumptions as the planner takes them: shares of 1, not percentages."""
        out = {}
        for name, value in self.cleaned_data.items():
            if name == "budgets" or value is None:
                continue
            out[name] = value / 100 if name in self.PERCENT else value
        return out

    def clean_budgets(self) -> list[Decimal]:
        raw = (self.cleaned_data.get("budgets") or "").replace(";", " ").split()
        budgets = []
        for word in raw[:8]:
            try:
                budget = Decimal(word.replace(",", "."))
            except ArithmeticError:
                raise forms.ValidationError(_("“%(word)s” is not a number.") % {"word": word[:20]}) from None
            if not budget.is_finite() or budget <= 0 or budget > Decimal("10000000"):
                raise forms.ValidationError(_("Each budget must be a positive number."))
            budgets.append(budget)
        return budgets


class StatsUploadForm(SafeForm):
    platform = forms.ChoiceField(label=_("Platform"), choices=_choices(STATS_PLATFORMS))
    file = forms.FileField(label=_("Report file"), help_text=_("CSV or XLSX, as the platform exports it."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is over 20 MB."))
        return upload


EffectivenessPeriodForm = PeriodForm
