"""The channel settings form, generated from an adapter's typed config.

Adding a network needs no form code: each pydantic field becomes a form field of the matching type, its
title the label and its description the help text. The form only turns the browser's strings into
typed values; the config itself is validated by actions.build_config (the same path the API takes), and
each refusal is put back on the field it names.
"""

from __future__ import annotations

import types
import typing

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from pydantic import AnyUrl, BaseModel, SecretStr
from pydantic.fields import FieldInfo

from smmdesk.channels import actions
from smmdesk.channels.base import Adapter
from smmdesk.channels.config import is_secret_field
from smmdesk.channels.models import Channel

CLEAR_SUFFIX = "__clear"
NAME_MAX = Channel._meta.get_field("name").max_length


def _inner(annotation):
    """`X | None` → (X, True); anything else → (annotation, False)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _constraint(info: FieldInfo, kind, attr):
    for item in info.metadata:
        if isinstance(item, kind):
            return getattr(item, attr)
    return None


def _bounds(info: FieldInfo, step):
    """Inclusive (min, max) for a number field; strict bounds move by one step for whole numbers."""
    low, high = _constraint(info, Ge, "ge"), _constraint(info, Le, "le")
    if low is None and _constraint(info, Gt, "gt") is not None:
        low = _constraint(info, Gt, "gt") + step
    if high is None and _constraint(info, Lt, "lt") is not None:
        high = _constraint(info, Lt, "lt") - step
    return low, high


def _is_url(name: str, annotation) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, AnyUrl):
        return True
    return annotation is str and (name == "url" or name.endswith("_url"))


def _text(value: str | None):
    # Adapter titles and descriptions are marked with gettext_noop; translate them when shown.
    return _(value) if value else ""


def config_field(name: str, info: FieldInfo, *, editing: bool, secret_is_set: bool) -> forms.Field:
    annotation, optional = _inner(info.annotation)
    label = _text(info.title) or name.replace("_", " ").capitalize()
    help_text = _text(info.description)
    required = info.is_required()
    initial = None if required else info.get_default(call_default_factory=True)
    if is_secret_field(info.annotation) or annotation is SecretStr:
        if editing and secret_is_set:
            keep = _("A value is stored; leave blank to keep it.")
            help_text = format_lazy("{} {}", help_text, keep) if help_text else keep
        # Never rendered back into the page, and not the person's own login password for the browser.
        widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        return forms.CharField(
            label=label,
            help_text=help_text,
            widget=widget,
            required=required and not (editing and secret_is_set),
            max_length=_constraint(info, MaxLen, "max_length"),
        )
    common = {"label": label, "help_text": help_text, "initial": initial}
    if typing.get_origin(annotation) is typing.Literal:
        # Adapters may name their values for people: json_schema_extra={"choice_labels": {value: label}}.
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        names = extra.get("choice_labels") or {}
        choices = [(value, _text(names.get(value)) or value) for value in typing.get_args(annotation)]
        if optional:
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, required=required, **common)
    if annotation is bool:
        return forms.BooleanField(required=False, **common)
    if annotation in (int, float):
        low, high = _bounds(info, step=1 if annotation is int else 0)
        field_class = forms.IntegerField if annotation is int else forms.FloatField
        return field_class(required=required, min_value=low, max_value=high, **common)
    if _is_url(name, annotation):
        common["initial"] = str(initial) if initial is not None else None
        return forms.URLField(
            required=required,
            assume_scheme="https",
            max_length=_constraint(info, MaxLen, "max_length"),
            **common,
        )
    # str and anything else: text, checked by the config's own validation.
    return forms.CharField(
        required=required,
        max_length=_constraint(info, MaxLen, "max_length"),
        min_length=_constraint(info, MinLen, "min_length") if required else None,
        **common,
    )


class ChannelForm(forms.Form):
    """Base for the generated forms; `build_form_class` adds the adapter's config fields."""

    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX,
        help_text=_("How the team will see this channel, e.g. “VK group” or “Telegram bot”."),
    )
    adapter_class: type[Adapter]
    config_fields: dict[str, FieldInfo] = {}
    secret_fields: frozenset[str] = frozenset()

    def __init__(self, *args, workspace=None, channel: Channel | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace, self.channel = workspace, channel

    def clean_name(self):
        # Checked here too, so a taken name is reported together with the other fields' errors.
        name = self.cleaned_data["name"]
        if self.workspace is not None:
            _name, errors = actions.clean_name(
                self.workspace, name, self.channel.pk if self.channel else None
            )
            if errors:
                raise forms.ValidationError(errors[0][1])
        return name.strip()

    def clean(self):
        cleaned = super().clean()
        # Only once every config field has a typed value: pydantic would repeat the form's own complaints.
        if not any(name in self.errors for name in self.config_fields):
            current = {}
            if self.channel is not None:
                try:
                    current = self.channel.secret_values()
                except ValueError:
                    current = {}  # unreadable with today's key: the secrets must be entered again
            _config, errors = actions.build_config(
                self.adapter_class, self.config_values(), current, self.clear_requests()
            )
            self.apply_errors(errors)
        return cleaned

    def config_values(self) -> dict:
        """Typed config values from the cleaned form; blank secrets stay blank ("keep the stored one")."""
        values = {}
        for name, info in self.config_fields.items():
            value = self.cleaned_data.get(name)
            if name in self.secret_fields:
                values[name] = value or ""
            elif value in (None, "") and not info.is_required():
                # A cleared optional field goes back to its default rather than keeping the old value.
                values[name] = info.get_default(call_default_factory=True)
            else:
                values[name] = value
        return values

    def clear_requests(self) -> set[str]:
        return {name for name in self.secret_fields if self.cleaned_data.get(name + CLEAR_SUFFIX)}

    def apply_errors(self, errors) -> None:
        """Put (field, message) pairs from actions onto the form; unknown fields become form errors."""
        for field, message in errors:
            self.add_error(field if field in self.fields else None, message)


def build_form_class(adapter_class: type[Adapter], channel: Channel | None = None) -> type[ChannelForm]:
    model: type[BaseModel] = adapter_class.Config
    if "name" in model.model_fields:
        raise ImproperlyConfigured(
            f"{adapter_class.__name__}.Config may not have a field called 'name': "
            "the form uses it for the channel's own name"
        )
    editing = channel is not None
    stored = channel.secrets_set() if editing else {}
    attrs: dict = {}
    secrets = set()
    for name, info in model.model_fields.items():
        is_secret = is_secret_field(info.annotation)
        attrs[name] = config_field(name, info, editing=editing, secret_is_set=stored.get(name, False))
        if is_secret:
            secrets.add(name)
            if editing and stored.get(name) and not info.is_required():
                attrs[name + CLEAR_SUFFIX] = forms.BooleanField(
                    required=False, label=format_lazy(_("Remove the stored “{}”"), attrs[name].label)
                )
    attrs.update(
        adapter_class=adapter_class, config_fields=dict(model.model_fields), secret_fields=frozenset(secrets)
    )
    return type(f"{adapter_class.__name__}Form", (ChannelForm,), attrs)


def initial_for(channel: Channel) -> dict:
    """Edit form starting values: the name and plain config; secrets are never put into a page."""
    secret = {
        name
        for name, info in channel.adapter_class.Config.model_fields.items()
        if is_secret_field(info.annotation)
    }
    return {"name": channel.name, **{k: v for k, v in channel.config.items() if k not in secret}}
