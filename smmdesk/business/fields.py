"""Form fields for the business profile's own kinds of input: lists typed as text, prices written the
local way, opening hours as ranges, 24:00 as a closing time."""

import re
from datetime import time
from functools import lru_cache
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from smmdesk.business.hours import END_OF_DAY

MAX_INTERVALS_PER_DAY = 6


def encodable_text(value):
    """JSON can carry lone surrogates ("\\ud800"); no database can store them."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(_("The text contains characters that are not allowed."), code="invalid")


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class ListField(forms.CharField):
    """A list of short entries typed one per line or separated by commas; stored as a JSON list.

    Entries are trimmed, empty ones dropped and repeats (ignoring case) removed, keeping the first.
    """

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *, max_items=50, max_item_length=100, **kwargs):
        self.max_items, self.max_item_length = max_items, max_item_length
        kwargs.setdefault("required", False)
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return []
        pieces = value if isinstance(value, list | tuple) else [value]
        entries, seen = [], set()
        for piece in pieces:
            if not isinstance(piece, str):
                raise ValidationError(_("Each entry must be text."), code="invalid")
            for entry in re.split(r"[\n\r,;]+", piece):
                entry = " ".join(entry.split())
                if entry and entry.casefold() not in seen:
                    seen.add(entry.casefold())
                    entries.append(entry)
        return entries

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        for entry in value:
            encodable_text(entry)
        if any("\x00" in entry for entry in value):
            raise ValidationError(_("Null characters are not allowed."), code="null_characters_not_allowed")
        too_long = [entry for entry in value if len(entry) > self.max_item_length]
        if too_long:
            raise ValidationError(
                _("“%(entry)s…” is too long: keep each entry under %(max)d characters."),
                params={"entry": too_long[0][:30], "max": self.max_item_length},
                code="max_length",
            )
        if len(value) > self.max_items:
            raise ValidationError(
                _("Enter at most %(max)d entries (you entered %(count)d)."),
                params={"max": self.max_items, "count": len(value)},
                code="max_items",
            )

    def run_validators(self, value):
        # CharField's max_length validators would measure the list, not the text.
        return None


class PriceField(forms.DecimalField):
    """Accepts both 1500.50 and 1 500,50, the way prices are written in Russian and Slovak."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace("\u00a0", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)


class ClockTimeField(forms.TimeField):
    """A time of day that also understands 24:00 as the end of the day."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() in ("24:00", "24:00:00"):
            return END_OF_DAY
        return super().to_python(value)


class WebAddressField(forms.URLField):
    """http and https only: other schemes are not pages a customer can open."""

    default_error_messages = {"invalid": _("Enter an address starting with http:// or https://.")}
    default_validators = [URLValidator(schemes=["http", "https"])]

    def __init__(self, **kwargs):
        super().__init__(assume_scheme="https", **kwargs)


def format_time(value: time) -> str:
    return "24:00" if value == END_OF_DAY else value.strftime("%H:%M")


def format_intervals(intervals) -> str:
    return ", ".join(f"{format_time(opens)}-{format_time(closes)}" for opens, closes in intervals)


INTERVAL_RE = re.compile(
    r"(?P<oh>\d{1,2})(?:[:.](?P<om>\d{2}))?\s*(?:-|–|—|to|до)\s*(?P<ch>\d{1,2})(?:[:.](?P<cm>\d{2}))?", re.I
)


def _clock(hours: str, minutes: str | None, closing: bool) -> time | None:
    h, m = int(hours), int(minutes or 0)
    if closing and h == 24 and m == 0:
        return END_OF_DAY
    if h > 23 or m > 59:
        return None
    return time(h, m)


class IntervalsField(forms.CharField):
    """One day's opening hours typed as ranges, e.g. "09:00-13:00, 14:00-19:00"; empty means closed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return format_intervals(value)
        return value

    def clean(self, value):
        text = super().clean(value)
        pieces = [piece.strip() for piece in re.split(r"[,;\n]+", text) if piece.strip()]
        if len(pieces) > MAX_INTERVALS_PER_DAY:
            raise ValidationError(
                ngettext_lazy(
                    "Enter at most %(max)d interval per day.",
                    "Enter at most %(max)d intervals per day.",
                    "max",
                ),
                params={"max": MAX_INTERVALS_PER_DAY},
                code="too_many",
            )
        intervals = []
        for piece in pieces:
            match = INTERVAL_RE.fullmatch(piece)
            if not match:
                raise ValidationError(
                    _("“%(piece)s” is not a time range; write it like 09:00-18:00."),
                    params={"piece": piece[:40]},
                    code="invalid",
                )
            opens = _clock(match["oh"], match["om"], closing=False)
            closes = _clock(match["ch"], match["cm"], closing=True)
            if opens is None or closes is None:
                raise ValidationError(
                    _("“%(piece)s” has a time that does not exist."), params={"piece": piece}, code="invalid"
                )
            if closes <= opens:
                raise ValidationError(
                    _("In “%(piece)s” the closing time must be later than the opening time."),
                    params={"piece": piece},
                    code="order",
                )
            intervals.append((opens, closes))
        intervals.sort()
        for (o1, c1), (o2, c2) in zip(intervals, intervals[1:], strict=False):
            if o2 < c1:
                raise ValidationError(
                    _("%(first)s and %(second)s overlap."),
                    params={"first": format_intervals([(o1, c1)]), "second": format_intervals([(o2, c2)])},
                    code="overlap",
                )
        return intervals


MAX_ID = 2**63 - 1


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, membership):
        return f"{membership.user} ({membership.get_role_display()})"

    def _check_values(self, value):
        # An id beyond the database's integer range would crash the lookup instead of matching nothing.
        for pk in value:
            try:
                number = int(str(pk))
            except (TypeError, ValueError):
                continue
            if not 0 < number <= MAX_ID:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": str(pk)[:30]},
                )
        return super()._check_values(value)
