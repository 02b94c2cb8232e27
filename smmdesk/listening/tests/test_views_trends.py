"""The trends page: cards with their chart (a server-drawn SVG with the burst bar marked) and examples;
"Draft a post" (owner, SMM manager, content manager) makes a post in review with the trend's hashtag and
links it; "Dismiss" (owner, SMM manager); bad input named, other workspaces' trends not found."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from smmdesk.business.models import Service
from smmdesk.listening import charts
from smmdesk.listening.models import Trend
from smmdesk.listening.tests.test_views import (
    DRAFTERS,
    MANAGERS,
    NOW,
    ROLES,
    XSS,
    fake_channel,
    make_mention,
    make_source,
    make_trend,
    url,
)
from smmdesk.publishing.models import Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def setup(cast, clock):
    vk = fake_channel(cast.workspace, "VK group", "salon-vk")
    fake_channel(cast.workspace, "Telegram", "salon-tg", stands_for="telegram")
    Service.objects.create(workspace=cast.workspace, name="Мужская стрижка", price=600)
    source = make_source(cast.workspace, vk)
    examples = [
        make_mention(cast.workspace, f"Подстриглась #стрижкаоренбург {n}", source=source, minutes_ago=10 * n)
        for n in range(7)
    ]
    return make_trend(cast.workspace, examples=examples)


@pytest.mark.parametrize("role", ROLES)
def test_trend_card_with_chart_examples_and_buttons_by_role(cast, login, setup, role):
    body = login(cast.users[role]).get(url("trends")).content.decode()
    assert 'data-testid="trend-card"' in body and "#стрижкаоренбург" in body
    svg = re.search(r"<svg[^>]*data-testid=\"trend-svg\".*?</svg>", body, re.S).group(0)
    bars = re.findall(r'<rect class="bar( burst)?"', svg)
    assert len(bars) == 8 and bars.count(" burst") == 1
    assert body.count('data-testid="trend-example"') == 5  # at most five, newest first
    assert body.index("#стрижкаоренбург 0") < body.index("#стрижкаоренбург 4")
    assert 'data-testid="trend-score">7.3<' in body
    assert ('data-testid="trend-draft"' in body) == (role in DRAFTERS)
    assert ('data-testid="trend-dismiss"' in body) == (role in MANAGERS)


def test_the_burst_bar_is_the_bucket_the_burst_began_in_and_the_tallest_is_full_height(cast, setup):
    chart = charts.trend_geometry(setup, ZoneInfo("Asia/Yekaterinburg"))
    burst = [bar for bar in chart["bars"] if bar["burst"]]
    assert len(burst) == 1 and burst[0]["count"] == 9
    # Business time: the burst began at 07:00 UTC, 12:00 in Orenburg.
    assert burst[0]["label"] == "10.03 12:00"
    tallest = max(chart["bars"], key=lambda bar: bar["count"])
    assert tallest["count"] == 14 and tallest["y"] == charts.TOP
    heights = {bar["count"]: bar["height"] for bar in chart["bars"]}
    assert heights[0] == 0 and heights[2] == pytest.approx(2 * heights[1], abs=0.02)
    assert chart["top"] == 14


def test_chart_geometry_copes_with_nothing_and_with_junk_counts():
    empty = charts.geometry([], None, ZoneInfo("UTC"))
    assert empty["bars"] == [] and empty["marker"] is None
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    odd = charts.geometry([(moment, None), (moment + timedelta(hours=1), -4)], moment, ZoneInfo("UTC"))
    assert [bar["height"] for bar in odd["bars"]] == [0, 0]
    assert odd["bars"][0]["burst"]
    # The marker's label stays inside the frame at either edge.
    many = [(moment + timedelta(hours=n), n) for n in range(24)]
    assert charts.geometry(many, moment, ZoneInfo("UTC"))["marker"]["align"] == "start"
    assert charts.geometry(many, many[-1][0], ZoneInfo("UTC"))["marker"]["align"] == "end"
    assert charts.geometry(many, many[12][0], ZoneInfo("UTC"))["marker"]["align"] == "middle"


def test_trend_text_is_escaped_in_the_card_and_in_the_svg(cast, login, clock):
    make_trend(cast.workspace, key=f"#x{XSS}")
    body = login(cast.users["viewer"]).get(url("trends")).content.decode()
    assert "<script>alert(1)</script>" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in body


def test_draft_a_post_makes_a_post_in_review_with_the_hashtag_and_links_it(cast, login, setup):
    response = login(cast.users["content_manager"]).post(
        url("trend_draft", trend_id=setup.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    setup.refresh_from_db()
    assert setup.status == Trend.Status.DRAFTED and setup.post_id
    post = Post.objects.get(pk=setup.post_id)
    assert post.state == Post.State.IN_REVIEW
    texts = " ".join(v.text + " " + " ".join(v.hashtags) for v in post.variants.all())
    assert "#стрижкаоренбург" in texts
    link = reverse("publishing:post", kwargs={"slug": "salon", "post_id": post.pk})
    body = response.content.decode()
    assert f'href="{link}"' in body and 'data-testid="trend-draft"' not in body
    # Pressed again (a second tab): the same post, not another.
    login(cast.users["content_manager"]).post(url("trend_draft", trend_id=setup.pk), HTTP_HX_REQUEST="true")
    assert Post.objects.filter(workspace=cast.workspace).count() == 1


def test_draft_without_htmx_goes_to_the_post(cast, login, setup):
    response = login(cast.users["smm_manager"]).post(url("trend_draft", trend_id=setup.pk))
    setup.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "publishing:post", kwargs={"slug": "salon", "post_id": setup.post_id}
    )


@pytest.mark.parametrize("role", ROLES)
def test_who_may_draft_and_dismiss(cast, login, setup, role):
    client = login(cast.users[role])
    drafted = client.post(url("trend_draft", trend_id=setup.pk), HTTP_HX_REQUEST="true")
    assert drafted.status_code == (200 if role in DRAFTERS else 403)
    other = make_trend(cast.workspace, key="#другое")
    dismissed = client.post(url("trend_dismiss", trend_id=other.pk), HTTP_HX_REQUEST="true")
    other.refresh_from_db()
    if role in MANAGERS:
        assert dismissed.status_code == 200
        assert other.status == Trend.Status.DISMISSED
        assert 'data-status="dismissed"' in dismissed.content.decode()
    else:
        assert dismissed.status_code == 403
        assert other.status == Trend.Status.NEW


def test_status_tabs_and_a_bad_status(cast, login, setup):
    client = login(cast.users["viewer"])
    setup.status = Trend.Status.DISMISSED
    setup.save()
    assert 'data-testid="trend-card"' not in client.get(url("trends")).content.decode()
    assert 'data-testid="trend-card"' in client.get(url("trends"), {"status": "dismissed"}).content.decode()
    response = client.get(url("trends"), {"status": f"x{XSS}"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="error-status"' in body and "<script>alert(1)" not in body


def test_another_workspaces_trend_is_not_found(cast, login, clock):
    theirs = make_trend(cast.other)
    client = login(cast.users["owner"])
    assert client.post(url("trend_draft", trend_id=theirs.pk)).status_code == 404
    assert client.post(url("trend_dismiss", trend_id=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Trend.Status.NEW
    assert "#стрижкаоренбург" not in client.get(url("trends")).content.decode()


def test_dismissed_trend_cannot_be_drafted_quietly(cast, login, setup):
    """A trend dismissed in another tab: drafting it now is refused with a reason, or works; never a 500."""
    setup.status = Trend.Status.DISMISSED
    setup.save()
    response = login(cast.users["smm_manager"]).post(
        url("trend_draft", trend_id=setup.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code in (200, 409)
    if response.status_code == 409:
        assert 'data-testid="trend-error"' in response.content.decode()


def test_examples_in_the_card_link_only_to_the_web(cast, login, clock):
    vk = fake_channel(cast.workspace, "VK group", "salon-vk")
    source = make_source(cast.workspace, vk)
    bad = make_mention(cast.workspace, "one", source=source, url="javascript:alert(1)")
    good = make_mention(cast.workspace, "two", source=source, url="https://vk.example/wall-1")
    make_trend(cast.workspace, examples=[bad, good])
    body = login(cast.users["viewer"]).get(url("trends")).content.decode()
    assert "javascript:" not in body
    assert 'href="https://vk.example/wall-1" rel="nofollow noopener noreferrer ugc"' in body


def test_times_on_the_card_are_the_business_clock(cast, login, clock):
    make_trend(cast.workspace, started_at=NOW - timedelta(hours=2))
    body = login(cast.users["viewer"]).get(url("trends")).content.decode()
    assert "10.03.2026 12:00" in body  # 07:00 UTC in Orenburg
