"""The editor and its live preview tell a network's post rules before saving: Instagram's required picture
and Telegram's shorter caption beside media (the rules themselves: test_validation_networks.py)."""

import pytest

from smmdesk.publishing.models import MediaAsset, Post
from smmdesk.publishing.tests.feeds import make_channel
from smmdesk.publishing.tests.test_views import editor_data, form_error, url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_address(settings):
    settings.SMMDESK_PUBLIC_URL = "https://smm.salon.example"


def picture(workspace) -> MediaAsset:
    return MediaAsset.objects.create(
        workspace=workspace,
        file="media/2026/03/salon.jpg",
        kind=MediaAsset.Kind.IMAGE,
        content_type="image/jpeg",
        size=1000,
        width=1080,
        height=1080,
        original_name="salon.jpg",
    )


def test_instagram_asks_for_a_picture_before_saving(cast, client):
    instagram = make_channel(cast.workspace, "Instagram", kind="instagram")
    asset = picture(cast.workspace)
    client.force_login(cast.users["content_manager"])
    editor = client.get(url("post_new")).content.decode()
    assert f'data-testid="media-required-{instagram.pk}"' in editor and "at least one picture" in editor
    data = editor_data([instagram], texts={0: "Весенняя акция"})
    refused = client.post(url("post_new"), data)
    assert refused.status_code == 400 and not Post.objects.exists()
    assert "Instagram publishes only posts with a picture" in form_error(refused, f"v{instagram.pk}-media")
    assert form_error(refused, f"v{instagram.pk}-text") == ""
    preview = client.post(url("preview"), data).content.decode()
    assert "This network publishes only posts with a picture." in preview
    data[f"v{instagram.pk}-media"] = [str(asset.pk)]
    assert "publishes only posts with a picture" not in client.post(url("preview"), data).content.decode()
    assert client.post(url("post_new"), data).status_code == 302
    assert list(Post.objects.get().variants.get().media.all()) == [asset]


def test_telegram_counts_against_the_caption_once_a_picture_is_chosen(cast, client):
    telegram = make_channel(cast.workspace, "Telegram", kind="telegram")
    asset = picture(cast.workspace)
    client.force_login(cast.users["content_manager"])
    editor = client.get(url("post_new")).content.decode()
    # The live counter switches to the caption's limit when a picture is ticked.
    assert 'data-max-length="4096"' in editor and 'data-max-caption="1024"' in editor
    data = editor_data([telegram], texts={0: "a" * 1500})
    assert "characters over" not in client.post(url("preview"), data).content.decode()
    data[f"v{telegram.pk}-media"] = [str(asset.pk)]
    preview = client.post(url("preview"), data).content.decode()
    assert "The text is 476 characters over this network&#x27;s limit of 1024." in preview
    refused = client.post(url("post_new"), data)
    assert "With pictures or video Telegram takes at most 1024 characters; this is 1500" in form_error(
        refused, f"v{telegram.pk}-text"
    )
