"""The media library: uploads are checked by their content (type and size), images get a 320 px
thumbnail, anything else is refused with a message naming the file, and files are served only to
members of their workspace."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from smmdesk.publishing import media
from smmdesk.publishing.models import MediaAsset
from smmdesk.publishing.tests.test_views import member, url

pytestmark = pytest.mark.django_db

MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 64
WEBM_HEAD = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"
    + b"\x00" * 64
)
MOV_HEAD = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 64


def picture(fmt="PNG", size=(1200, 800), mode="RGB", name=None) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None).save(out, fmt)
    extension = {"JPEG": "jpg"}.get(fmt, fmt.lower())
    return SimpleUploadedFile(name or f"photo.{extension}", out.getvalue(), content_type="image/whatever")


def upload(client, *files):
    return client.post(url("media_upload"), {"files": list(files)})


@pytest.mark.parametrize(
    "fmt,content_type",
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_images_are_stored_with_a_thumbnail(cast, client, fmt, content_type):
    client.force_login(cast.users["content_manager"])
    response = upload(client, picture(fmt))
    assert response.status_code == 302 and response["Location"] == url("media")
    asset = MediaAsset.objects.get(workspace=cast.workspace)
    assert (asset.kind, asset.content_type, asset.width, asset.height) == ("image", content_type, 1200, 800)
    assert asset.original_name.startswith("photo.") and asset.uploaded_by == member(cast, "content_manager")
    # Our own file name on disk, never the person's.
    assert "photo" not in asset.file.name
    with Image.open(asset.thumbnail.open("rb")) as thumb:
        assert max(thumb.size) == 320 and thumb.size == (320, 213)
    page = client.get(url("media")).content.decode()
    assert url("media_thumb", asset_id=asset.pk) in page


def test_videos_are_recognised_by_their_container(cast, client):
    client.force_login(cast.users["smm_manager"])
    upload(
        client,
        SimpleUploadedFile("clip.mp4", MP4_HEAD, content_type="video/mp4"),
        SimpleUploadedFile("clip.bin", WEBM_HEAD, content_type="application/octet-stream"),
    )
    kinds = sorted(MediaAsset.objects.values_list("kind", "content_type"))
    assert kinds == [("video", "video/mp4"), ("video", "video/webm")]
    assert all(not asset.thumbnail for asset in MediaAsset.objects.all())


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("notes.jpg", b"just some text, not a picture at all", "only JPEG, PNG, WebP and GIF images"),
        ("drawing.bmp", None, "only JPEG, PNG, WebP and GIF images"),
        ("movie.mov", MOV_HEAD, "only JPEG, PNG, WebP and GIF images"),
        ("empty.png", b"", "the file is empty"),
        ("broken.png", "truncated", "damaged or incomplete"),
        ("page.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "only JPEG"),
    ],
)
def test_anything_else_is_refused_naming_the_file(cast, client, name, content, message):
    if content is None:
        content = picture("BMP").read()
    elif content == "truncated":
        content = picture("PNG").read()[:300]
    client.force_login(cast.users["content_manager"])
    response = upload(client, SimpleUploadedFile(name, content, content_type="image/png"))
    assert response.status_code == 400
    body = response.content.decode()
    assert name in body and message in body
    assert not MediaAsset.objects.exists()


def test_size_limits(cast, client, monkeypatch):
    client.force_login(cast.users["content_manager"])
    big = SimpleUploadedFile("huge.png", picture("PNG").read().ljust(media.MAX_IMAGE_BYTES + 1, b"\0"))
    response = upload(client, big)
    assert (
        response.status_code == 400 and "huge.png: an image may be at most 10 MB" in response.content.decode()
    )
    monkeypatch.setattr(media, "MAX_VIDEO_BYTES", len(MP4_HEAD) - 1)
    response = upload(client, SimpleUploadedFile("long.mp4", MP4_HEAD))
    assert response.status_code == 400 and "long.mp4: a video may be at most" in response.content.decode()
    # A picture of absurd dimensions (a decompression bomb) is refused before it is decoded.
    monkeypatch.setattr(media, "MAX_PIXELS", 1000)
    response = upload(client, picture("PNG", size=(100, 100)))
    assert response.status_code == 400 and "too large (100 × 100 pixels)" in response.content.decode()
    assert not MediaAsset.objects.exists()


def test_good_files_are_kept_when_others_in_the_batch_are_refused(cast, client):
    client.force_login(cast.users["content_manager"])
    response = upload(client, picture("PNG"), SimpleUploadedFile("bad.gif", b"GIF89a broken"))
    assert response.status_code == 400
    assert MediaAsset.objects.count() == 1
    assert "bad.gif" in response.content.decode()
    assert upload(client).status_code == 400  # no file at all


def test_files_are_served_only_inside_their_workspace(cast, client):
    client.force_login(cast.users["content_manager"])
    upload(client, picture("JPEG"))
    asset = MediaAsset.objects.get()
    client.force_login(cast.users["viewer"])
    original = client.get(url("media_file", asset_id=asset.pk))
    assert original.status_code == 200 and original["Content-Type"] == "image/jpeg"
    assert b"".join(original.streaming_content)[:2] == b"\xff\xd8"
    thumb = client.get(url("media_thumb", asset_id=asset.pk))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert thumb["Cache-Control"].startswith("private")
    # Viewers see the library but cannot add to it.
    assert client.post(url("media_upload"), {"files": [picture()]}).status_code == 403
    # Another workspace's member: not found, even with the right id.
    client.force_login(cast.outsider)
    assert client.get(url("media_file", asset_id=asset.pk)).status_code == 404
    assert client.get(url("media_file", slug="rival", asset_id=asset.pk)).status_code == 404
    client.logout()
    assert client.get(url("media_file", asset_id=asset.pk)).status_code == 302


def test_the_editor_offers_the_library_and_a_variant_reuses_it(cast, client):
    from smmdesk.publishing.models import Post
    from smmdesk.publishing.tests.test_views import editor_data, fake_channel

    vk = fake_channel(cast.workspace, "VK", "salon-vk", "vk")
    client.force_login(cast.users["content_manager"])
    upload(client, picture("PNG"))
    asset = MediaAsset.objects.get()
    editor = client.get(url("post_new")).content.decode()
    assert f'name="v{vk.pk}-media" value="{asset.pk}"' in editor
    for _ in range(2):
        data = editor_data([vk])
        data[f"v{vk.pk}-media"] = [str(asset.pk)]
        assert client.post(url("post_new"), data).status_code == 302
    assert [list(p.variants.get().media.all()) for p in Post.objects.all()] == [[asset], [asset]]
    assert "in 2 posts" in client.get(url("media")).content.decode()


def test_who_may_write_posts_deletes_files_and_drafts_lose_them(
    cast, client, django_capture_on_commit_callbacks
):
    from smmdesk.publishing.models import Post
    from smmdesk.publishing.tests.test_views import editor_data, fake_channel

    vk = fake_channel(cast.workspace, "VK", "salon-vk", "vk")
    client.force_login(cast.users["content_manager"])
    upload(client, picture("PNG"), picture("JPEG"))
    mine, other = MediaAsset.objects.order_by("pk")
    data = editor_data([vk])
    data[f"v{vk.pk}-media"] = [str(mine.pk)]
    assert client.post(url("post_new"), data).status_code == 302
    paths = [mine.file.path, mine.thumbnail.path]
    # Neither a viewer nor an agent may delete; the SMM manager may delete anyone's file.
    for role in ("viewer", "agent"):
        client.force_login(cast.users[role])
        assert client.post(url("media_delete", asset_id=mine.pk)).status_code == 403
    client.force_login(cast.users["content_manager"])
    assert 'data-testid="media-delete"' in client.get(url("media")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url("media_delete", asset_id=mine.pk)).status_code == 302
    assert not MediaAsset.objects.filter(pk=mine.pk).exists()
    assert list(Post.objects.get().variants.get().media.all()) == []
    assert not any(os.path.exists(p) for p in paths)
    client.force_login(cast.users["smm_manager"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url("media_delete", asset_id=other.pk)).status_code == 302
    assert not MediaAsset.objects.exists()
    # Another workspace's member cannot reach the address at all.
    client.force_login(cast.outsider)
    assert client.post(url("media_delete", asset_id=other.pk)).status_code == 404


def test_a_file_in_a_scheduled_post_is_kept(cast, client):
    from smmdesk.publishing import actions
    from smmdesk.publishing.tests.test_views import fake_channel

    vk = fake_channel(cast.workspace, "VK", "salon-vk", "vk")
    owner = member(cast, "owner")
    asset = media.store_upload(owner, picture("PNG"))
    post = actions.create_post(
        owner, {"title": "Offer", "variants": [{"channel": vk.pk, "text": "20% off", "media": [asset.pk]}]}
    )
    actions.schedule(owner, post, "2099-03-12T10:00")
    client.force_login(cast.users["owner"])
    response = client.post(url("media_delete", asset_id=asset.pk))
    assert response.status_code == 409 and "approved or scheduled" in response.content.decode()
    assert MediaAsset.objects.filter(pk=asset.pk).exists()


def test_the_library_is_paged(cast, client, monkeypatch):
    monkeypatch.setattr(media, "LIBRARY_PAGE", 2)
    owner = member(cast, "owner")
    for i in range(5):
        media.store_upload(owner, picture("PNG", size=(40, 40), name=f"p{i}.png"))
    client.force_login(cast.users["viewer"])
    first = client.get(url("media")).content.decode()
    last = client.get(url("media") + "?page=3").content.decode()
    assert "p4.png" in first and "p3.png" in first and "p0.png" not in first
    assert "p0.png" in last and "p4.png" not in last and 'data-testid="media-pager"' in last
    assert client.get(url("media") + "?page=zzz").status_code == 200
