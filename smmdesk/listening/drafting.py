"""A trend turned into a draft post for the calendar (listening.actions.draft_post_from_trend).

The post rides the trend: it carries the trend's hashtag (or one made from its words) and offers the
business service that fits best, in the business's first language, with one variant per working channel
that publishes. It goes to review at once, so the SMM manager approves it like any other post. The post
is made through publishing's own use cases (create_post, submit), which check the member's right and
the networks' limits.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership
from smmdesk.business.models import Service
from smmdesk.channels.base import Capability
from smmdesk.channels.models import Channel
from smmdesk.listening import matching
from smmdesk.listening.models import Trend
from smmdesk.publishing import actions as publishing

TITLE_MAX = 200
# Room left in a variant for the hashtag the network appends after the text.
TAG_ROOM = 110


def _error(exc: publishing.PublishingError):
    from smmdesk.listening.actions import InvalidInput, ListeningError, NotAllowed

    if isinstance(exc, publishing.NotAllowed):
        return NotAllowed(exc.message)
    if isinstance(exc, publishing.InvalidInput):
        return InvalidInput(list(exc.errors))
    return ListeningError(exc.message, exc.field)


def hashtag_for(trend: Trend) -> str:
    """The trend's hashtag without "#": its own, or its words run together ("ледяной вызов" ->
    "ледянойвызов")."""
    if trend.key.startswith("#"):
        return trend.key[1:]
    return "".join(matching.WORD.findall(trend.key))[:100]


def _content_words(text: str) -> set[str]:
    return {phrase for phrase in matching.phrases(text) if " " not in phrase}


def best_service(workspace_id: int, trend: Trend) -> Service | None:
    """The service whose name (or synonyms) shares the most content lemmas with the trend's key and
    examples; the first service when none shares any; None for a business without services."""
    services = list(Service.objects.filter(workspace_id=workspace_id).order_by("name"))
    if not services:
        return None
    words = _content_words(trend.key.lstrip("#"))
    for mention in trend.examples.all():
        words |= _content_words(mention.text)

    def overlap(service: Service) -> int:
        synonyms = " ".join(str(s) for s in service.synonyms or [] if isinstance(s, str))
        return len(words & _content_words(f"{service.name} {synonyms}"))

    best = max(services, key=overlap)
    return best if overlap(best) else services[0]


def _language(workspace) -> str:
    profile = getattr(workspace, "profile", None)
    known = {code for code, _name in settings.LANGUAGES}
    for code in getattr(profile, "languages", None) or []:
        if code in known:
            return code
    return translation.get_language() or "en"


def _compose(trend: Trend, service: Service | None, business: str) -> tuple[str, str]:
    """(title, text) in the active language."""
    topic = trend.key if trend.key.startswith("#") else f"“{trend.key}”"
    title = _("Trend: %(topic)s") % {"topic": trend.key}
    if service is not None:
        text = _(
            "Everyone is talking about %(topic)s these days, and so are we. Ride the wave with us: "
            "%(service)s at %(business)s. Book your visit!"
        ) % {"topic": topic, "service": service.name, "business": business}
    else:
        text = _("Everyone is talking about %(topic)s these days, and so are we. What do you think?") % {
            "topic": topic
        }
    return title[:TITLE_MAX], text


def _channels(workspace_id: int) -> list[Channel]:
    channels = Channel.objects.filter(workspace_id=workspace_id).exclude(status=Channel.Status.DISABLED)
    return [
        c
        for c in channels.order_by("name")
        if c.known_kind and Capability.PUBLISH in c.adapter_class.capabilities
    ]


def _fitted(text: str, channel: Channel) -> str:
    room = publishing.limits_for(channel).max_text - TAG_ROOM
    return text if len(text) <= room else text[: max(room - 1, 0)].rstrip() + "…"


def draft(membership: Membership, trend: Trend):
    """The trend's post, drafted and submitted for review the first time; the same post after that."""
    from smmdesk.publishing.models import Post

    with transaction.atomic():
        row = (
            Trend.objects.select_for_update(of=("self",))
            .select_related("workspace__profile")
            .get(pk=trend.pk)
        )
        if row.post_id and Post.objects.filter(pk=row.post_id).exists():
            return row.post
        workspace = row.workspace
        profile = getattr(workspace, "profile", None)
        tag = hashtag_for(row)
        service = best_service(workspace.pk, row)
        with translation.override(_language(workspace)):
            title, text = _compose(row, service, profile.name if profile else workspace.name)
        variants = [
            {"channel": channel.pk, "text": _fitted(text, channel), "hashtags": [tag] if tag else []}
            for channel in _channels(workspace.pk)
        ]
        try:
            post = publishing.create_post(membership, {"title": title, "variants": variants})
            if variants:
                post = publishing.submit(membership, post)
        except publishing.PublishingError as exc:
            raise _error(exc) from None
        Trend.objects.filter(pk=row.pk).update(status=Trend.Status.DRAFTED, post=post)
    trend.status, trend.post = Trend.Status.DRAFTED, post
    return post
