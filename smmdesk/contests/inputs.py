"""Reading a contest's fields from a form or the API: every refusal names its field.

Contest data (create / update; on update a key left out stays as it is):
    title; variant (id of a published variant of ours) or channel (id) with post_external_id and
    post_url; require_comment, require_repost, require_like, require_member (booleans); comment_pattern,
    pattern_is_regex; opens_at, closes_at (aware, or naive in the business's time zone, or ISO text);
    winners_count; staff_accounts (a list, or text with one per line or comma-separated);
    exclude_winners_days; pseudonymisation ("full", "initials", "hashed").
"""

from __future__ import annotations

from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from smmdesk.channels.base import Capability
from smmdesk.channels.models import Channel
from smmdesk.contests import listing, patterns
from smmdesk.contests.models import Contest
from smmdesk.publishing.models import Variant
from smmdesk.publishing.scheduling import to_utc, workspace_zone

MAX_WINNERS = 1000
MAX_DAYS = 3650
MAX_STAFF = 200
FLAGS = ("require_comment", "require_repost", "require_like", "require_member", "pattern_is_regex")


class ContestError(Exception):
    """A refused use case: (field, message) pairs; "__all__" when no one field is at fault."""

    def __init__(self, errors: list[tuple[str, str]] | str, field: str = "__all__"):
        self.errors = list(errors) if isinstance(errors, list) else [(field, str(errors))]
        self.message = " ".join(message for _field, message in self.errors)
        super().__init__(self.message)


class NotAllowed(ContestError):
    """The member's role may not do this."""


class WrongState(ContestError):
    """Not possible in the contest's present state (draft, open, closed, drawn)."""


def entry_channels(workspace):
    """The workspace's channels whose network can list a post's entries."""
    return [
        c
        for c in Channel.objects.filter(workspace=workspace).order_by("name")
        if c.known_kind and Capability.ENTRIES in c.adapter_class.capabilities
    ]


def published_variants(workspace):
    kinds = {c.kind for c in entry_channels(workspace)}
    return (
        Variant.objects.filter(
            post__workspace=workspace, state=Variant.State.PUBLISHED, channel__kind__in=kinds
        )
        .exclude(external_id="")
        .select_related("post", "channel")
        .order_by("-published_at", "-pk")
    )


def _text(data: dict, name: str, limit: int, errors: list, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append((name, _("Enter text.")))
        return None
    value = value.strip()
    if "\x00" in value:
        errors.append((name, _("The text contains characters that are not allowed.")))
        return None
    if required and not value:
        errors.append((name, _("This field is required.")))
        return None
    if len(value) > limit:
        errors.append((name, _("Enter at most %(count)s characters.") % {"count": limit}))
        return None
    return value


def _number(data: dict, name: str, low: int, high: int, errors: list) -> int | None:
    value = data.get(name)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        errors.append((name, _("Enter a whole number.")))
        return None
    if not low <= value <= high:
        errors.append((name, _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}))
        return None
    return value


def _flag(data: dict, name: str, errors: list) -> bool | None:
    value = data.get(name)
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off"):
        return False
    if value in ("1", "true", "on"):
        return True
    errors.append((name, _("Enter true or false.")))
    return None


def _when(data: dict, name: str, workspace, errors: list) -> datetime | None:
    value = data.get(name)
    if isinstance(value, str) and value.strip():
        value = parse_datetime(value.strip())
        if value is None:
            errors.append((name, _("Enter a date and time such as 2026-12-01T10:00.")))
            return None
    if not isinstance(value, datetime):
        errors.append((name, _("Enter a date and time.")))
        return None
    if not 2000 <= value.year <= 2199:
        errors.append((name, _("Enter a date between 2000 and 2199.")))
        return None
    return to_utc(value, workspace_zone(workspace))


def _staff(value, errors: list) -> list[str] | None:
    if isinstance(value, str):
        value = value.replace(",", "\n").splitlines()
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(("staff_accounts", _("Enter account ids or handles, one per line.")))
        return None
    cleaned = []
    for item in value:
        item = item.strip()
        if item and item not in cleaned:
            if len(item) > 200 or "\x00" in item:
                errors.append(("staff_accounts", _("Each account: at most 200 characters.")))
                return None
            cleaned.append(item)
    if len(cleaned) > MAX_STAFF:
        errors.append(("staff_accounts", _("At most %(count)s accounts.") % {"count": MAX_STAFF}))
        return None
    return cleaned


def _post(workspace, data: dict, contest: Contest | None, errors: list) -> dict:
    """channel, variant, post_external_id and post_url, from a variant or typed in."""
    if data.get("variant") not in (None, ""):
        try:
            variant = published_variants(workspace).get(pk=int(data["variant"]))
        except (ValueError, TypeError, Variant.DoesNotExist):
            errors.append(("variant", _("Choose one of the published posts listed.")))
            return {}
        return {
            "variant": variant,
            "channel": variant.channel,
            "network": variant.channel.kind,
            "post_external_id": variant.external_id,
            "post_url": variant.url,
        }
    if contest is not None and not any(k in data for k in ("channel", "post_external_id", "post_url")):
        return {}
    fields: dict = {"variant": None}
    channel_id = data.get("channel", contest.channel_id if contest else None)
    channels = {str(c.pk): c for c in entry_channels(workspace)}
    if str(channel_id) not in channels:
        errors.append(("channel", _("Choose a channel whose network lists contest entries.")))
    else:
        fields["channel"] = channels[str(channel_id)]
        fields["network"] = fields["channel"].kind
    given = {"post_external_id": data.get("post_external_id", contest.post_external_id if contest else "")}
    given["post_url"] = data.get("post_url", contest.post_url if contest else "")
    external = _text(given, "post_external_id", 300, errors, required=True)
    url = _text(given, "post_url", 500, errors)
    if url and not url.startswith(("https://", "http://")):
        errors.append(("post_url", _("Enter an address starting with https://.")))
    fields.update(post_external_id=external, post_url=url)
    return fields


def clean(workspace, data, contest: Contest | None = None) -> dict:
    """The model fields to set; raises ContestError naming every field at fault."""
    if not isinstance(data, dict):
        raise ContestError(_("Expected an object with the contest's fields."))
    errors: list[tuple[str, str]] = []
    creating = contest is None
    fields = _post(workspace, data, contest, errors)
    if creating or "title" in data:
        fields["title"] = _text(data, "title", 200, errors, required=True)
    for name in FLAGS:
        if creating or name in data:
            fields[name] = _flag(data, name, errors)
    if creating or "comment_pattern" in data:
        fields["comment_pattern"] = _text(data, "comment_pattern", patterns.MAX_PATTERN, errors)
    for name in ("opens_at", "closes_at"):
        if creating or name in data:
            fields[name] = _when(data, name, workspace, errors)
    if creating or "winners_count" in data:
        fields["winners_count"] = _number(
            {"winners_count": data.get("winners_count", 1)}, "winners_count", 1, MAX_WINNERS, errors
        )
    if creating or "exclude_winners_days" in data:
        days = {"exclude_winners_days": data.get("exclude_winners_days") or 0}
        fields["exclude_winners_days"] = _number(days, "exclude_winners_days", 0, MAX_DAYS, errors)
    if creating or "staff_accounts" in data:
        fields["staff_accounts"] = _staff(data.get("staff_accounts"), errors)
    own = fields["channel"].account_id if fields.get("channel") is not None else ""
    if creating and own and fields["staff_accounts"] is not None and own not in fields["staff_accounts"]:
        # The business's own account never wins its own contest.
        fields["staff_accounts"].append(own)
    if creating or "pseudonymisation" in data:
        mode = data.get("pseudonymisation") or listing.INITIALS
        if mode not in listing.MODES:
            errors.append(("pseudonymisation", _("Choose full names, initials or hashed ids.")))
        fields["pseudonymisation"] = mode
    pattern = fields.get("comment_pattern", contest.comment_pattern if contest else "")
    is_regex = fields.get("pattern_is_regex", contest.pattern_is_regex if contest else False)
    if pattern and not any(f == "comment_pattern" for f, _m in errors):
        try:
            patterns.validate(pattern, bool(is_regex))
        except patterns.PatternError as exc:
            errors.append(("comment_pattern", str(exc)))
    opens = fields.get("opens_at", contest.opens_at if contest else None)
    closes = fields.get("closes_at", contest.closes_at if contest else None)
    if opens and closes and closes <= opens:
        errors.append(("closes_at", _("The contest must close after it opens.")))
    if errors:
        raise ContestError(errors)
    return fields


# What may still change in each state: conditions are fixed once the contest is open (entrants rely on
# them), the list's form once it is frozen, the number of winners once the public value is known.
EDITABLE = {
    Contest.Status.DRAFT: None,  # everything
    Contest.Status.OPEN: {
        "title",
        "winners_count",
        "staff_accounts",
        "exclude_winners_days",
        "pseudonymisation",
    },
    Contest.Status.CLOSED: {"title", "winners_count"},
    Contest.Status.DRAWN: {"title"},
}


def check_editable(contest: Contest, fields: dict) -> None:
    allowed = EDITABLE[contest.status]
    if allowed is None:
        return
    if contest.public_value:
        allowed = allowed - {"winners_count"}
    frozen = []
    for name, value in fields.items():
        current = getattr(contest, name)
        if name not in allowed and value != current:
            frozen.append(
                (
                    name,
                    _("This can no longer be changed: the contest is %(status)s.")
                    % {"status": contest.get_status_display().lower()},
                )
            )
    if frozen:
        raise WrongState(frozen)
