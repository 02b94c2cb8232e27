"""Forms of the keywords pages: the query filters, a query added by hand, the selections that merge,
split and move, renaming and the main query, the volume upload and the negative keywords and landmarks."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smmdesk.audience.forms import SafeForm
from smmdesk.keywords.manual import LANGUAGES, MAX_QUERY
from smmdesk.keywords.models import Intent, Kind

ANY = ""
NO_CLUSTER = "none"
LANGUAGE_CHOICES = [(code, label) for code, label in LANGUAGES.items()]


def add_errors(form: forms.Form, error) -> None:
    """A refused use case next to its field, or above the form when it names none of them."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


class QueryFilterForm(SafeForm):
    """Read from the address (GET): a filter left empty keeps every query."""

    q = forms.CharField(label=_("Text"), required=False, max_length=MAX_QUERY)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[(ANY, _("any")), *Kind.choices])
    intent = forms.ChoiceField(label=_("Intent"), required=False, choices=[(ANY, _("any")), *Intent.choices])
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[(ANY, _("any")), *LANGUAGE_CHOICES]
    )
    cluster = forms.ChoiceField(label=_("Cluster"), required=False)
    excluded = forms.ChoiceField(
        label=_("Negative keywords"),
        required=False,
        choices=[(ANY, _("any")), ("no", _("kept")), ("yes", _("excluded"))],
    )
    min_volume = forms.IntegerField(label=_("Volume at least"), required=False, min_value=0, max_value=10**9)

    def __init__(self, *args, clusters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].choices = [
            (ANY, _("any")),
            (NO_CLUSTER, _("not in a cluster")),
            *((str(c.pk), c.name) for c in clusters),
        ]

    def apply(self, keywords):
        data = self.cleaned_data
        if data.get("q"):
            keywords = keywords.filter(query__icontains=data["q"])
        for name in ("kind", "intent", "language"):
            if data.get(name):
                keywords = keywords.filter(**{name: data[name]})
        if data.get("cluster") == NO_CLUSTER:
            keywords = keywords.filter(cluster__isnull=True)
        elif data.get("cluster"):
            keywords = keywords.filter(cluster_id=int(data["cluster"]))
        if data.get("excluded"):
            keywords = keywords.filter(excluded=data["excluded"] == "yes")
        if data.get("min_volume") is not None:
            keywords = keywords.filter(volume__gte=data["min_volume"])
        return keywords


class QueryForm(SafeForm):
    query = forms.CharField(label=_("Query"), max_length=MAX_QUERY)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)


def _ids(label, queryset):
    return forms.ModelMultipleChoiceField(
        label=label, queryset=queryset, widget=forms.CheckboxSelectMultiple, required=True
    )


class MergeForm(forms.Form):
    def __init__(self, *args, clusters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clusters"] = _ids(_("Clusters"), clusters)
        self.fields["clusters"].error_messages["required"] = _("Select at least two clusters to merge.")

    def clean_clusters(self):
        chosen = self.cleaned_data["clusters"]
        if len(chosen) < 2:
            raise forms.ValidationError(_("Select at least two clusters to merge."))
        return list(chosen)


class MembersForm(forms.Form):
    """Queries selected in one cluster: split them into a new cluster or move them to another one."""

    name = forms.CharField(label=_("Name of the new cluster"), required=False, max_length=200)

    def __init__(self, *args, members, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keywords"] = _ids(_("Queries"), members)
        self.fields["keywords"].error_messages["required"] = _("Select at least one query.")
        if targets is not None:
            self.fields["target"] = forms.ModelChoiceField(
                label=_("Move to"), queryset=targets, required=True, empty_label=_("— choose a cluster —")
            )


class RenameForm(SafeForm):
    name = forms.CharField(label=_("Name"), max_length=200)


class MainForm(forms.Form):
    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keyword"] = forms.ModelChoiceField(
            label=_("Main query"), queryset=members, empty_label=None
        )


FORMATS = [
    ("auto", _("Recognise the file")),
    ("wordstat", _("Yandex Wordstat export")),
    ("planner", _("Google Keyword Planner (CSV, UTF-16, tabs)")),
    ("generic", _("Any CSV: query and volume columns")),
]


class VolumesForm(forms.Form):
    file = forms.FileField(
        label=_("File"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,text/csv"})
    )
    fmt = forms.ChoiceField(label=_("Format"), choices=FORMATS, initial="auto")


class NegativeForm(SafeForm):
    phrase = forms.CharField(label=_("Negative keyword"), max_length=120)


class LandmarkForm(SafeForm):
    name = forms.CharField(label=_("Landmark"), max_length=120)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
