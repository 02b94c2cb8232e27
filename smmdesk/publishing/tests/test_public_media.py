"""Media reach the networks at signed public addresses: the publisher hands the adapter absolute URLs
under SMMDESK_PUBLIC_URL, anyone holding one gets that file and only that file without a login, and the
address stops working after LINK_DAYS. Without a public address a network that fetches media is told at
once (validation) and, if the setting went away after scheduling, the post fails with the fix named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from smmdesk.channels.fake.adapter import FakeAdapter
from smmdesk.channels.models import Channel
from smmdesk.publishing import actions, media, public_media, publisher
from smmdesk.publishing.models import Variant
from smmdesk.publishing.tests.core_fixtures import *  # noqa: F403
from smmdesk.publishing.tests.core_fixtures import DUE, network_posts
from smmdesk.publishing.tests.test_views_media import picture

PUBLIC = "https://desk.salon.example"


@pytest.fixture
def photo(members):
    return media.store_upload(members["content_manager"], picture("JPEG", name="haircut.jpg"))


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC)
    return url[len(PUBLIC) :]


def test_the_network_gets_an_absolute_signed_url_that_serves_the_file(
    clock, queue, make_post, members, photo, settings, client
):
    settings.SMMDESK_PUBLIC_URL = PUBLIC
    post = make_post(author="owner", variant={"media": [photo.pk]})
    actions.schedule(members["owner"], post, DUE)
    clock.move_to(DUE)
    for variant in post.variants.all():
        assert publisher.publish_variant(variant.pk) == "published"
    (sent,) = network_posts("salon-vk")
    (url,) = sent["media"]
    assert url.startswith(PUBLIC + "/publishing/m/") and str(photo.pk) in url
    # The network fetches it without any login.
    client.logout()
    response = client.get(path_of(url))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == photo.file.open("rb").read()
    assert response["Cache-Control"].startswith("public")


def test_a_token_cannot_be_forged_or_moved_to_another_file(members, photo, settings, client):
    settings.SMMDESK_PUBLIC_URL = PUBLIC
    other = media.store_upload(members["content_manager"], picture("PNG", name="price-list.png"))
    token = public_media.token_for(photo)
    forged = token.replace(str(photo.pk), str(other.pk), 1)
    assert forged != token
    for bad in (forged, token[:-2] + "xx", str(other.pk), "nonsense"):
        assert client.get(reverse("publishing_public_media", kwargs={"token": bad})).status_code == 404
    assert client.get(path_of(public_media.public_url(other))).status_code == 200


def test_a_link_expires(members, photo, settings, client, time_machine):
    settings.SMMDESK_PUBLIC_URL = PUBLIC
    time_machine.move_to(photo.created_at, tick=False)
    address = path_of(public_media.public_url(photo))
    time_machine.move_to(photo.created_at + timedelta(days=public_media.LINK_DAYS - 1), tick=False)
    assert client.get(address).status_code == 200
    time_machine.move_to(photo.created_at + timedelta(days=public_media.LINK_DAYS + 1), tick=False)
    assert client.get(address).status_code == 404


def test_without_a_public_address_validation_names_the_setting(make_post, photo, settings, monkeypatch):
    settings.SMMDESK_PUBLIC_URL = ""
    # The fake network runs inside us and needs no address...
    assert make_post(author="owner", variant={"media": [photo.pk]}).variants.count() == 2
    # ...but a network that fetches the file does.
    monkeypatch.setattr(FakeAdapter, "fetches_media", True)
    with pytest.raises(actions.InvalidInput) as refused:
        make_post(author="owner", variant={"media": [photo.pk]})
    assert any(
        field.endswith(".media") and "SMMDESK_PUBLIC_URL" in message
        for field, message in refused.value.errors
    )


def test_a_post_whose_media_cannot_be_fetched_fails_and_the_channel_stays_well(
    clock, queue, make_post, members, photo, settings, monkeypatch
):
    settings.SMMDESK_PUBLIC_URL = PUBLIC
    post = make_post(author="owner", variant={"media": [photo.pk]})
    actions.schedule(members["owner"], post, DUE)
    settings.SMMDESK_PUBLIC_URL = ""
    monkeypatch.setattr(FakeAdapter, "fetches_media", True)
    clock.move_to(DUE)
    variant = post.variants.first()
    assert publisher.publish_variant(variant.pk) == "failed"
    variant.refresh_from_db()
    assert variant.state == Variant.State.FAILED and "SMMDESK_PUBLIC_URL" in variant.error
    assert network_posts("salon-vk") == []
    assert variant.channel.status != Channel.Status.NEEDS_RECONNECT and not variant.channel.last_error
