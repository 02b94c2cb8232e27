"""Use cases for channels: add, change, check, disable and delete a connected account.

Secrets never leave this module in clear text except inside the adapter: error texts are scrubbed of them
before they are stored or logged, and audit entries name the fields that changed, never their values.
"""

from __future__ import annotations

import logging
import traceback
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.actions import audit
from smmdesk.accounts.models import AuditEvent, Workspace
from smmdesk.channels import config as channel_config
from smmdesk.channels import health, registry
from smmdesk.channels.base import Adapter, AdapterError, PostLimits
from smmdesk.channels.models import Channel
from smmdesk.lib import crypto

logger = logging.getLogger(__name__)
Status = Channel.Status
NAME_MAX = Channel._meta.get_field("name").max_length
# Shorter secret values are not scrubbed out of error texts: they would blank out ordinary words.
MIN_SCRUB_LENGTH = 4


class ChannelInputError(Exception):
    """Input refused; `errors` holds (field, message) pairs. Field is "name", "kind", a config field name,
    or None for the input as a whole."""

    def __init__(self, errors: list[tuple[str | None, str]]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors


class KindInfo(NamedTuple):
    kind: str
    label: str
    capabilities: list[str]
    limits: PostLimits
    paid: list[str]
    help_text: str


def describe_kinds() -> list[KindInfo]:
    """Every adapter kind with its capabilities, for `smmdesk channels kinds` and the add page."""
    return [
        KindInfo(
            kind,
            str(adapter.label),
            sorted(c.value for c in adapter.capabilities),
            adapter.limits,
            sorted(c.value for c in adapter.paid_capabilities),
            str(adapter.help_text),
        )
        for kind, adapter in sorted(registry.ADAPTERS.items())
    ]


def adapter_for(kind) -> type[Adapter]:
    if not isinstance(kind, str) or kind not in registry.ADAPTERS:
        raise ChannelInputError([("kind", _("Unknown network."))])
    return registry.ADAPTERS[kind]


def clean_name(workspace: Workspace, name, exclude_pk: int | None = None) -> tuple[str, list]:
    if not isinstance(name, str) or not name.strip():
        return "", [("name", _("This field is required."))]
    name = name.strip()
    if len(name) > NAME_MAX:
        return name, [("name", _("Enter at most %(count)s characters.") % {"count": NAME_MAX})]
    taken = Channel.objects.filter(workspace=workspace, name__iexact=name).exclude(pk=exclude_pk).exists()
    if taken:
        return name, [("name", _("A channel with this name already exists in this workspace."))]
    return name, []


def build_config(adapter_cls: type[Adapter], values, current: dict, clear=()):
    """(config, []) or (None, errors): the one validation path for forms and the API, collecting every
    error rather than stopping at the first."""
    if not isinstance(values, dict):
        return None, [(None, _("Expected an object of settings."))]
    merged = channel_config.merge_secrets(adapter_cls.Config, values, current, clear)
    try:
        return channel_config.validate(adapter_cls.Config, merged), []
    except channel_config.ConfigInvalid as exc:
        return None, exc.errors


def _changed_secrets(before: dict, after: dict) -> list[str]:
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def _name_taken() -> ChannelInputError:
    return ChannelInputError([("name", _("A channel with this name already exists in this workspace."))])


def create_channel(workspace: Workspace, kind, name, values, *, actor=None, request=None) -> Channel:
    adapter_cls = adapter_for(kind)
    name, errors = clean_name(workspace, name)
    config, config_errors = build_config(adapter_cls, values, current={})
    if errors or config_errors:
        raise ChannelInputError(errors + config_errors)
    channel = Channel(workspace=workspace, kind=kind, name=name)
    channel.store_config(config)
    _, hidden = channel_config.split(config)
    try:
        with transaction.atomic():
            channel.save()
            # A new channel brings its secrets: that is a secret change worth an audit line.
            audit(
                AuditEvent.Action.CHANNEL_SECRET_CHANGED,
                actor=actor,
                workspace=workspace,
                request=request,
                channel=name,
                kind=kind,
                fields=sorted(hidden),
                created=True,
            )
    except IntegrityError:
        # Two people adding the same name at once: the constraint decides, the loser gets a field error.
        raise _name_taken()
    return channel


def update_channel(
    channel: Channel, *, name=None, values=None, clear=(), actor=None, request=None
) -> Channel:
    """Change the name and/or config. Blank or missing secrets keep their stored value.

    Raises Channel.DoesNotExist if the channel was deleted meanwhile."""
    adapter_cls = adapter_for(channel.kind)
    errors = []
    if name is not None:
        name, errors = clean_name(channel.workspace, name, exclude_pk=channel.pk)
    try:
        with transaction.atomic():
            row = Channel.objects.select_for_update().get(pk=channel.pk, workspace_id=channel.workspace_id)
            try:
                before = row.secret_values()
            except ValueError:
                before = {}  # the old key is gone: the person must enter the secrets again
            config_errors = []
            if values is not None or clear:
                if not isinstance(values, dict | None):
                    raise ChannelInputError(errors + [(None, _("Expected an object of settings."))])
                # Partial input (an API PATCH) changes only what it names; stale keys of an older config
                # version are dropped rather than refused.
                stored = {k: v for k, v in row.config.items() if k in adapter_cls.Config.model_fields}
                config, config_errors = build_config(adapter_cls, {**stored, **(values or {})}, before, clear)
            if errors or config_errors:
                raise ChannelInputError(errors + config_errors)
            fields = ["name"]
            if name is not None:
                row.name = name
            changed = []
            if values is not None or clear:
                old_config, old_secrets = row.config, row.secrets
                row.store_config(config)
                changed = _changed_secrets(before, channel_config.split(config)[1])
                if not changed:
                    # Same values: keep the old ciphertext so a check running meanwhile still counts.
                    row.secrets = old_secrets
                fields += ["config", "secrets"]
                if (changed or row.config != old_config) and row.status != Status.DISABLED:
                    # New credentials make the last check's verdict stale.
                    row.status, row.last_error = Status.NEW, ""
                    fields += ["status", "last_error"]
            row.save(update_fields=fields)
            if changed:
                audit(
                    AuditEvent.Action.CHANNEL_SECRET_CHANGED,
                    actor=actor,
                    workspace=row.workspace,
                    request=request,
                    channel=row.name,
                    kind=row.kind,
                    fields=changed,
                )
    except IntegrityError:
        raise _name_taken()
    return row


def set_enabled(channel: Channel, enabled: bool) -> Channel:
    """Disabled channels are skipped by checks, polling and publishing; enabling asks for a fresh check.

    Raises Channel.DoesNotExist if the channel was deleted meanwhile."""
    rows = Channel.objects.filter(pk=channel.pk, workspace_id=channel.workspace_id)
    if enabled:
        rows.filter(status=Status.DISABLED).update(status=Status.NEW, last_error="")
    else:
        rows.update(status=Status.DISABLED)
    return Channel.objects.get(pk=channel.pk)


def delete_channel(channel: Channel, *, actor=None, request=None) -> None:
    with transaction.atomic():
        deleted, _rows = Channel.objects.filter(pk=channel.pk, workspace_id=channel.workspace_id).delete()
        if deleted:
            audit(
                AuditEvent.Action.CHANNEL_DELETED,
                actor=actor,
                workspace=channel.workspace,
                request=request,
                channel=channel.name,
                kind=channel.kind,
            )


def scrub(text: str, secrets: dict) -> str:
    """Remove this channel's secrets (and any other known one) from a text meant for people or logs."""
    for value in secrets.values():
        if isinstance(value, str) and len(value) >= MIN_SCRUB_LENGTH:
            text = text.replace(value, "***")
    return crypto.redact(text)


def _run_check(channel: Channel):
    """(status, error text, AccountInfo or None) for one check; never raises."""
    if not channel.known_kind:
        return Status.ERROR, _("This network is no longer supported by this installation."), None
    try:
        secrets = channel.secret_values()
    except ValueError:
        return (
            Status.ERROR,
            _("The stored secrets cannot be read with the current encryption key. Enter them again."),
            None,
        )
    try:
        info = channel.adapter().check()
    except AdapterError as exc:
        status = Status.NEEDS_RECONNECT if exc.reconnect else Status.ERROR
        return status, scrub(exc.message or _("The network refused the request."), secrets)[:2000], None
    except Exception as exc:  # noqa: BLE001 - any adapter bug must end as a visible status, not a crash
        # The traceback helps whoever runs the server; scrubbed, because exception texts may quote a token.
        logger.error(
            "channel %s: check crashed: %s",
            channel.pk,
            scrub("".join(traceback.format_exception(exc)), secrets),
        )
        return Status.ERROR, _("The check failed unexpectedly. The details are in the server log."), None
    return Status.OK, "", info


def check_channel(channel_id: int) -> Channel | None:
    """Ask the network whether the credentials work and record the verdict.

    Idempotent, so a task may run it twice: it re-reads the row, skips disabled channels, and writes the
    verdict only if the credentials it checked are still the stored ones (an edit during a slow check wins).
    """
    channel = Channel.objects.select_related("workspace").filter(pk=channel_id).first()
    if channel is None or channel.status == Status.DISABLED:
        return channel
    status, error, info = _run_check(channel)
    changes = {"status": status, "last_error": error, "last_checked_at": timezone.now()}
    if info is not None:
        changes.update(
            account_id=info.external_id[:200], account_name=info.name[:200], account_url=info.url[:200]
        )
    updated = (
        Channel.objects.filter(pk=channel_id, secrets=channel.secrets)
        .exclude(status=Status.DISABLED)
        .update(**changes)
    )
    if updated and status != channel.status and status == Status.NEEDS_RECONNECT:
        # Expired tokens must not fail silently: the owners hear of it at once, once per breakage.
        transaction.on_commit(lambda: health.notify_owners(channel_id), robust=True)
    if updated and status != channel.status and status in (Status.NEEDS_RECONNECT, Status.ERROR):
        # Only the change is logged, so a channel that stays broken does not repeat itself every six hours.
        what = "needs reconnecting" if status == Status.NEEDS_RECONNECT else "check failed"
        logger.warning(
            "channel %s (%s) in workspace %s %s: %s",
            channel_id,
            channel.name,
            channel.workspace.slug,
            what,
            error,
        )
    return Channel.objects.filter(pk=channel_id).first()


def channels_to_recheck() -> list[int]:
    return list(Channel.objects.exclude(status=Status.DISABLED).order_by("pk").values_list("pk", flat=True))
