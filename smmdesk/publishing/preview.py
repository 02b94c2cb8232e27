"""How a variant will look on its network: one simple card per network kind, rendered by the server.

The cards are approximations (the networks change their layouts), meant to catch the mistakes people
make: text cut by the limit, a missing picture, a link the network will not show, the wrong channel.
Everything in them is text the person typed, so the template only ever prints it escaped; the live
preview in the editor is this same server rendering fetched again by htmx, never HTML built in the
browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smmdesk.accounts.access import workspace_view
from smmdesk.publishing import validation
from smmdesk.publishing.besttime import network_of
from smmdesk.publishing.forms import EditorForms
from smmdesk.publishing.media import media_url
from smmdesk.publishing.models import MediaAsset, Variant

DRAFT = "publishing.draft"

# Which card a network kind gets. A fake channel looks like the network it stands for in the demo.
FAMILIES = {
    "vk": "feed",
    "facebook": "feed",
    "telegram": "message",
    "mastodon": "microblog",
    "bluesky": "microblog",
    "x": "microblog",
    "instagram": "photo",
}
# Networks whose feed draws a card for a link in the post (the others show the address as text).
LINK_CARDS = {"vk", "facebook", "telegram", "x", "bluesky", "mastodon"}
NETWORK_NAMES = {
    "vk": "VK",
    "facebook": "Facebook",
    "telegram": "Telegram",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "x": "X",
    "instagram": "Instagram",
}


@dataclass
class Card:
    channel_id: int
    channel_name: str
    network: str
    network_name: str
    family: str
    text: str
    length: int
    max_text: int
    link: str = ""
    link_host: str = ""
    link_card: bool = False
    image_url: str = ""
    video: bool = False
    media_count: int = 0
    first_comment: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return self.max_text > 0 and self.length > self.max_text


def card(workspace, channel, variant: Variant, media: list[MediaAsset]) -> Card:
    """The card for one variant; `variant` may be unsaved (the editor's live preview). The text is the
    one to be posted (hashtags, and the link where the network puts it in the text), measured the way
    the network counts it."""
    limits = validation.limits_for(channel)
    network = network_of(channel)
    text = validation.posted_text(channel.kind, variant)
    link = variant.link_with_utm() if variant.link else ""
    first = media[0] if media else None
    result = Card(
        channel_id=channel.pk,
        channel_name=channel.name,
        network=network,
        network_name=NETWORK_NAMES.get(network, str(channel.kind_label)),
        family=FAMILIES.get(network, "feed"),
        text=text,
        length=validation.text_length(channel.kind, text),
        max_text=validation.text_limit(limits, bool(media)),
        link=link,
        link_host=(urlsplit(link).hostname or "") if link else "",
        link_card=bool(link) and network in LINK_CARDS,
        media_count=len(media),
        first_comment=variant.first_comment if limits.supports_first_comment else "",
    )
    if first is not None:
        result.video = first.kind == MediaAsset.Kind.VIDEO
        if first.thumbnail:
            result.image_url = media_url(workspace, first, "thumb")
    if result.over:
        result.problems.append(
            _("The text is %(over)d characters over this network's limit of %(limit)d.")
            % {"over": result.length - result.max_text, "limit": result.max_text}
        )
    if link and not limits.supports_link:
        result.problems.append(_("This network does not show links in posts."))
    if limits.media_required and not media:
        result.problems.append(_("This network publishes only posts with a picture."))
    elif len(media) > limits.max_media:
        result.problems.append(
            _("This network takes at most %(limit)d media files per post.") % {"limit": limits.max_media}
        )
    return result


def saved_cards(workspace, variants) -> list[Card]:
    """Cards of a saved post's variants (prefetch channel and media)."""
    return [card(workspace, v.channel, v, list(v.media.all())) for v in variants]


@workspace_view(DRAFT)
@require_POST
def preview(request):
    """The editor's live preview: the form as it is now, nothing saved."""
    forms = EditorForms(request.workspace, data=request.POST)
    cards = [card(request.workspace, channel, variant, media) for channel, variant, media in forms.unsaved()]
    return render(request, "publishing/_previews.html", {"cards": cards})


urlpatterns = [path("preview/", preview, name="preview")]
