"""Each network's limits as a variant meets them when it is written (validation.clean_variant): the value
at the limit passes, one over is refused with the error on the field to fix.

The numbers are the networks' own, from their documentation (summed up in docs/networks/), and written
here rather than read from the adapters: a wrong limit in an adapter must fail a test, not move it.
"""

import pytest

from smmdesk.channels import registry
from smmdesk.channels.base import Capability
from smmdesk.channels.models import Channel
from smmdesk.publishing.models import MediaAsset
from smmdesk.publishing.tests.feeds import make_channel
from smmdesk.publishing.validation import clean_variant

# kind: (its name in messages, characters, media files, takes a link, has a first comment)
NETWORKS = {
    "vk": ("VK", 16_384, 10, True, True),
    "telegram": ("Telegram", 4096, 10, True, False),
    "facebook": ("Facebook", 63_206, 10, True, False),
    "instagram": ("Instagram", 2200, 10, False, False),
    "mastodon": ("Mastodon", 500, 4, True, False),
    "bluesky": ("Bluesky", 300, 4, True, False),
    "x": ("X", 280, 4, True, False),
}
# Telegram's caption: the text of a post with pictures or video.
TELEGRAM_CAPTION = 1024
# What Mastodon and X count any link as, however long it is.
LINK_WEIGHT = 23
LONG_LINK = "https://salon.example/offers/spring/haircut-and-colour?from=newsletter&week=12"


@pytest.fixture(autouse=True)
def public_address(settings):
    # The networks fetch pictures from here; without it every variant with media is refused.
    settings.SMMDESK_PUBLIC_URL = "https://smm.salon.example"


def pictures(workspace, count: int) -> list[int]:
    return [
        MediaAsset.objects.create(
            workspace=workspace,
            file=f"media/2026/03/photo-{n}.jpg",
            kind=MediaAsset.Kind.IMAGE,
            content_type="image/jpeg",
            size=1000,
            width=1080,
            height=1080,
            original_name=f"photo-{n}.jpg",
        ).pk
        for n in range(count)
    ]


def check(workspace, kind: str, pictures_count: int | None = None, **fields) -> dict[str, str]:
    """{field: message} of the errors a variant for a `kind` channel gets. Instagram's variants carry a
    picture unless told otherwise, since it takes no post without one."""
    name = NETWORKS[kind][0] if kind in NETWORKS else kind
    channel = Channel.objects.filter(workspace=workspace, name=name).first() or make_channel(
        workspace, name=name, kind=kind
    )
    if pictures_count is None:
        pictures_count = 1 if kind == "instagram" else 0
    raw = {"channel": channel.pk, "media": pictures(workspace, pictures_count), **fields}
    _values, errors = clean_variant(workspace, raw, "v")
    return {field.removeprefix("v."): message for field, message in errors}


def test_every_publishing_network_has_its_numbers_here():
    # A network added to the registry without its limits in this table would go untested.
    publishing = {
        kind
        for kind, adapter in registry.ADAPTERS.items()
        if Capability.PUBLISH in adapter.capabilities and kind != "fake"
    }
    assert publishing == set(NETWORKS)


@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_the_text_at_the_limit_passes_and_one_more_is_refused(cast, kind):
    name, limit = NETWORKS[kind][:2]
    assert check(cast.workspace, kind, text="a" * limit) == {}
    refused = check(cast.workspace, kind, text="a" * (limit + 1))
    assert list(refused) == ["text"]
    assert f"{name} takes at most {limit} characters; this is {limit + 1}" in refused["text"]


@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_hashtags_count_with_the_text(cast, kind):
    limit = NETWORKS[kind][1]
    # "\n\n#tag" is six characters after the text.
    assert check(cast.workspace, kind, text="a" * (limit - 6), hashtags=["tag"]) == {}
    assert list(check(cast.workspace, kind, text="a" * (limit - 5), hashtags=["tag"])) == ["text"]


@pytest.mark.parametrize("kind", ["mastodon", "x"])
def test_a_link_counts_as_23_on_mastodon_and_x(cast, kind):
    limit = NETWORKS[kind][1]
    room = limit - LINK_WEIGHT - 1  # a space before the link
    assert len(LONG_LINK) > LINK_WEIGHT
    assert check(cast.workspace, kind, text="a" * room + " " + LONG_LINK) == {}
    assert list(check(cast.workspace, kind, text="a" * (room + 1) + " " + LONG_LINK)) == ["text"]
    # The link field goes into the text after a blank line, and weighs the same.
    assert check(cast.workspace, kind, text="a" * (room - 1), link=LONG_LINK) == {}
    assert list(check(cast.workspace, kind, text="a" * room, link=LONG_LINK)) == ["text"]


def test_bluesky_counts_what_a_reader_sees_as_one_character(cast):
    # An emoji with a skin tone is two code points, a flag two regional indicators: one character each.
    for one in ("👍🏽", "🇸🇰", "я"):
        assert check(cast.workspace, "bluesky", text=one * 300) == {}, one
        refused = check(cast.workspace, "bluesky", text=one * 301)
        assert "Bluesky takes at most 300 characters; this is 301" in refused["text"], one


def test_bluesky_counts_a_link_in_full(cast):
    # Unlike Mastodon and X, Bluesky's 300 include every character of an address.
    room = 300 - len(LONG_LINK) - 1
    assert check(cast.workspace, "bluesky", text="a" * room + " " + LONG_LINK) == {}
    assert list(check(cast.workspace, "bluesky", text="a" * (room + 1) + " " + LONG_LINK)) == ["text"]


def test_x_counts_wide_characters_twice_and_cyrillic_once(cast):
    assert check(cast.workspace, "x", text="я" * 280) == {}
    assert check(cast.workspace, "x", text="🌸" * 140) == {}
    assert (
        "X takes at most 280 characters; this is 282" in check(cast.workspace, "x", text="🌸" * 141)["text"]
    )


def test_telegram_takes_less_text_beside_a_picture(cast):
    assert check(cast.workspace, "telegram", pictures_count=1, text="a" * TELEGRAM_CAPTION) == {}
    refused = check(cast.workspace, "telegram", pictures_count=1, text="a" * (TELEGRAM_CAPTION + 1))
    assert list(refused) == ["text"]
    assert f"Telegram takes at most {TELEGRAM_CAPTION} characters; this is" in refused["text"]
    # Without one, the text is a message of its own and may be as long as a message.
    assert check(cast.workspace, "telegram", text="a" * (TELEGRAM_CAPTION + 1)) == {}


@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_media_at_the_limit_pass_and_one_more_is_refused(cast, kind):
    name, _limit, most = NETWORKS[kind][:3]
    assert check(cast.workspace, kind, pictures_count=most, text="Весна") == {}
    refused = check(cast.workspace, kind, pictures_count=most + 1, text="Весна")
    assert refused == {"media": f"{name} takes at most {most} files."}


def test_instagram_refuses_a_post_without_a_picture(cast):
    refused = check(cast.workspace, "instagram", pictures_count=0, text="Весенняя акция")
    # One error, on the field to fix: the text itself is fine.
    assert list(refused) == ["media"]
    assert "Instagram publishes only posts with a picture" in refused["media"]
    assert list(check(cast.workspace, "instagram", pictures_count=0)) == ["media"]
    # A picture alone is a post: the caption may be empty.
    assert check(cast.workspace, "instagram", pictures_count=1) == {}


@pytest.mark.parametrize("kind", sorted(set(NETWORKS) - {"instagram"}))
def test_other_networks_take_text_without_a_picture(cast, kind):
    assert check(cast.workspace, kind, text="Весенняя акция") == {}
    assert list(check(cast.workspace, kind)) == ["text"]  # but not nothing at all


@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_a_link_where_the_network_takes_one(cast, kind):
    name, _limit, _most, takes_link = NETWORKS[kind][:4]
    found = check(cast.workspace, kind, text="Весна", link="https://salon.example/")
    assert found == ({} if takes_link else {"link": f"{name} does not take links."})


@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_a_first_comment_where_the_network_has_one(cast, kind):
    name, limit, _most, _link, first_comment = NETWORKS[kind]
    found = check(cast.workspace, kind, text="Весна", first_comment="Запись по ссылке")
    assert found == ({} if first_comment else {"first_comment": f"{name} has no first comment."})
    if first_comment:
        assert check(cast.workspace, kind, text="Весна", first_comment="a" * limit) == {}
        assert list(check(cast.workspace, kind, text="Весна", first_comment="a" * (limit + 1))) == [
            "first_comment"
        ]


@pytest.mark.parametrize("kind", ["rss", "email", "webchat", "webhook"])
def test_channels_that_cannot_publish_are_refused(cast, kind):
    found = check(cast.workspace, kind, text="Весна")
    assert found == {"channel": f"The channel “{kind}” cannot publish posts."}
