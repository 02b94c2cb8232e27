"""The listening API: terms CRUD, sources (list, add, change, poll, remove), the mention stream with its
filters and pages, a mention's two buttons, trends (list, dismiss, draft a post), alerts and the
overview; each with its role, bad input a 422 naming the field, other workspaces' ids a 404, never 500."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from smmdesk.business.models import Service
from smmdesk.listening.models import ListeningAlert, Mention, Source, TrackedTerm, Trend
from smmdesk.listening.tests.test_views import (
    DRAFTERS,
    HANDLERS,
    MANAGERS,
    NOW,
    ROLES,
    fake_channel,
    make_mention,
    make_source,
    make_trend,
)
from smmdesk.publishing.models import Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def call(client, method, path, body=None, **params):
    if body is not None:
        return client.generic(
            method.upper(),
            f"/api/w/salon/listening/{path}",
            json.dumps(body),
            content_type="application/json",
        )
    return getattr(client, method)(f"/api/w/salon/listening/{path}", data=params or None)


def fields(response) -> dict:
    assert response.status_code == 422, (response.status_code, response.content[:300])
    return {error["field"]: error["message"] for error in response.json()["errors"]}


@pytest.fixture
def vk(cast):
    return fake_channel(cast.workspace, "VK group", "salon-vk")


@pytest.fixture
def source(cast, vk):
    return make_source(cast.workspace, vk)


# Terms


def test_terms_crud(cast, login, clock):
    client = login(cast.users["smm_manager"])
    created = call(
        client,
        "post",
        "terms",
        {"kind": "brand", "phrase": "Lokon", "exclusions": "локон волос", "languages": ["ru"]},
    )
    assert created.status_code == 201, created.content
    term = created.json()
    assert term["phrase"] == "Lokon" and term["exclusions"] == ["локон волос"] and term["languages"] == ["ru"]
    assert call(client, "get", "terms").json() == [term]
    assert call(client, "get", f"terms/{term['id']}").json() == term

    changed = call(client, "patch", f"terms/{term['id']}", {"active": False})
    assert changed.status_code == 200
    assert changed.json()["active"] is False and changed.json()["phrase"] == "Lokon"  # the rest kept
    assert call(client, "delete", f"terms/{term['id']}").status_code == 204
    assert not TrackedTerm.objects.exists()


@pytest.mark.parametrize(
    "body,field",
    [
        ({"kind": "brand"}, "phrase"),
        ({"kind": "brand", "phrase": ""}, "phrase"),
        ({"kind": "planet", "phrase": "Lokon"}, "kind"),
        ({"kind": "brand", "phrase": 5}, "phrase"),
    ],
)
def test_bad_term_is_a_422_naming_the_field(cast, login, clock, body, field):
    response = call(login(cast.users["owner"]), "post", "terms", body)
    assert field in fields(response)
    assert not TrackedTerm.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_terms_roles(cast, login, clock, role):
    client = login(cast.users[role])
    assert call(client, "get", "terms").status_code == 200
    created = call(client, "post", "terms", {"kind": "brand", "phrase": "Lokon"})
    assert created.status_code == (201 if role in MANAGERS else 403)


def test_another_workspaces_term_is_404(cast, login, clock):
    theirs = TrackedTerm.objects.create(workspace=cast.other, kind="brand", phrase="Rival")
    client = login(cast.users["owner"])
    assert call(client, "get", f"terms/{theirs.pk}").status_code == 404
    assert call(client, "patch", f"terms/{theirs.pk}", {"phrase": "Mine"}).status_code == 404
    assert call(client, "delete", f"terms/{theirs.pk}").status_code == 404
    assert TrackedTerm.objects.filter(pk=theirs.pk, phrase="Rival").exists()


# Sources


def test_sources_add_change_poll_remove(cast, login, clock, vk):
    client = login(cast.users["owner"])
    choices = call(client, "get", "source-choices").json()
    assert {"channel_id": vk.pk, "channel": "VK group"}.items() <= choices[0].items()
    created = call(client, "post", "sources", {"channel": vk.pk, "interval_minutes": 30})
    assert created.status_code == 201, created.content
    source = created.json()
    assert source["channel"] == "VK group" and source["interval_minutes"] == 30 and source["health"] == "new"
    assert call(client, "get", "sources").json()[0]["id"] == source["id"]

    changed = call(client, "patch", f"sources/{source['id']}", {"interval_minutes": 60})
    assert changed.status_code == 200 and changed.json()["interval_minutes"] == 60
    assert changed.json()["active"] is True
    assert fields(call(client, "patch", f"sources/{source['id']}", {"interval_minutes": 1}))

    Source.objects.filter(pk=source["id"]).update(next_poll_at=NOW + timedelta(hours=5))
    polled = call(client, "post", f"sources/{source['id']}/poll")
    assert polled.status_code == 200
    assert Source.objects.get(pk=source["id"]).next_poll_at <= NOW

    assert call(client, "delete", f"sources/{source['id']}").status_code == 204
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    "body,field",
    [
        ({"interval_minutes": 30}, "channel"),
        ({"channel": 999999, "interval_minutes": 30}, "channel"),
        ({"channel": "VK", "interval_minutes": 2}, "interval_minutes"),
        ({"channel": "VK", "interval_minutes": "often"}, "interval_minutes"),
    ],
)
def test_bad_source_is_a_422(cast, login, clock, vk, body, field):
    if body.get("channel") == "VK":
        body = {**body, "channel": vk.pk}
    assert field in fields(call(login(cast.users["owner"]), "post", "sources", body))
    assert not Source.objects.exists()


def test_health_and_last_error_are_reported(cast, login, clock, vk):
    make_source(cast.workspace, vk, health="failing", failures=2, last_error="HTTP 404 Not Found")
    source = call(login(cast.users["viewer"]), "get", "sources").json()[0]
    assert (source["health"], source["failures"], source["last_error"]) == (
        "failing",
        2,
        "HTTP 404 Not Found",
    )


# Mentions


def test_mentions_filters_and_pages(cast, login, clock, source):
    brand = TrackedTerm.objects.create(workspace=cast.workspace, kind="brand", phrase="Lokon")
    for n in range(5):
        make_mention(cast.workspace, f"Lokon хорошо {n}", source=source, minutes_ago=n, sentiment="positive")
    bad = make_mention(
        cast.workspace,
        "Lokon плохо",
        source=source,
        minutes_ago=30,
        sentiment="negative",
        terms=[brand],
        similar=2,
    )
    client = login(cast.users["viewer"])
    page = call(client, "get", "mentions", limit=2).json()
    assert [m["text"] for m in page["items"]] == ["Lokon хорошо 0", "Lokon хорошо 1"]
    seen = [m["id"] for m in page["items"]]
    while page["next_before"]:
        page = call(client, "get", "mentions", limit=2, before=page["next_before"]).json()
        seen += [m["id"] for m in page["items"]]
    assert len(seen) == len(set(seen)) == 6  # reposts folded in, every mention once

    only = call(client, "get", "mentions", sentiment="negative").json()["items"]
    assert [m["id"] for m in only] == [bad.pk]
    assert only[0]["similar"] == 2 and only[0]["terms"] == ["Lokon"] and only[0]["channel"] == "VK group"
    assert [m["id"] for m in call(client, "get", "mentions", term=brand.pk).json()["items"]] == [bad.pk]
    assert [m["id"] for m in call(client, "get", "mentions", q="плохо").json()["items"]] == [bad.pk]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"sentiment": "angry"}, "sentiment"),
        ({"status": "done"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"before": "x"}, "before"),
        ({"term": -1}, "term"),
    ],
)
def test_bad_mention_filters_are_422(cast, login, clock, params, field):
    assert field in fields(call(login(cast.users["viewer"]), "get", "mentions", **params))


@pytest.mark.parametrize("role", ROLES)
def test_handle_and_send_to_inbox_by_role(cast, login, clock, source, role):
    mention = make_mention(cast.workspace, "Ужасно подстригли", source=source, sentiment="negative")
    client = login(cast.users[role])
    handled = call(client, "post", f"mentions/{mention.pk}/handle")
    sent = call(client, "post", f"mentions/{mention.pk}/inbox")
    if role in HANDLERS:
        assert handled.status_code == 200 and handled.json()["status"] == "handled"
        assert sent.status_code == 200 and sent.json()["conversation_id"]
        again = call(client, "post", f"mentions/{mention.pk}/inbox").json()
        assert again["conversation_id"] == sent.json()["conversation_id"]
    else:
        assert (handled.status_code, sent.status_code) == (403, 403)
        mention.refresh_from_db()
        assert mention.status == Mention.Status.NEW and mention.conversation_id is None


def test_another_workspaces_mention_is_404(cast, login, clock):
    theirs = make_mention(
        cast.other, "чужое", source=make_source(cast.other, fake_channel(cast.other, "R", "r-vk"))
    )
    client = login(cast.users["owner"])
    for path in (f"mentions/{theirs.pk}", f"mentions/{theirs.pk}/handle", f"mentions/{theirs.pk}/inbox"):
        method = "get" if path.count("/") == 1 else "post"
        assert call(client, method, path).status_code == 404
    assert call(client, "get", "mentions").json()["items"] == []


# Trends, alerts, overview


@pytest.fixture
def trend(cast, source):
    fake_channel(cast.workspace, "Telegram", "salon-tg", stands_for="telegram")
    Service.objects.create(workspace=cast.workspace, name="Свадебная причёска", price=3500)
    example = make_mention(cast.workspace, "#стрижкаоренбург классно", source=source)
    return make_trend(cast.workspace, examples=[example])


def test_trends_list_with_counts_and_examples(cast, login, clock, trend):
    found = call(login(cast.users["viewer"]), "get", "trends").json()
    assert [t["id"] for t in found] == [trend.pk]
    assert found[0]["key"] == "#стрижкаоренбург" and found[0]["emerging"] is True
    assert [c["count"] for c in found[0]["counts"]] == [1, 0, 2, 1, 0, 1, 9, 14]
    assert found[0]["example_ids"] == [m.pk for m in trend.examples.all()]
    assert call(login(cast.users["viewer"]), "get", "trends", status="dismissed").json() == []
    assert "status" in fields(call(login(cast.users["viewer"]), "get", "trends", status="gone"))


@pytest.mark.parametrize("role", ROLES)
def test_draft_a_post_from_a_trend_by_role(cast, login, clock, trend, role):
    response = call(login(cast.users[role]), "post", f"trends/{trend.pk}/draft")
    if role not in DRAFTERS:
        assert response.status_code == 403
        assert not Post.objects.exists()
        return
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "drafted" and body["post_id"]
    post = Post.objects.get(pk=body["post_id"])
    assert post.state == Post.State.IN_REVIEW
    assert any("#стрижкаоренбург" in v.text + " ".join(v.hashtags) for v in post.variants.all())
    again = call(login(cast.users[role]), "post", f"trends/{trend.pk}/draft").json()
    assert again["post_id"] == body["post_id"] and Post.objects.count() == 1


@pytest.mark.parametrize("role", ROLES)
def test_dismiss_a_trend_by_role(cast, login, clock, trend, role):
    response = call(login(cast.users[role]), "post", f"trends/{trend.pk}/dismiss")
    trend.refresh_from_db()
    if role in MANAGERS:
        assert response.status_code == 200 and response.json()["status"] == "dismissed"
        assert trend.status == Trend.Status.DISMISSED
    else:
        assert response.status_code == 403 and trend.status == Trend.Status.NEW


def test_another_workspaces_trend_is_404(cast, login, clock):
    theirs = make_trend(cast.other)
    client = login(cast.users["owner"])
    assert call(client, "get", f"trends/{theirs.pk}").status_code == 404
    assert call(client, "post", f"trends/{theirs.pk}/draft").status_code == 404
    assert call(client, "post", f"trends/{theirs.pk}/dismiss").status_code == 404
    assert call(client, "get", "trends").json() == []


def test_alerts_and_overview(cast, login, clock, source):
    negative = make_mention(cast.workspace, "ужасно", source=source, sentiment="negative", minutes_ago=10)
    ListeningAlert.objects.create(
        workspace=cast.workspace,
        kind="negative",
        key=f"negative:{negative.pk}",
        mention=negative,
        text="ужасно",
    )
    ListeningAlert.objects.create(workspace=cast.other, kind="spike", key="spike:x", text="theirs")
    client = login(cast.users["viewer"])
    alerts = call(client, "get", "alerts").json()
    assert [(a["kind"], a["mention_id"]) for a in alerts] == [("negative", negative.pk)]
    assert "limit" in fields(call(client, "get", "alerts", limit=0))
    overview = call(client, "get", "overview").json()
    assert overview["mentions_24h"] == 1 and overview["negative_24h"] == 1


def test_anonymous_is_401(client, cast):
    assert client.get("/api/w/salon/listening/mentions").status_code == 401
