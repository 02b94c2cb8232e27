"""Forms of the publishing pages: the post editor (the post and one variant form per channel), the
workflow's small forms (schedule, reschedule, reject), the calendar's filters and the settings.

Choices that name rows (channels, campaigns, media) are built from the workspace, so a value from another
workspace is refused as an invalid choice naming the field, never looked up. Times are typed in the
workspace's time zone and turned into UTC here, with the same rules as scheduling.to_utc.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django import forms
from django.utils.translation import gettext_lazy as _

from smmdesk.business.fields import encodable_text
from smmdesk.publishing import scheduling, validation
from smmdesk.publishing.besttime import publishing_channels
from smmdesk.publishing.models import UTM_KEYS, Campaign, MediaAsset, Post, Variant

FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2199, 12, 31)
UTM_LABELS = {
    "source": _("Source (utm_source)"),
    "medium": _("Medium (utm_medium)"),
    "campaign": _("Campaign (utm_campaign)"),
    "content": _("Content (utm_content)"),
    "term": _("Term (utm_term)"),
}
ANY = [("", _("Any"))]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class SafeTextMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(encodable_text)


def check_date(value: date | None, label) -> None:
    if value is not None and not FIRST_DATE <= value <= LAST_DATE:
        raise forms.ValidationError(
            _("%(field)s: enter a date between 2000 and 2199."), params={"field": label}, code="range"
        )


def local_moment(day: date, wall: time, workspace) -> datetime:
    """The aware UTC moment of a wall-clock time on a day in the workspace's time zone."""
    return scheduling.to_utc(
        datetime.combine(day, wall.replace(second=0, microsecond=0)), scheduling.workspace_zone(workspace)
    )


class PostForm(SafeTextMixin, forms.Form):
    title = forms.CharField(
        label=_("Internal name"),
        required=False,
        max_length=200,
        help_text=_("Only your team sees it: in the calendar and the lists."),
    )
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)
    new_campaign = forms.CharField(
        label=_("Or a new campaign"), required=False, max_length=120, help_text=_("Created when you save.")
    )
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput)
    time = forms.TimeField(label=_("Time"), required=False, widget=TimeInput)
    recurrence = forms.ChoiceField(label=_("Repeats"), required=False, choices=Post.Recurrence.choices)
    recurrence_until = forms.DateField(label=_("Repeat until"), required=False, widget=DateInput)
    channels = forms.TypedMultipleChoiceField(
        label=_("Channels"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one channel to publish to.")},
    )

    def __init__(self, *args, workspace, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["campaign"].choices = [("", _("No campaign"))] + [
            (c.pk, c.name) for c in Campaign.objects.filter(workspace=workspace)
        ]
        self.fields["channels"].choices = [(c.pk, c.name) for c in channels]
        zone = scheduling.workspace_zone(workspace)
        self.fields["time"].help_text = _("In the business's time zone, %(zone)s.") % {"zone": zone.key}

    def clean_date(self):
        check_date(self.cleaned_data["date"], self.fields["date"].label)
        return self.cleaned_data["date"]

    def clean_recurrence_until(self):
        check_date(self.cleaned_data["recurrence_until"], self.fields["recurrence_until"].label)
        return self.cleaned_data["recurrence_until"]

    def clean(self):
        data = super().clean()
        day, wall = data.get("date"), data.get("time")
        if (day is None) != (wall is None) and "date" not in self.errors and "time" not in self.errors:
            missing = "time" if wall is None else "date"
            self.add_error(missing, _("Enter both the date and the time, or neither to plan it later."))
        data["scheduled_at"] = local_moment(day, wall, self.workspace) if day and wall else None
        if data.get("recurrence") and data["scheduled_at"] is None and "date" not in self.errors:
            self.add_error("date", _("A repeating post needs the date and time of its first run."))
        until = data.get("recurrence_until")
        if until and day and until < day:
            self.add_error("recurrence_until", _("The last repeat cannot be before the first run."))
        return data


def split_hashtags(value: str) -> list[str]:
    """Hashtags as typed ("#sale, spring haircut"), each without its "#"; validation.py judges them."""
    return [word.lstrip("#") for word in value.replace(",", " ").split() if word.lstrip("#")]


class VariantForm(SafeTextMixin, forms.Form):
    """What one channel gets; prefixed "v<channel id>" in the editor. The network's rules (length as it
    counts, media, links, first comment) are the use case's (validation.py); its errors come back here
    by field (EditorForms.add_errors)."""

    text = forms.CharField(
        label=_("Text"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    media = forms.TypedMultipleChoiceField(
        label=_("Media"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    link = forms.CharField(
        label=_("Link"),
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    utm_source = forms.CharField(label=UTM_LABELS["source"], required=False, max_length=100)
    utm_medium = forms.CharField(label=UTM_LABELS["medium"], required=False, max_length=100)
    utm_campaign = forms.CharField(label=UTM_LABELS["campaign"], required=False, max_length=100)
    utm_content = forms.CharField(label=UTM_LABELS["content"], required=False, max_length=100)
    first_comment = forms.CharField(
        label=_("First comment"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Posted under the post right after it: a good place for the link or the hashtags."),
    )
    hashtags = forms.CharField(
        label=_("Hashtags"),
        required=False,
        max_length=2000,
        help_text=_("Separated by commas or spaces, with or without #. Added after the text."),
    )

    def __init__(self, *args, channel, assets, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.limits = validation.limits_for(channel)
        self.fields["media"].choices = [(a.pk, a.original_name) for a in assets]
        if not self.limits.supports_first_comment:
            del self.fields["first_comment"]
        if not self.limits.supports_link:
            for name in ("link", *(f"utm_{key}" for key in UTM_KEYS)):
                self.fields.pop(name, None)
        self.fields["text"].widget.attrs.update(
            {
                "data-max-length": str(self.limits.max_text),
                # The lower limit once a picture is chosen (Telegram's caption), for the live counter.
                "data-max-caption": str(validation.text_limit(self.limits, True)),
                "data-count-kind": channel.kind,
                "data-link-in-text": "1" if channel.kind in validation.LINK_IN_TEXT else "",
            }
        )

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "channel": self.channel.pk,
            "text": data.get("text", "").replace("\r\n", "\n"),
            "media": list(data.get("media") or []),
            "link": data.get("link", "").strip(),
            "utm": {
                key: data[f"utm_{key}"].strip() for key in UTM_KEYS if data.get(f"utm_{key}", "").strip()
            },
            "first_comment": data.get("first_comment", "").replace("\r\n", "\n"),
            "hashtags": split_hashtags(data.get("hashtags", "")),
        }


def variant_initial(variant: Variant) -> dict:
    utm = variant.utm if isinstance(variant.utm, dict) else {}
    return {
        "text": variant.text,
        "media": [a.pk for a in variant.media.all()],
        "link": variant.link,
        **{f"utm_{key}": utm.get(key, "") for key in UTM_KEYS},
        "first_comment": variant.first_comment,
        "hashtags": " ".join(f"#{tag}" for tag in variant.hashtags or []),
    }


def post_initial(post: Post, workspace) -> dict:
    initial = {
        "title": post.title,
        "campaign": post.campaign_id,
        "recurrence": post.recurrence,
        "recurrence_until": post.recurrence_until,
        "channels": [v.channel_id for v in post.variants.all()],
    }
    if post.scheduled_at:
        local = scheduling.to_local(post.scheduled_at, scheduling.workspace_zone(workspace))
        initial.update(date=local.date(), time=local.time().replace(second=0, microsecond=0))
    return initial


class EditorForms:
    """The editor's forms together: the post form and one variant form per channel that can publish
    (also for channels not chosen, so switching one on in the browser needs no reload)."""

    def __init__(self, workspace, data=None, post: Post | None = None):
        self.workspace = workspace
        self.post = post
        existing = {v.channel_id: v for v in post.variants.all()} if post is not None else {}
        channels = publishing_channels(workspace)
        # A post keeps its variants on a channel that was disabled since: shown, so nothing vanishes.
        known = {c.pk for c in channels}
        channels += [v.channel for v in existing.values() if v.channel_id not in known]
        self.channels = channels
        self.assets = list(
            MediaAsset.objects.filter(workspace=workspace).order_by("-created_at", "-pk")[:200]
        )
        self.post_form = PostForm(
            data,
            workspace=workspace,
            channels=channels,
            initial=post_initial(post, workspace) if post is not None else {},
        )
        self.variant_forms = [
            VariantForm(
                data,
                prefix=f"v{channel.pk}",
                channel=channel,
                assets=self.assets,
                initial=variant_initial(existing[channel.pk]) if channel.pk in existing else {},
            )
            for channel in channels
        ]

    def chosen(self) -> list[int]:
        if self.post_form.is_bound:
            raw = self.post_form.data.getlist("channels") if hasattr(self.post_form.data, "getlist") else []
            return [int(v) for v in raw if str(v).isdigit()]
        return list(self.post_form.initial.get("channels", []))

    def is_valid(self) -> bool:
        ok = self.post_form.is_valid()
        chosen = set(self.post_form.cleaned_data.get("channels") or []) if ok else set(self.chosen())
        for form in self.variant_forms:
            # Only the chosen channels' fields count; the others are unused until switched on.
            if form.channel.pk in chosen:
                ok = form.is_valid() and ok
        return ok

    def data(self) -> dict:
        """The input of actions.create_post / update_post."""
        post = self.post_form.cleaned_data
        chosen = post["channels"]
        return {
            "title": post["title"].strip(),
            "campaign": post["campaign"],
            "new_campaign": post["new_campaign"].strip(),
            "scheduled_at": post["scheduled_at"],
            "recurrence": post["recurrence"] or "",
            "recurrence_until": post["recurrence_until"],
            "variants": [form.values() for form in self.variant_forms if form.channel.pk in chosen],
        }

    def add_errors(self, errors: list[tuple[str, str]]) -> None:
        """Put a use case's (field, message) pairs at their fields; "variants.<i>.<field>" counts the
        chosen channels in the order data() listed them."""
        chosen = [
            form
            for form in self.variant_forms
            if form.channel.pk in self.post_form.cleaned_data.get("channels", [])
        ]
        for name, message in errors:
            parts = name.split(".")
            if (
                parts[0] == "variants"
                and len(parts) >= 2
                and parts[1].isdigit()
                and int(parts[1]) < len(chosen)
            ):
                form = chosen[int(parts[1])]
                field = parts[2] if len(parts) > 2 else None
                if field == "utm":
                    field = "utm_source"
                form.add_error(field if field in form.fields else None, message)
            elif name in self.post_form.fields:
                self.post_form.add_error(name, message)
            elif name == "scheduled_at":
                self.post_form.add_error("date", message)
            else:
                self.post_form.add_error(None, message)

    def unsaved(self):
        """(channel, unsaved Variant, media) for each chosen channel as typed now, for the preview;
        fields that do not parse are left out rather than refused."""
        chosen = set(self.chosen())
        by_id = {a.pk: a for a in self.assets}
        for form in self.variant_forms:
            if form.channel.pk not in chosen:
                continue
            form.is_valid()
            data = getattr(form, "cleaned_data", {})
            values = form.values() if not form.errors else {}
            variant = Variant(
                channel=form.channel,
                text=values.get("text", ""),
                link=values.get("link", ""),
                utm=values.get("utm", {}),
                first_comment=values.get("first_comment", ""),
                hashtags=values.get("hashtags", []),
            )
            yield form.channel, variant, [by_id[pk] for pk in data.get("media") or [] if pk in by_id]


class ScheduleForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput)
    time = forms.TimeField(label=_("Time"), widget=TimeInput)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_date(self):
        check_date(self.cleaned_data["date"], self.fields["date"].label)
        return self.cleaned_data["date"]

    def moment(self) -> datetime:
        return local_moment(self.cleaned_data["date"], self.cleaned_data["time"], self.workspace)


class RescheduleForm(forms.Form):
    """A new day for a post (the calendar's drag and drop, or the date field beside it); the hour when
    dropped on the week view's grid, or a time typed. Whatever is not given keeps its local value."""

    date = forms.DateField(label=_("New date"), widget=DateInput)
    hour = forms.IntegerField(label=_("Hour"), required=False, min_value=0, max_value=23)
    time = forms.TimeField(label=_("Time"), required=False, widget=TimeInput)

    def clean_date(self):
        check_date(self.cleaned_data["date"], self.fields["date"].label)
        return self.cleaned_data["date"]

    def moment(self, post: Post, workspace) -> datetime | None:
        zone = scheduling.workspace_zone(workspace)
        current = scheduling.to_local(post.scheduled_at, zone).time() if post.scheduled_at else None
        wall = self.cleaned_data.get("time")
        if wall is None and self.cleaned_data.get("hour") is not None:
            wall = time(self.cleaned_data["hour"], current.minute if current else 0)
        if wall is None:
            wall = current
        if wall is None:
            return None
        return local_moment(self.cleaned_data["date"], wall, workspace)


class RejectForm(SafeTextMixin, forms.Form):
    comment = forms.CharField(
        label=_("What should change"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what should change, so the author can fix it.")},
    )


class CalendarFilterForm(forms.Form):
    channel = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=ANY + list(Post.State.choices))
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)

    def __init__(self, data, *, workspace):
        super().__init__(data)
        from smmdesk.channels.models import Channel

        self.fields["channel"].choices = ANY + [
            (c.pk, c.name) for c in Channel.objects.filter(workspace=workspace)
        ]
        self.fields["campaign"].choices = ANY + [
            (c.pk, c.name) for c in Campaign.objects.filter(workspace=workspace)
        ]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}


class SettingsForm(forms.Form):
    approval_required = forms.BooleanField(
        label=_("Posts need approval"),
        required=False,
        help_text=_(
            "On: a content manager's post waits for an SMM manager or the owner to approve it. "
            "Off: whoever writes a post may schedule it."
        ),
    )
