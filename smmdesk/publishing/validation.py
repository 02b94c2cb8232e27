"""A variant checked against its network's limits (the adapter's PostLimits), as the network counts.

The text is measured as it will be posted: with the hashtags the text lacks and, where the network puts
the link into the text, the link. X weighs URLs as 23 and wide characters double; Mastodon weighs URLs
as 23; Bluesky counts graphemes (what a reader sees as one character: an emoji with a skin tone is one);
everyone else counts code points.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Workspace
from smmdesk.channels.base import Capability, PostLimits
from smmdesk.channels.models import Channel
from smmdesk.publishing import public_media
from smmdesk.publishing.models import UTM_KEYS, MediaAsset, Variant

MAX_HASHTAGS = 30
MAX_UTM = 100
HASHTAG = re.compile(r"^\w[\w.-]{0,99}$")
# Networks whose adapters add the link to the text (VK attaches it instead).
LINK_IN_TEXT = frozenset({"telegram", "mastodon", "x", "bluesky", "facebook", "instagram", "fake"})


def limits_for(channel: Channel) -> PostLimits:
    if not channel.known_kind:
        return PostLimits(max_text=0, supports_link=False)
    return channel.adapter_class.limits


def text_limit(limits: PostLimits, has_media: bool) -> int:
    """How long the text may be: a caption's limit where the post has media and the network's is lower."""
    return limits.max_caption if has_media and limits.max_caption else limits.max_text


def text_length(kind: str, text: str) -> int:
    """The text's length as the network `kind` counts it against its limit."""
    text = (text or "").replace("\r\n", "\n")
    if kind == "x":
        from smmdesk.channels.x.tweets import weighted_length

        return weighted_length(text)
    if kind == "mastodon":
        from smmdesk.channels.mastodon.adapter import mastodon_length

        return mastodon_length(text)
    if kind == "bluesky":
        from smmdesk.channels.bluesky.richtext import graphemes

        return graphemes(text)
    return len(text)


def posted_text(kind: str, variant: Variant) -> str:
    text = variant.full_text()
    link = variant.link_with_utm()
    if link and kind in LINK_IN_TEXT and link not in text:
        text = f"{text}\n\n{link}".strip()
    return text


def _strings(value, field: str, errors: list, limit: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append((field, _("Expected text.")))
        return ""
    if limit is not None and len(value) > limit:
        errors.append((field, _("Enter at most %(count)s characters.") % {"count": limit}))
    return value.replace("\r\n", "\n")


def _hashtags(value, field: str, errors: list) -> list[str]:
    if value in (None, ""):
        return []
    words = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(words, list | tuple):
        errors.append((field, _("Expected a list of hashtags.")))
        return []
    tags: list[str] = []
    for word in words:
        tag = str(word).strip().lstrip("#")
        if not tag:
            continue
        if not HASHTAG.match(tag):
            errors.append(
                (field, _("“%(tag)s” is not a hashtag: letters, digits and _ only.") % {"tag": tag[:40]})
            )
        elif tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    if len(tags) > MAX_HASHTAGS:
        errors.append((field, _("Enter at most %(max)d hashtags.") % {"max": MAX_HASHTAGS}))
    return tags


def _utm(value, field: str, errors: list) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors.append((field, _("Expected the UTM parameters as an object.")))
        return {}
    utm = {}
    for key, raw in value.items():
        if key not in UTM_KEYS:
            errors.append((field, _("Unknown UTM parameter “%(key)s”.") % {"key": str(key)[:40]}))
            continue
        text = str(raw or "").strip()
        if len(text) > MAX_UTM:
            errors.append((field, _("Enter at most %(count)s characters.") % {"count": MAX_UTM}))
        elif text:
            utm[key] = text
    return utm


def _link(value, field: str, errors: list) -> str:
    link = _strings(value, field, errors, 500).strip()
    if link:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            errors.append((field, _("Enter a web address starting with http:// or https://.")))
    return link


def _media(workspace: Workspace, value, field: str, errors: list) -> list[MediaAsset]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        errors.append((field, _("Expected a list of media files.")))
        return []
    ids = []
    for item in value:
        pk = item.pk if isinstance(item, MediaAsset) else item
        if not str(pk).isdigit():
            errors.append((field, _("Choose files from this workspace's media library.")))
            return []
        ids.append(int(pk))
    found = {a.pk: a for a in MediaAsset.objects.filter(workspace=workspace, pk__in=ids)}
    if len(found) != len(set(ids)):
        errors.append((field, _("Choose files from this workspace's media library.")))
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found]


def _channel(workspace: Workspace, value, field: str, errors: list) -> Channel | None:
    pk = value.pk if isinstance(value, Channel) else value
    channel = Channel.objects.filter(workspace=workspace, pk=pk).first() if str(pk).isdigit() else None
    if channel is None:
        errors.append((field, _("Choose one of this workspace's channels.")))
        return None
    if not channel.known_kind or Capability.PUBLISH not in channel.adapter_class.capabilities:
        errors.append((field, _("The channel “%(name)s” cannot publish posts.") % {"name": channel.name}))
        return None
    return channel


def clean_variant(workspace: Workspace, raw, prefix: str) -> tuple[dict | None, list]:
    errors: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return None, [(prefix, _("Expected an object with the variant's fields."))]
    channel = _channel(workspace, raw.get("channel"), f"{prefix}.channel", errors)
    values = {
        "channel": channel,
        "text": _strings(raw.get("text"), f"{prefix}.text", errors),
        "media": _media(workspace, raw.get("media"), f"{prefix}.media", errors),
        "link": _link(raw.get("link"), f"{prefix}.link", errors),
        "utm": _utm(raw.get("utm"), f"{prefix}.utm", errors),
        "first_comment": _strings(raw.get("first_comment"), f"{prefix}.first_comment", errors),
        "hashtags": _hashtags(raw.get("hashtags"), f"{prefix}.hashtags", errors),
    }
    if channel is None or errors:
        return None, errors
    return values, _over_limits(channel, values, prefix)


def _over_limits(channel: Channel, values: dict, prefix: str) -> list[tuple[str, str]]:
    """The variant's breaches of its network's limits, each named by its field."""
    errors: list[tuple[str, str]] = []
    limits = limits_for(channel)
    unsaved = Variant(
        text=values["text"], link=values["link"], utm=values["utm"], hashtags=values["hashtags"]
    )
    length = text_length(channel.kind, posted_text(channel.kind, unsaved))
    if not values["text"].strip() and not values["media"] and not limits.media_required:
        # Where a picture is required, the media error below says what is missing.
        errors.append((f"{prefix}.text", _("Write the text or add a picture or video.")))
    elif length > (limit := text_limit(limits, bool(values["media"]))):
        if limit != limits.max_text:
            message = _(
                "With pictures or video %(name)s takes at most %(max)s characters; this is %(count)s (with "
                "the hashtags and link)."
            )
        else:
            message = _(
                "%(name)s takes at most %(max)s characters; this is %(count)s (with the hashtags and link)."
            )
        errors.append((f"{prefix}.text", message % {"name": channel.name, "max": limit, "count": length}))
    if limits.media_required and not values["media"]:
        errors.append(
            (
                f"{prefix}.media",
                _("%(name)s publishes only posts with a picture: choose at least one under Media.")
                % {"name": channel.name},
            )
        )
    elif len(values["media"]) > limits.max_media:
        if limits.max_media == 0:
            message = _("%(name)s does not take pictures or video.") % {"name": channel.name}
        else:
            message = _("%(name)s takes at most %(max)s files.") % {
                "name": channel.name,
                "max": limits.max_media,
            }
        errors.append((f"{prefix}.media", message))
    elif values["media"] and channel.adapter_class.fetches_media and not public_media.public_base():
        errors.append(
            (
                f"{prefix}.media",
                _(
                    "%(name)s fetches pictures from this server's public address: ask the administrator "
                    "to set SMMDESK_PUBLIC_URL."
                )
                % {"name": channel.name},
            )
        )
    if values["link"] and not limits.supports_link:
        errors.append((f"{prefix}.link", _("%(name)s does not take links.") % {"name": channel.name}))
    if values["first_comment"].strip():
        if not limits.supports_first_comment:
            errors.append(
                (f"{prefix}.first_comment", _("%(name)s has no first comment.") % {"name": channel.name})
            )
        elif text_length(channel.kind, values["first_comment"]) > limits.max_text:
            errors.append(
                (
                    f"{prefix}.first_comment",
                    _("Enter at most %(count)s characters.") % {"count": limits.max_text},
                )
            )
    return errors


def clean_variants(workspace: Workspace, raw) -> tuple[list[dict], list]:
    """The cleaned variants and (field, message) errors named "variants.<index>.<field>"."""
    if raw is None:
        raw = []
    if not isinstance(raw, list | tuple):
        return [], [("variants", _("Expected a list of variants, one per channel."))]
    cleaned, errors, seen = [], [], set()
    for index, item in enumerate(raw):
        values, problems = clean_variant(workspace, item, f"variants.{index}")
        errors += problems
        if values is None:
            continue
        if values["channel"].pk in seen:
            errors.append(
                (f"variants.{index}.channel", _("This channel already has a variant in this post."))
            )
            continue
        seen.add(values["channel"].pk)
        cleaned.append(values)
    return cleaned, errors
