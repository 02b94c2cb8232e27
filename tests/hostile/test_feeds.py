"""The hostile feed corpus through listening: a feed source polled from a local server serving each case.

A feed that cannot be read must leave the source failing with a message saying why (the source's
health), never an exception out of the poll; one that can be read stores mentions PostgreSQL can hold.
Entity expansion (billion laughs) and external entities are refused before they are expanded.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from tests.corpus import bodies
from tests.hostile.conftest import NOW, unstorable_rows

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]
CASES = bodies.feed_cases()
REFUSED = {
    "empty",
    "truncated",
    "billion_laughs",
    "external_entity",
    "nul_byte",
    "nul_reference",
    "html_page",
}


@pytest.fixture
def source(db, world, clock, mock_api):
    from smmdesk.channels import actions as channel_actions
    from smmdesk.channels.models import Channel
    from smmdesk.listening.models import Source

    cache.clear()
    channel = channel_actions.create_channel(
        world.cast.workspace, "rss", "Feeds", {"feed_url": mock_api.base + "/feed.xml"}
    )
    Channel.objects.filter(pk=channel.pk).update(status=Channel.Status.OK)
    yield Source.objects.create(workspace=world.cast.workspace, channel=channel, kind=Source.Kind.SEARCH)
    cache.clear()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_feed(source, mock_api, case):
    from smmdesk.listening.models import Mention, Source
    from smmdesk.listening.sources import poll_source

    mock_api.route("GET", "/feed.xml")(
        lambda request: (200, {"Content-Type": "application/rss+xml"}, case.data)
    )
    Source.objects.filter(pk=source.pk).update(claimed_until=NOW + timedelta(seconds=30))
    polled = poll_source(source.pk, now=NOW)
    mentions = Mention.objects.filter(workspace=source.workspace, channel=source.channel)
    if polled.health == Source.Health.OK:
        assert case.name not in REFUSED, (case.name, list(mentions.values_list("text", flat=True)))
        assert "lol" * 10 not in " ".join(mentions.values_list("text", flat=True))
    else:
        assert polled.last_error, case.name
        assert not mentions.exists()
    if case.name == "good":
        assert mentions.count() == 1
    assert unstorable_rows() == []


# --- e-mail: the mailbox poll reads hostile messages ------------------------------------------------------

MAILS = bodies.mail_cases()


@pytest.mark.parametrize("case", MAILS, ids=[case.name for case in MAILS])
def test_mail(db, world, case):
    """Each message becomes an event (the adapter stands one in for a message it cannot read) that the
    inbox takes in, or is skipped as automatic; nothing stored may hold NUL."""
    from smmdesk.channels import actions as channel_actions
    from smmdesk.channels.email import imap
    from smmdesk.inbox.ingest import ingest
    from smmdesk.inbox.models import Message

    values = {
        **{
            "from_address": "salon@example.com",
            "imap_host": "mail.example.com",
            "smtp_host": "mail.example.com",
        },
        **{"username": "salon@example.com", "password": "hostile-password-1"},
    }
    channel = channel_actions.create_channel(world.cast.workspace, "email", "Mail", values)
    event = channel.adapter()._event(imap.Fetched(uid=7, raw=case.data, internaldate=NOW), None)
    if event is None:  # read as an automatic message (no sender): skipped, as a bounce is
        assert case.name == "garbage"
        return
    ingest(channel, [event])
    assert Message.objects.filter(channel=channel).count() == 1
    assert unstorable_rows() == []
