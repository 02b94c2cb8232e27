"""Channels over the HTTP API. Secrets go in, never out: responses say only whether each one is set."""

from datetime import datetime
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from smmdesk.api import InvalidOut, requires, user_operation
from smmdesk.channels import actions, registry
from smmdesk.channels.base import PostLimits
from smmdesk.channels.config import secret_names
from smmdesk.channels.models import Channel

router = Router(tags=["channels"])


class LimitsOut(Schema):
    max_text: int
    max_media: int
    supports_link: bool
    supports_first_comment: bool
    max_caption: int
    media_required: bool


class KindOut(Schema):
    kind: str
    label: str
    capabilities: list[str]
    limits: LimitsOut
    config_schema: dict[str, Any]


class ChannelOut(Schema):
    id: int
    kind: str
    name: str
    status: str
    enabled: bool
    last_error: str
    account_name: str
    account_url: str
    last_checked_at: datetime | None
    created_at: datetime
    config: dict[str, Any]


class ChannelIn(Schema):
    # Defaults rather than required fields: a missing value is reported by actions together with the
    # config's own errors, and only after the role check (so a forbidden caller always gets 403).
    kind: str = ""
    name: str = ""
    config: dict[str, Any] = {}


class ChannelPatch(Schema):
    name: str | None = None
    config: dict[str, Any] | None = None
    enabled: bool | None = None


class DetailOut(Schema):
    detail: str


def _limits(limits: PostLimits) -> dict:
    return {
        "max_text": limits.max_text,
        "max_media": limits.max_media,
        "supports_link": limits.supports_link,
        "supports_first_comment": limits.supports_first_comment,
        "max_caption": limits.max_caption,
        "media_required": limits.media_required,
    }


def _out(channel: Channel) -> dict:
    config = dict(channel.config)
    # Secret fields appear only as {"set": bool}; their values are never part of any response.
    for name, is_set in channel.secrets_set().items():
        config[name] = {"set": is_set}
    return {
        "id": channel.pk,
        "kind": channel.kind,
        "name": channel.name,
        "status": channel.status,
        "enabled": channel.is_enabled,
        "last_error": channel.last_error,
        "account_name": channel.account_name,
        "account_url": channel.account_url,
        "last_checked_at": channel.last_checked_at,
        "created_at": channel.created_at,
        "config": config,
    }


def _invalid(exc: actions.ChannelInputError):
    # Same shape as the API-wide validation errors: config fields are named "config.<field>".
    errors = []
    for field, message in exc.errors:
        name = field if field in ("name", "kind") else ("config" if field is None else f"config.{field}")
        errors.append({"field": name, "message": str(message)})
    return Status(422, {"detail": "invalid input", "errors": errors})


@router.get("/channel-kinds", response=list[KindOut])
@user_operation
def channel_kinds(request):
    result = []
    for info in actions.describe_kinds():
        model = registry.get(info.kind).Config
        schema = model.model_json_schema()
        # Make the secret fields explicit for clients building their own forms.
        schema["secret"] = secret_names(model)
        result.append(
            {
                "kind": info.kind,
                "label": info.label,
                "capabilities": info.capabilities,
                "limits": _limits(info.limits),
                "config_schema": schema,
            }
        )
    return result


@router.get("/w/{slug}/channels", response=list[ChannelOut])
@requires("channels.view")
def list_channels(request, slug: str):
    return [_out(c) for c in Channel.objects.filter(workspace=request.workspace)]


@router.post("/w/{slug}/channels", response={201: ChannelOut, 422: InvalidOut})
@requires("channels.manage")
def create_channel(request, slug: str, payload: ChannelIn):
    try:
        channel = actions.create_channel(
            request.workspace, payload.kind, payload.name, payload.config, actor=request.user, request=request
        )
    except actions.ChannelInputError as exc:
        return _invalid(exc)
    return Status(201, _out(channel))


@router.get("/w/{slug}/channels/{channel_id}", response=ChannelOut)
@requires("channels.view")
def get_channel(request, slug: str, channel_id: int):
    return _out(get_object_or_404(Channel, pk=channel_id, workspace=request.workspace))


@router.patch("/w/{slug}/channels/{channel_id}", response={200: ChannelOut, 422: InvalidOut})
@requires("channels.manage")
def update_channel(request, slug: str, channel_id: int, payload: ChannelPatch):
    channel = get_object_or_404(Channel, pk=channel_id, workspace=request.workspace)
    try:
        if payload.name is not None or payload.config is not None:
            channel = actions.update_channel(
                channel, name=payload.name, values=payload.config, actor=request.user, request=request
            )
        if payload.enabled is not None and payload.enabled != channel.is_enabled:
            channel = actions.set_enabled(channel, payload.enabled)
    except actions.ChannelInputError as exc:
        return _invalid(exc)
    except Channel.DoesNotExist:
        raise Http404("deleted meanwhile")
    return _out(channel)


@router.delete("/w/{slug}/channels/{channel_id}", response={204: None})
@requires("channels.manage")
def delete_channel(request, slug: str, channel_id: int):
    channel = get_object_or_404(Channel, pk=channel_id, workspace=request.workspace)
    actions.delete_channel(channel, actor=request.user, request=request)
    return Status(204, None)


@router.post("/w/{slug}/channels/{channel_id}/check", response={200: ChannelOut, 409: DetailOut})
@requires("channels.manage")
def check_channel(request, slug: str, channel_id: int):
    channel = get_object_or_404(Channel, pk=channel_id, workspace=request.workspace)
    if not channel.is_enabled:
        return Status(409, {"detail": "the channel is disabled; enable it before checking"})
    checked = actions.check_channel(channel.pk)
    return _out(checked or channel)
