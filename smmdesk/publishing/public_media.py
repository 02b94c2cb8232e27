"""Media files at signed public addresses, for the networks to fetch when they publish.

Networks take a post's pictures by URL (Instagram only that way; Telegram, Facebook, Mastodon and Bluesky
uploads here fetch the file through the SSRF-guarded client), and they fetch it without our login. So a
variant's media reach the adapter as SMMDESK_PUBLIC_URL + /publishing/m/<token>/, where the token is the
asset's id signed with the secret key and a time stamp: it cannot be guessed or turned into another
asset's address, and it stops working after LINK_DAYS, long after any retry of the post. The library's
own pages keep serving files to members only.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import public_view
from smmdesk.channels.base import AdapterError
from smmdesk.publishing.models import MediaAsset

SALT = "smmdesk.publishing.public-media"
# Longer than the publisher's whole retry schedule and a reconnect hold of a few weeks.
LINK_DAYS = 30


class MediaUnreachable(AdapterError):
    """The network would have to fetch the file from us, and nobody told us our public address."""

    def __init__(self):
        super().__init__(
            _("Media can't reach the network: set SMMDESK_PUBLIC_URL to this server's public address."),
            permanent=True,
        )


def public_base() -> str:
    return getattr(settings, "SMMDESK_PUBLIC_URL", "").rstrip("/")


def token_for(asset: MediaAsset) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(asset.pk))


def public_url(asset: MediaAsset) -> str:
    """The absolute address a network fetches; MediaUnreachable without SMMDESK_PUBLIC_URL."""
    base = public_base()
    if not base:
        raise MediaUnreachable()
    return base + reverse("publishing_public_media", kwargs={"token": token_for(asset)})


def asset_for(token: str) -> MediaAsset:
    try:
        pk = signing.TimestampSigner(salt=SALT).unsign(token, max_age=LINK_DAYS * 86400)
    except signing.BadSignature:  # also SignatureExpired
        raise Http404("no such file")
    asset = MediaAsset.objects.filter(pk=int(pk)).first()
    if asset is None or not asset.file:
        raise Http404("no such file")
    return asset


@public_view
@require_safe
def public_media(request, token: str):
    asset = asset_for(token)
    try:
        handle = asset.file.open("rb")
    except FileNotFoundError:
        raise Http404("the file is missing from the data dir")
    response = FileResponse(handle, content_type=asset.content_type)
    # The type was checked on upload; nosniff is global, so a browser never runs it as anything else.
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Robots-Tag"] = "noindex"
    return response


public_media_urlpatterns = [
    path("publishing/m/<str:token>/", public_media, name="publishing_public_media"),
]
