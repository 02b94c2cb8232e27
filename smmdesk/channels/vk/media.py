"""Attachments of a post to publish: VK takes ids like photo-1_2 in wall.post, so an image given by its web
address is first uploaded to the community's wall album (https://dev.vk.com/ru/api/upload/wall-photo):
photos.getWallUploadServer → POST the file to the upload_url → photos.saveWallPhoto → photo<owner>_<id>.
All three need the admin user token, like wall.post itself.
"""

from __future__ import annotations

import re

from smmdesk.channels.base import AdapterError
from smmdesk.channels.vk.api import VKApi
from smmdesk.lib import http

# Media already on VK, passed through as they are: photo-1_2, video-1_2, doc123_4, with an optional
# access key after a second underscore.
VK_MEDIA = re.compile(
    r"^(photo|video|audio|doc|poll|album|market|market_album|audio_playlist)-?\d+_\d+(_\w+)?$"
)
MAX_IMAGE_BYTES = 50 * 1024 * 1024  # VK's stated limit for wall photos


def attachment_ids(api: VKApi, media: list[str], link: str = "") -> list[str]:
    """The `attachments` of wall.post for a variant's media and link, uploading images given by URL."""
    found: list[str] = []
    upload_url = None
    for item in media:
        item = item.strip()
        if VK_MEDIA.match(item):
            found.append(item)
            continue
        if not item.startswith(("https://", "http://")):
            raise AdapterError(
                f"vk: cannot attach {item[:80]!r}: give a VK id (photo-1_2) or an image URL", permanent=True
            )
        if upload_url is None:
            server = api.call("photos.getWallUploadServer", "user", group_id=api.group_id)
            upload_url = server["upload_url"]
        found.append(_upload(api, upload_url, item))
    if link:
        # VK takes one external link among the attachments and draws its preview.
        found.append(link)
    return found


def _upload(api: VKApi, upload_url: str, image_url: str) -> str:
    try:
        # A member typed this address: the SSRF guard checks it (user_url defaults to True).
        image = http.get(image_url)
    except http.OutboundError as exc:
        raise AdapterError(f"vk: cannot fetch the image: {exc.message}", permanent=exc.permanent)
    if len(image.content) > MAX_IMAGE_BYTES:
        raise AdapterError("vk: the image is larger than 50 MB", permanent=True)
    name = image_url.rsplit("/", 1)[-1].split("?", 1)[0] or "image.jpg"
    content_type = image.headers.get("Content-Type", "image/jpeg").split(";", 1)[0]
    try:
        # The upload address comes from VK's answer; it carries its own one-time signature.
        uploaded = http.post(upload_url, files={"photo": (name, image.content, content_type)}).json()
    except http.OutboundError as exc:
        raise AdapterError(
            f"vk photo upload: {exc.message}", permanent=exc.permanent, retry_after=exc.retry_after
        )
    except ValueError:
        raise AdapterError("vk photo upload: the answer is not JSON")
    if not isinstance(uploaded, dict) or not uploaded.get("photo") or uploaded.get("photo") == "[]":
        raise AdapterError("vk photo upload: VK did not accept the image", permanent=True)
    saved = api.call(
        "photos.saveWallPhoto",
        "user",
        group_id=api.group_id,
        photo=uploaded["photo"],
        server=uploaded.get("server"),
        hash=uploaded.get("hash"),
    )
    photo = saved[0] if isinstance(saved, list) and saved else saved
    return f"photo{photo['owner_id']}_{photo['id']}"
