"""VK listening: newsfeed.search against the local VK server, with answers shaped like VK's documentation
(fixtures/newsfeed_search.json): posts as mentions, names from the answer (or users.get), pages by
next_from, the user token it needs."""

from datetime import UTC, datetime
from functools import partial

import pytest

from smmdesk.channels.base import AdapterError, Capability
from smmdesk.channels.vk.adapter import VKAdapter
from smmdesk.channels.vk.tests import conftest as vk_conftest
from smmdesk.channels.vk.tests.conftest import GROUP, USER, fixture

METHOD = "/method/newsfeed.search"


@pytest.fixture
def feed(vk, monkeypatch):
    """newsfeed.search on the local VK server: the fixture's page, then an empty last page. Like every
    method there, it checks the key; VK lets only a user token call it."""
    monkeypatch.setattr(vk_conftest, "USER_ONLY", vk_conftest.USER_ONLY | {"newsfeed.search"})
    pages = [fixture("newsfeed_search")["response"], {"items": [], "count": 0, "profiles": [], "groups": []}]
    vk.m_newsfeed_search = lambda form, kind: pages[1] if form.get("start_from") else pages[0]
    vk.api.route("POST", METHOD)(partial(vk._dispatch, "newsfeed.search"))
    return vk


def calls(vk):
    return [r.form() for r in vk.api.calls("POST", METHOD)]


def test_vk_declares_search():
    assert Capability.SEARCH in VKAdapter.capabilities


def test_search_turns_posts_into_mentions_with_names_links_and_views(feed, make_adapter):
    since = datetime(2025, 11, 26, 0, 0, tzinfo=UTC)
    events = make_adapter().search("Локон", since)
    # The community's own post is not a mention of it.
    assert [e.external_id for e in events] == ["wall5551002_3301", "wall-303030_77", "wall5551003_3290"]
    person, page, repost = events
    assert (person.kind, person.thread_id, person.author_id) == ("mention", "wall5551002_3301", "5551002")
    assert (person.author_name, person.author_handle) == ("Игорь Петров", "igor.petrov")
    assert person.author_url == "https://vk.com/igor.petrov"
    assert person.created_at == datetime.fromtimestamp(1764171000, UTC)
    assert person.raw["views"]["count"] == 913
    assert person.raw["url"] == "https://vk.com/wall5551002_3301"
    assert (page.author_id, page.author_name) == ("-303030", "Афиша Оренбурга")
    assert page.attachments == [
        {"type": "link", "url": "https://example.org/salons", "title": "Салоны Оренбурга"}
    ]
    # A bare repost speaks with the reposted words; its author, missing from the answer, is asked for.
    assert repost.text == person.text
    assert repost.author_name == "Ольга Кузнецова"
    first, second = calls(feed)
    assert first["q"] == "Локон" and first["extended"] == "1" and first["count"] == "200"
    assert first["start_time"] == str(int(since.timestamp())) and first["v"] == "5.199"
    assert first["access_token"] == USER and "start_from" not in first
    assert second["start_from"] == "3/-218000111_130"


def test_search_leaves_out_posts_older_than_since(feed, make_adapter):
    since = datetime.fromtimestamp(1764170000, UTC)
    assert [e.external_id for e in make_adapter().search("Локон", since)] == [
        "wall5551002_3301",
        "wall-303030_77",
    ]


def test_search_without_a_user_token_says_it_needs_one(feed, make_adapter):
    with pytest.raises(AdapterError) as failed:
        make_adapter(user_token=None).search("Локон", None)
    assert failed.value.permanent and not failed.value.reconnect
    assert "user access token" in failed.value.message and "community token" in failed.value.message
    assert calls(feed) == []


def test_search_with_a_revoked_user_token_asks_for_reconnecting(feed, make_adapter):
    feed.revoked.add(USER)
    with pytest.raises(AdapterError) as failed:
        make_adapter().search("Локон", None)
    assert failed.value.reconnect
    assert USER not in failed.value.message


def test_search_rate_limit_keeps_the_wait_vk_implies(feed, make_adapter, no_backoff):
    feed.fail("newsfeed.search", 9, "Flood control")
    with pytest.raises(AdapterError) as failed:
        make_adapter().search("Локон", None)
    assert failed.value.retry_after == 60.0 and "newsfeed.search" in failed.value.message


def test_a_community_token_in_the_user_field_is_refused_by_vk_and_asks_for_reconnecting(feed, make_adapter):
    # VK answers 27 when a community key calls a user-only method: the key in that field is the wrong kind.
    with pytest.raises(AdapterError) as failed:
        make_adapter(user_token=vk_conftest.COMMUNITY).search("Локон", None)
    assert failed.value.reconnect and str(GROUP) not in failed.value.message
