"""Splitting an adapter's typed config into plain fields and secrets, which are stored encrypted."""

import types
import typing

from pydantic import BaseModel, SecretStr


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
