"""The media library: uploads checked by their content (never by their name or the browser's word),
Pillow thumbnails, and files served only to members of the asset's workspace.

Images are opened and verified by Pillow, so a renamed executable or a truncated file is refused with a
message naming it; videos are recognised by their container signature (MP4's "ftyp" box, WebM's EBML
header with the "webm" doctype), because decoding video would need ffmpeg, which we do not ship.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe
from PIL import Image, ImageOps, UnidentifiedImageError

from smmdesk.accounts.access import can, workspace_view
from smmdesk.publishing.models import MediaAsset

VIEW, DRAFT = "publishing.view", "publishing.draft"
MB = 1024 * 1024
MAX_IMAGE_BYTES = 10 * MB
MAX_VIDEO_BYTES = 200 * MB
THUMB_PX = 320
# Far above any photo a network takes, far below what a decompression bomb unpacks to.
MAX_PIXELS = 60_000_000
IMAGE_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp"),
               "GIF": ("image/gif", "gif")}  # fmt: skip
# ISO base media brands of MP4 video; QuickTime ("qt  ") and HEIF/AVIF images share the box but are
# not what the networks take as MP4.
MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V ",
              b"mmp4", b"MSNV", b"3gp4", b"3gp5", b"f4v "}  # fmt: skip
ACCEPT = "image/jpeg,image/png,image/webp,image/gif,video/mp4,video/webm"
LIBRARY_PAGE = 60


class UploadRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Checked:
    kind: str
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None
    thumbnail_extension: str = "jpg"


def sniff_video(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an MP4 or WebM file from its first bytes, or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return "video/mp4", "mp4"
    # EBML magic, then the DocType element (0x4282) says "webm" (Matroska proper says "matroska").
    if head[:4] == b"\x1a\x45\xdf\xa3" and b"\x42\x82" in head[:64] and b"webm" in head[:64]:
        return "video/webm", "webm"
    return None


def _unsupported(name: str) -> UploadRefused:
    return UploadRefused(
        _("%(name)s: only JPEG, PNG, WebP and GIF images and MP4 and WebM videos can be uploaded.")
        % {"name": name}
    )


def _thumbnail(image: Image.Image) -> tuple[bytes, str]:
    """A copy at most THUMB_PX on its longer side, turned upright as the camera meant it."""
    image.seek(0)  # an animated GIF's first frame
    image = ImageOps.exif_transpose(image)
    image.thumbnail((THUMB_PX, THUMB_PX))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P") and (image.mode != "P" or "transparency" in image.info):
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "png"
    image.convert("RGB").save(out, "JPEG", quality=82)
    return out.getvalue(), "jpg"


def check_image(upload, name: str) -> Checked:
    if upload.size > MAX_IMAGE_BYTES:
        raise UploadRefused(
            _("%(name)s: an image may be at most %(limit)d MB.")
            % {"name": name, "limit": MAX_IMAGE_BYTES // MB}
        )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                if image_format not in IMAGE_TYPES:
                    raise _unsupported(name)
                if width * height > MAX_PIXELS:
                    raise UploadRefused(
                        _("%(name)s: the image is too large (%(width)d × %(height)d pixels).")
                        % {"name": name, "width": width, "height": height}
                    )
                image.verify()
            # verify() leaves the image unusable: open it again to draw the thumbnail.
            upload.seek(0)
            with Image.open(upload) as image:
                image.load()
                thumbnail, thumb_ext = _thumbnail(image)
    except UploadRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _unsupported(name)
    except (OSError, SyntaxError, ValueError, EOFError):
        # Pillow's word for a broken or truncated file of a known format.
        raise UploadRefused(_("%(name)s: the image is damaged or incomplete.") % {"name": name})
    content_type, extension = IMAGE_TYPES[image_format]
    return Checked(
        kind=MediaAsset.Kind.IMAGE,
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
        thumbnail=thumbnail,
        thumbnail_extension=thumb_ext,
    )


def check_upload(upload) -> Checked:
    """What the uploaded file is, or UploadRefused naming the file and what to do."""
    name = upload.name or _("the file")
    if not upload.size:
        raise UploadRefused(_("%(name)s: the file is empty.") % {"name": name})
    upload.seek(0)
    head = upload.read(64)
    video = sniff_video(head)
    if video is None:
        return check_image(upload, name)
    if upload.size > MAX_VIDEO_BYTES:
        raise UploadRefused(
            _("%(name)s: a video may be at most %(limit)d MB.")
            % {"name": name, "limit": MAX_VIDEO_BYTES // MB}
        )
    content_type, extension = video
    return Checked(kind=MediaAsset.Kind.VIDEO, content_type=content_type, extension=extension)


def store_upload(membership, upload) -> MediaAsset:
    """Check the file and add it to the membership's workspace library."""
    checked = check_upload(upload)
    # Our own file name: the person's name is kept for display only, never used on disk.
    stem = uuid.uuid4().hex
    asset = MediaAsset(
        workspace=membership.workspace,
        kind=checked.kind,
        content_type=checked.content_type,
        size=upload.size,
        width=checked.width,
        height=checked.height,
        original_name=(upload.name or stem)[:255],
        uploaded_by=membership,
    )
    upload.seek(0)
    asset.file.save(f"{stem}.{checked.extension}", upload, save=False)
    if checked.thumbnail is not None:
        asset.thumbnail.save(
            f"{stem}.{checked.thumbnail_extension}", ContentFile(checked.thumbnail), save=False
        )
    try:
        with transaction.atomic():
            asset.save()
    except Exception:
        # No row, no file: a failed save must not leave orphans in the data dir.
        asset.file.delete(save=False)
        if asset.thumbnail:
            asset.thumbnail.delete(save=False)
        raise
    return asset


class AssetInUse(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def delete_asset(membership, asset: MediaAsset) -> None:
    """Remove a file from the library. Drafts lose it; a post about to go out keeps it (the network
    will fetch it), so the file is refused while such a post uses it. Posts already out keep their copy
    on the network."""
    from smmdesk.publishing.models import Post

    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
        going_out = asset.variants.filter(
            post__state__in=(Post.State.APPROVED, Post.State.SCHEDULED, Post.State.PUBLISHING)
        ).exists()
        if going_out:
            raise AssetInUse(
                _("%(name)s is in a post that is approved or scheduled; take it out of that post first.")
                % {"name": asset.original_name}
            )
        stored = [f for f in (asset.file, asset.thumbnail) if f]
        names = [(f.storage, f.name) for f in stored]
        asset.delete()
        # The rows are gone only when the transaction commits; the files follow then, never before.
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])


def library(workspace):
    return (
        MediaAsset.objects.filter(workspace=workspace)
        .select_related("uploaded_by__user")
        .annotate(uses=Count("variants"))
        .order_by("-created_at", "-pk")
    )


def media_url(workspace, asset: MediaAsset, which: str = "file") -> str:
    name = "media_thumb" if which == "thumb" else "media_file"
    return reverse(f"publishing:{name}", kwargs={"slug": workspace.slug, "asset_id": asset.pk})


# Pages


def _render_library(request, status=200, errors=()):
    page = Paginator(library(request.workspace), LIBRARY_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "publishing/media.html",
        {
            "active_section": "publishing",
            "tab": "media",
            "assets": page.object_list,
            "page": page,
            # Whoever may upload looks after the library, including taking files out of it.
            "can_upload": can(request, DRAFT),
            "accept": ACCEPT,
            "upload_errors": list(errors),
            "limits": {"image": MAX_IMAGE_BYTES // MB, "video": MAX_VIDEO_BYTES // MB},
        },
        status=status,
    )


@workspace_view(VIEW)
@require_safe
def media_library(request):
    return _render_library(request)


@workspace_view(VIEW, write=DRAFT)
@require_POST
def media_upload(request):
    files = request.FILES.getlist("files")
    if not files:
        return _render_library(request, status=400, errors=[_("Files: choose at least one file to upload.")])
    stored, errors = 0, []
    for upload in files:
        try:
            store_upload(request.membership, upload)
            stored += 1
        except UploadRefused as refused:
            errors.append(refused.message)
    if errors:
        if stored:
            messages.success(
                request,
                ngettext("%(count)d file uploaded.", "%(count)d files uploaded.", stored) % {"count": stored},
            )
        return _render_library(request, status=400, errors=errors)
    messages.success(
        request, ngettext("%(count)d file uploaded.", "%(count)d files uploaded.", stored) % {"count": stored}
    )
    return redirect("publishing:media", slug=request.workspace.slug)


def _serve(request, asset_id: int, field: str):
    asset = get_object_or_404(MediaAsset, pk=asset_id, workspace=request.workspace)
    stored = getattr(asset, field)
    if not stored:
        raise Http404("no such file")
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404("the file is missing from the data dir")
    content_type = (
        asset.content_type
        if field == "file"
        else ("image/png" if stored.name.endswith(".png") else "image/jpeg")
    )
    response = FileResponse(handle, content_type=content_type)
    # Shown in the page, never run: nosniff is global; the disposition keeps the person's file name.
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@workspace_view(VIEW, write=DRAFT)
@require_POST
def media_delete(request, asset_id):
    asset = get_object_or_404(MediaAsset, pk=asset_id, workspace=request.workspace)
    try:
        delete_asset(request.membership, asset)
    except AssetInUse as refused:
        return _render_library(request, status=409, errors=[refused.message])
    messages.success(request, _("%(name)s deleted.") % {"name": asset.original_name})
    return redirect("publishing:media", slug=request.workspace.slug)


@workspace_view(VIEW)
@require_safe
def media_file(request, asset_id):
    return _serve(request, asset_id, "file")


@workspace_view(VIEW)
@require_safe
def media_thumb(request, asset_id):
    return _serve(request, asset_id, "thumbnail")


urlpatterns = [
    path("media/", media_library, name="media"),
    path("media/upload/", media_upload, name="media_upload"),
    path("media/<int:asset_id>/delete/", media_delete, name="media_delete"),
    path("media/<int:asset_id>/file/", media_file, name="media_file"),
    path("media/<int:asset_id>/thumb/", media_thumb, name="media_thumb"),
]
