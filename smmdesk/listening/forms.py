"""The listening pages' forms: the stream's filters, a tracked term, a source.

They check only the shape of what was typed (a number is a number, a choice is one of the offered ones);
the rules (a phrase too short, an interval out of range, a channel that cannot be a source) belong to
listening.actions, whose InvalidInput errors are put next to their fields with `add_action_errors`.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from smmdesk.listening.models import Mention, Sentiment, Source, TrackedTerm

MAX_ID = 2**62
MAX_QUERY = 200
MIN_INTERVAL, MAX_INTERVAL = 5, 1440


def add_action_errors(form: forms.Form, errors) -> None:
    """Put a use case's (field, message) errors next to the form's fields; the rest above the form."""
    for field, message in errors:
        form.add_error(field if field in form.fields else None, str(message))


class StreamFilterForm(forms.Form):
    sentiment = forms.ChoiceField(label=_("Sentiment"), required=False)
    term = forms.TypedChoiceField(label=_("Term"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False)
    source = forms.TypedChoiceField(label=_("Source"), required=False, coerce=int, empty_value=None)
    q = forms.CharField(label=_("Words"), required=False, max_length=MAX_QUERY)
    before = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)

    def __init__(self, *args, terms=(), sources=(), **kwargs):
        super().__init__(*args, **kwargs)
        anything = [("", _("All"))]
        self.fields["sentiment"].choices = anything + list(Sentiment.choices)
        self.fields["status"].choices = anything + list(Mention.Status.choices)
        self.fields["term"].choices = anything + [(str(t.pk), t.phrase) for t in terms]
        self.fields["source"].choices = anything + [(str(s.pk), str(s.channel.name)) for s in sources]
        self.fields["q"].widget.attrs["type"] = "search"

    def filters(self) -> dict:
        """The valid filters as listening.actions.stream's keywords; a refused one is left out."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return {
            "sentiment": data.get("sentiment") or "",
            "term_id": data.get("term"),
            "status": data.get("status") or "",
            "source_id": data.get("source"),
            "query": (data.get("q") or "").strip(),
        }

    def before_id(self) -> int | None:
        data = getattr(self, "cleaned_data", {})
        return data.get("before")


def language_choices(workspace) -> list[tuple[str, str]]:
    """The product's languages and the business's own, each once, in that order."""
    names = dict(settings.LANGUAGES)
    profile = getattr(workspace, "profile", None)
    codes = list(names) + [c for c in (getattr(profile, "languages", None) or []) if isinstance(c, str)]
    seen: dict[str, str] = {}
    for code in codes:
        seen.setdefault(code, str(names.get(code, code)))
    return list(seen.items())


class TermForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=TrackedTerm.Kind.choices)
    phrase = forms.CharField(
        label=_("Phrase"),
        max_length=200,
        help_text=_(
            "As people write it: a name, a product, or a hashtag with its #. Any form of the words counts."
        ),
    )
    exclusions = forms.CharField(
        label=_("Exclusions"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One phrase per line. A mention containing one of them does not count."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only mentions in these languages count. None ticked: any language."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = language_choices(workspace)

    @classmethod
    def initial_for(cls, term: TrackedTerm) -> dict:
        return {
            "kind": term.kind,
            "phrase": term.phrase,
            "exclusions": "\n".join(str(x) for x in term.exclusions or []),
            "languages": [str(x) for x in term.languages or []],
            "active": term.active,
        }

    def data_for_action(self, with_active: bool) -> dict:
        data = dict(self.cleaned_data)
        if not with_active:
            data.pop("active", None)
        return data


def kind_label(kind: str) -> str:
    try:
        return str(Source.Kind(kind).label)
    except ValueError:
        return str(kind)


def interval_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Poll every (minutes)"),
        min_value=MIN_INTERVAL,
        max_value=MAX_INTERVAL,
        initial=15,
        help_text=_("From 5 minutes to once a day (1440)."),
    )


class SourceForm(forms.Form):
    """A new source: which channel, and how often it is polled."""

    channel = forms.TypedChoiceField(label=_("Channel"), coerce=int)
    interval_minutes = interval_field()

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", "—")] + [
            (str(channel.pk), f"{channel.name} · {kind_label(kind)}") for channel, kind in choices
        ]


class SourceEditForm(forms.Form):
    interval_minutes = interval_field()
    active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("A paused source is not polled until switched on.")
    )
