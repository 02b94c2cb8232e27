"""Small model rules: the idempotency key, the link with UTM, the text with hashtags, the settings."""

from datetime import UTC, datetime

from smmdesk.publishing import actions
from smmdesk.publishing.models import Post, PublishingSettings, Variant, add_utm
from smmdesk.publishing.tests.core_fixtures import *  # noqa: F403


def test_idempotency_key_names_the_variant_and_its_run(cast, channels):
    post = Post.objects.create(
        workspace=cast.workspace, scheduled_at=datetime(2026, 3, 12, 7, 30, tzinfo=UTC)
    )
    variant = Variant.objects.create(post=post, channel=channels[0])
    assert variant.idempotency_key() == f"variant-{variant.pk}-20260312T0730"
    # Once fixed at the first attempt, moving the post does not change the key.
    variant.occurrence = post.scheduled_at
    post.scheduled_at = datetime(2026, 3, 13, 7, 30, tzinfo=UTC)
    assert variant.idempotency_key() == f"variant-{variant.pk}-20260312T0730"


def test_link_with_utm_keeps_what_the_link_has():
    link = "https://salon.example/offer?utm_source=mine&x=1"
    assert add_utm(link, {"source": "vk", "medium": "social", "campaign": "spring sale"}) == (
        "https://salon.example/offer?utm_source=mine&x=1&utm_medium=social&utm_campaign=spring+sale"
    )
    assert add_utm("", {"source": "vk"}) == ""
    assert add_utm("https://a.example/", {}) == "https://a.example/"


def test_hashtags_follow_the_text_once():
    variant = Variant(text="Spring #sale is here", hashtags=["sale", "#spring", " "])
    assert variant.full_text() == "Spring #sale is here\n\n#spring"
    assert Variant(text="", hashtags=["a"]).full_text() == "#a"


def test_settings_are_made_on_demand_and_the_token_rotates(cast, members):
    settings = actions.settings_for(cast.workspace)
    assert settings.approval_required and len(settings.ical_token) >= 40
    assert actions.settings_for(cast.workspace).pk == settings.pk
    rotated = actions.rotate_ical_token(members["owner"])
    assert rotated.ical_token != settings.ical_token
    assert PublishingSettings.objects.get(workspace=cast.workspace).ical_token == rotated.ical_token
