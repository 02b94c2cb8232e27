"""An adapter's typed config: splitting it into plain fields and secrets (stored encrypted), and validating
input against it.

Forms and the API both end in `validate()`, so a value is accepted or refused the same way whichever door
it came through, and each refusal names the config field it is about.
"""

from __future__ import annotations

import types
import typing

from django.utils.translation import gettext as _
from pydantic import BaseModel, SecretStr, ValidationError


class ConfigInvalid(Exception):
    """Input that does not fit the config; `errors` holds (field name or None, message) pairs."""

    def __init__(self, errors: list[tuple[str | None, str]]):
        super().__init__("; ".join(f"{field or 'config'}: {message}" for field, message in errors))
        self.errors = errors


def is_secret_field(annotation) -> bool:
    if annotation is SecretStr:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return SecretStr in typing.get_args(annotation)
    return False


def secret_names(model: type[BaseModel]) -> list[str]:
    return [name for name, f in model.model_fields.items() if is_secret_field(f.annotation)]


def split(config: BaseModel) -> tuple[dict, dict]:
    secret = set(secret_names(type(config)))
    plain = config.model_dump(mode="json", exclude=secret)
    hidden = {
        name: getattr(config, name).get_secret_value() for name in secret if getattr(config, name) is not None
    }
    return plain, hidden


def merge_secrets(model: type[BaseModel], values: dict, current: dict, clear=()) -> dict:
    """Secrets are never shown back, so a blank or missing secret means "keep the stored one", and so
    does the {"set": true} placeholder the API shows, so a client can send back what it read.

    `clear` names optional secrets the person asked to remove; an explicit None (API) does the same.
    """
    merged = dict(values)
    for name in secret_names(model):
        value = merged.get(name)
        required = model.model_fields[name].is_required()
        if name in clear or (name in merged and value is None and not required):
            merged[name] = None
        elif value is None or value == "" or isinstance(value, dict):
            merged.pop(name, None)
            if name in current:
                merged[name] = current[name]
    return merged


def _message(error: dict) -> str:
    # Pydantic's own messages are English only and may quote the input (a secret, perhaps), so the
    # common kinds get our translated wording and the rest only their generic text.
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        return _("Enter at most %(count)s characters.") % {"count": ctx.get("max_length")}
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("This field is required.")
        return _("Enter at least %(count)s characters.") % {"count": ctx.get("min_length")}
    if kind == "string_pattern_mismatch":
        return _("Enter a valid value.")
    if kind in ("string_type", "string_sub_type"):
        return _("Enter text.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Enter true or false.")
    if kind in ("literal_error", "enum"):
        return _("Select a valid choice.")
    if kind.startswith("url_"):
        return _("Enter a valid URL.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("Enter a value of at least %(limit)s.") % {"limit": ctx.get("ge", ctx.get("gt"))}
    if kind in ("less_than_equal", "less_than"):
        return _("Enter a value of at most %(limit)s.") % {"limit": ctx.get("le", ctx.get("lt"))}
    if kind == "value_error":
        # An adapter's own validator: its message is meant for people (and translated there if needed).
        return str(error.get("msg", "")).removeprefix("Value error, ") or _("Enter a valid value.")
    return _("Enter a valid value.")


def validate(model: type[BaseModel], values: dict) -> BaseModel:
    """Build the typed config from plain values, or raise ConfigInvalid naming each field at fault."""
    if not isinstance(values, dict):
        raise ConfigInvalid([(None, _("Expected an object of settings."))])
    errors: list[tuple[str | None, str]] = [
        (str(name), _("Unknown setting.")) for name in values if name not in model.model_fields
    ]
    try:
        config = model.model_validate({k: v for k, v in values.items() if k in model.model_fields})
    except ValidationError as exc:
        for error in exc.errors():
            loc = error.get("loc") or ()
            field = str(loc[0]) if loc and loc[0] in model.model_fields else None
            errors.append((field, _message(error)))
        config = None
    if errors:
        raise ConfigInvalid(errors)
    return config
