"""The publishing pages: who may see and do what on a post (viewer reads, content manager drafts and
submits, SMM manager approves and schedules), per-variant errors at their fields, escaping of what people
type, the live preview, settings and the performance page. Helpers here are shared by the other
test_views* modules."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from smmdesk.accounts.models import Membership
from smmdesk.channels import actions as channel_actions
from smmdesk.publishing import actions
from smmdesk.publishing.models import Post, PostEvent, PublishingSettings, Variant, VariantMetric

pytestmark = pytest.mark.django_db

ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
DRAFTERS = {"owner", "smm_manager", "content_manager"}
MANAGERS = {"owner", "smm_manager"}
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 14:00 in Orenburg (Asia/Yekaterinburg, UTC+5)
XSS = '<img src=x onerror=alert(1)>"><script>alert(1)</script>'


def url(name, slug="salon", **kwargs):
    return reverse(f"publishing:{name}", kwargs={"slug": slug, **kwargs})


def member(cast, role, workspace=None) -> Membership:
    user = cast.users[role] if workspace is None else cast.outsider
    return Membership.objects.get(workspace=workspace or cast.workspace, user=user)


def fake_channel(workspace, name, account, stands_for="other"):
    return channel_actions.create_channel(
        workspace,
        "fake",
        name,
        {"account_id": account, "api_token": f"token-{account}-12345", "stands_for": stands_for},
    )


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def two_channels(workspace):
    """A fake channel standing for VK and one for Telegram (both take 2000 characters)."""
    return [
        fake_channel(workspace, "VK group", "salon-vk", "vk"),
        fake_channel(workspace, "Telegram channel", "salon-tg", "telegram"),
    ]


@pytest.fixture
def channels(cast):
    return two_channels(cast.workspace)


def make_post(cast, channels, author="content_manager", text="Spring offer: 20% off", **fields):
    data = {
        "title": fields.pop("title", "Spring offer"),
        "variants": [{"channel": c.pk, "text": text} for c in channels],
        **fields,
    }
    return actions.create_post(member(cast, author), data)


def editor_data(channels, texts=None, **fields) -> dict:
    """What the editor's form posts: the post's fields and one prefixed set per chosen channel."""
    data = {
        "title": "Spring offer",
        "campaign": "",
        "new_campaign": "",
        "date": "",
        "time": "",
        "recurrence": "",
    }
    data.update(fields)
    data["channels"] = [str(c.pk) for c in channels]
    for n, channel in enumerate(channels):
        data[f"v{channel.pk}-text"] = (texts or {}).get(n, f"Text for {channel.name}")
    return data


def form_error(response, field_name) -> str:
    """The text of the error list the page shows at that field (empty if none)."""
    body = response.content.decode()
    match = re.search(rf'data-testid="error-{re.escape(field_name)}">(.*?)</ul>', body, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


# Who sees what


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_calendar_and_the_library(cast, client, channels, role):
    post = make_post(cast, channels)
    client.force_login(cast.users[role])
    for name in ("calendar", "calendar_week", "calendar_list", "media", "performance"):
        assert client.get(url(name)).status_code == 200, name
    page = client.get(url("post", post_id=post.pk))
    assert page.status_code == 200
    assert b"Spring offer" in page.content
    settings = client.get(url("settings")).status_code
    assert settings == (200 if role in MANAGERS else 403)
    assert client.get(url("post_new")).status_code == (200 if role in DRAFTERS else 403)


def test_the_calendar_is_in_the_navigation(cast, client):
    client.force_login(cast.users["viewer"])
    page = client.get(reverse("core:dashboard", kwargs={"slug": "salon"})).content.decode()
    assert f'href="{url("calendar")}">Calendar</a>' in page
    calendar = client.get(url("media")).content.decode()
    assert f'href="{url("calendar")}" aria-current="page">Calendar</a>' in calendar


def test_a_viewer_reads_a_post_but_can_do_nothing_to_it(cast, client, channels):
    post = make_post(cast, channels)
    actions.submit(member(cast, "content_manager"), post)
    client.force_login(cast.users["viewer"])
    page = client.get(url("post", post_id=post.pk)).content.decode()
    assert 'data-testid="read-only"' in page
    for testid in ("edit", "submit", "approve", "reject-form", "schedule-form", "delete"):
        assert f'data-testid="{testid}"' not in page
    assert client.post(url("post_new"), editor_data(channels)).status_code == 403
    assert client.post(url("post_approve", post_id=post.pk)).status_code == 403
    assert client.post(url("post_reject", post_id=post.pk), {"comment": "no"}).status_code == 403
    assert client.post(url("post_reschedule", post_id=post.pk), {"date": "2026-04-01"}).status_code == 403
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW


def test_a_content_manager_drafts_and_submits_but_cannot_approve(cast, client, channels, clock):
    client.force_login(cast.users["content_manager"])
    response = client.post(
        url("post_new"),
        editor_data(channels, date="2026-03-12", time="10:30", action="submit"),
    )
    post = Post.objects.get(workspace=cast.workspace)
    assert response.status_code == 302 and response["Location"] == url("post", post_id=post.pk)
    assert post.state == Post.State.IN_REVIEW
    # 10:30 in Orenburg is 05:30 UTC.
    assert post.scheduled_at == datetime(2026, 3, 12, 5, 30, tzinfo=UTC)
    assert sorted(post.variants.values_list("text", flat=True)) == [
        "Text for Telegram channel",
        "Text for VK group",
    ]
    assert post.created_by == member(cast, "content_manager")

    page = client.get(url("post", post_id=post.pk)).content.decode()
    assert 'data-testid="approve"' not in page and 'data-testid="reject-form"' not in page
    assert 'data-testid="edit"' in page
    assert client.post(url("post_approve", post_id=post.pk)).status_code == 403
    assert client.post(url("post_reject", post_id=post.pk), {"comment": "x"}).status_code == 403
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    # Scheduling before approval is refused with the reason, not done.
    response = client.post(url("post_schedule", post_id=post.pk), {"date": "2026-03-12", "time": "11:00"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    follow = client.get(url("post", post_id=post.pk)).content.decode()
    assert "You may not do this to this post." in follow or "needs approval" in follow


def test_the_smm_manager_approves_and_it_is_scheduled_for_its_time(cast, client, channels, clock):
    post = make_post(cast, channels, scheduled_at=datetime(2026, 3, 12, 5, 30, tzinfo=UTC))
    actions.submit(member(cast, "content_manager"), post)
    client.force_login(cast.users["smm_manager"])
    page = client.get(url("post", post_id=post.pk)).content.decode()
    assert 'data-testid="approve"' in page and 'data-testid="reject-form"' in page
    assert client.post(url("post_approve", post_id=post.pk)).status_code == 302
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED
    assert post.approved_by == member(cast, "smm_manager")
    page = client.get(url("post", post_id=post.pk)).content.decode()
    assert 'data-state="scheduled"' in page
    assert "12.03.2026 10:30" in page  # shown in the business's time zone
    history = re.search(r'data-testid="post-history">(.*?)</ol>', page, re.S).group(1)
    assert "submitted it for review" in history and "approved it" in history
    assert re.search(r"scheduled it → <time[^>]*>12\.03\.2026 10:30</time>", history)


def test_rejecting_needs_a_comment_and_the_author_sees_it(cast, client, channels):
    post = make_post(cast, channels)
    actions.submit(member(cast, "content_manager"), post)
    client.force_login(cast.users["smm_manager"])
    refused = client.post(url("post_reject", post_id=post.pk), {"comment": "  "})
    assert refused.status_code == 400
    assert "Say what should change" in form_error(refused, "comment")
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    client.post(url("post_reject", post_id=post.pk), {"comment": "Add the price <b>please</b>"})
    post.refresh_from_db()
    assert post.state == Post.State.DRAFT
    client.force_login(cast.users["content_manager"])
    page = client.get(url("post", post_id=post.pk)).content.decode()
    assert "Add the price &lt;b&gt;please&lt;/b&gt;" in page
    assert "<b>please</b>" not in page


def test_the_smm_manager_schedules_an_approved_post_in_local_time(cast, client, channels, clock):
    post = make_post(cast, channels)
    actions.submit(member(cast, "content_manager"), post)
    actions.approve(member(cast, "smm_manager"), post)
    client.force_login(cast.users["smm_manager"])
    response = client.post(url("post_schedule", post_id=post.pk), {"date": "2026-03-15", "time": "09:00"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED
    assert post.scheduled_at == datetime(2026, 3, 15, 4, 0, tzinfo=UTC)
    # A time already past is refused at the field, nothing changes.
    refused = client.post(url("post_schedule", post_id=post.pk), {"date": "2026-03-01", "time": "09:00"})
    assert refused.status_code == 400
    assert "has passed" in form_error(refused, "date")
    bad = client.post(url("post_schedule", post_id=post.pk), {"date": "soon", "time": "25:00"})
    assert bad.status_code == 400
    assert form_error(bad, "date") and form_error(bad, "time")
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 15, 4, 0, tzinfo=UTC)


def test_another_workspaces_posts_are_not_found(cast, client, channels):
    theirs_channel = fake_channel(cast.other, "Their VK", "rival-vk")
    theirs = actions.create_post(
        member(cast, "owner", workspace=cast.other),
        {"variants": [{"channel": theirs_channel.pk, "text": "x"}]},
    )
    variant = theirs.variants.get()
    client.force_login(cast.users["owner"])
    for name in ("post", "post_edit"):
        assert client.get(url(name, post_id=theirs.pk)).status_code == 404
    for name in (
        "post_submit",
        "post_approve",
        "post_reject",
        "post_schedule",
        "post_delete",
        "post_reschedule",
    ):
        assert (
            client.post(url(name, post_id=theirs.pk), {"comment": "x", "date": "2026-04-01"}).status_code
            == 404
        )
    assert client.post(url("variant_retry", variant_id=variant.pk)).status_code == 404
    # And their workspace itself is not found for us.
    assert client.get(url("calendar", slug="rival")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == Post.State.DRAFT


# The editor


def test_variant_errors_are_shown_at_their_channels_fields(cast, client, channels):
    vk, telegram = channels
    client.force_login(cast.users["content_manager"])
    # The fake network takes 2000 characters, whichever network it stands for.
    data = editor_data(channels, texts={1: "x" * 2500})
    data[f"v{vk.pk}-link"] = "javascript:alert(1)"
    response = client.post(url("post_new"), data)
    assert response.status_code == 400
    assert not Post.objects.exists()
    assert "at most 2000" in form_error(response, f"v{telegram.pk}-text")
    assert form_error(response, f"v{vk.pk}-text") == ""
    assert "http" in form_error(response, f"v{vk.pk}-link")
    # What was typed is kept.
    assert "x" * 2500 in response.content.decode()


def test_the_editor_refuses_bad_post_fields_by_name(cast, client, channels):
    client.force_login(cast.users["content_manager"])
    response = client.post(url("post_new"), {**editor_data(channels, date="2026-03-12"), "channels": []})
    assert response.status_code == 400
    assert "at least one channel" in form_error(response, "channels")
    assert "both the date and the time" in form_error(response, "time")
    repeat = client.post(url("post_new"), editor_data(channels, recurrence="weekly"))
    assert "first run" in form_error(repeat, "date")
    assert not Post.objects.exists()


def test_editing_saves_variants_media_link_and_hashtags(cast, client, channels, clock):
    post = make_post(cast, channels)
    vk, telegram = channels
    client.force_login(cast.users["content_manager"])
    edit = client.get(url("post_edit", post_id=post.pk)).content.decode()
    assert "Spring offer: 20% off" in edit
    # Best times: until a channel has history, its network's usual slots (Tuesday 19:00 for VK).
    assert 'data-testid="best-times"' in edit and 'data-fill-time="19:00"' in edit
    # The counter knows each network's limit; only the fake VK takes a first comment.
    assert 'data-max-length="2000"' in edit
    assert f'name="v{vk.pk}-first_comment"' in edit
    data = editor_data([vk], texts={0: "New text"}, new_campaign="Spring")
    data.update(
        {
            f"v{vk.pk}-link": "https://salon.example/offer",
            f"v{vk.pk}-utm_source": "vk",
            f"v{vk.pk}-utm_medium": "social",
            f"v{vk.pk}-hashtags": "#spring, haircut",
            f"v{vk.pk}-first_comment": "Book now",
        }
    )
    assert client.post(url("post_edit", post_id=post.pk), data).status_code == 302
    post.refresh_from_db()
    variant = post.variants.get()  # the Telegram variant was left out: removed
    assert variant.channel == vk
    assert variant.hashtags == ["spring", "haircut"]
    assert variant.link_with_utm() == "https://salon.example/offer?utm_source=vk&utm_medium=social"
    assert variant.first_comment == "Book now"
    assert post.campaign.name == "Spring"
    assert PostEvent.objects.filter(post=post, action="edited").exists()


def test_a_drafter_editing_an_approved_post_is_warned_it_goes_back_to_review(cast, client, channels, clock):
    post = make_post(cast, channels)
    actions.submit(member(cast, "content_manager"), post)
    actions.approve(member(cast, "smm_manager"), post)
    client.force_login(cast.users["content_manager"])
    assert 'data-testid="loses-approval"' in client.get(url("post_edit", post_id=post.pk)).content.decode()
    client.post(url("post_edit", post_id=post.pk), editor_data(channels))
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    client.force_login(cast.users["smm_manager"])
    assert (
        'data-testid="loses-approval"' not in client.get(url("post_edit", post_id=post.pk)).content.decode()
    )


def test_what_people_type_is_escaped_everywhere(cast, client, channels, clock):
    post = make_post(
        cast, channels, text=XSS, title=XSS, scheduled_at=datetime(2026, 3, 12, 5, 30, tzinfo=UTC)
    )
    client.force_login(cast.users["viewer"])
    for page_url in (
        url("post", post_id=post.pk),
        url("calendar") + "?month=2026-03",
        url("calendar_week") + "?week=2026-03-12",
        url("calendar_list") + "?from=2026-03-01",
    ):
        body = client.get(page_url).content.decode()
        assert "<script>alert(1)</script>" not in body, page_url
        assert "<img src=x" not in body, page_url
        assert "&lt;script&gt;" in body or "&lt;img" in body, page_url


def test_the_live_preview_shows_each_network_escaped_with_its_limit(cast, client, channels):
    vk, telegram = channels
    client.force_login(cast.users["content_manager"])
    data = editor_data(channels, texts={0: XSS, 1: "y" * 2100})
    data[f"v{vk.pk}-hashtags"] = "sale"
    data[f"v{vk.pk}-link"] = "https://salon.example/?a=1"
    data[f"v{vk.pk}-utm_campaign"] = "spring"
    response = client.post(url("preview"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-testid="preview-{vk.pk}"' in body and f'data-testid="preview-{telegram.pk}"' in body
    assert "family-feed" in body and "family-message" in body  # VK looks like a feed, Telegram a chat
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
    assert "#sale" in body
    assert "https://salon.example/?a=1&amp;utm_campaign=spring" in body
    assert "characters over this network" in body  # only Telegram's text is over 2000
    assert body.count("characters over this network") == 1
    assert client.get(url("preview")).status_code == 405
    client.force_login(cast.users["viewer"])
    assert client.post(url("preview"), data).status_code == 403


def test_buttons_follow_the_state_and_the_role(cast, client, channels, clock):
    post = make_post(cast, channels)
    client.force_login(cast.users["content_manager"])
    draft = client.get(url("post", post_id=post.pk)).content.decode()
    assert 'data-testid="submit"' in draft and 'data-testid="delete"' in draft
    assert client.post(url("post_submit", post_id=post.pk)).status_code == 302
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    in_review = client.get(url("post", post_id=post.pk)).content.decode()
    assert 'data-testid="submit"' not in in_review
    client.force_login(cast.users["owner"])
    owner_view = client.get(url("post", post_id=post.pk)).content.decode()
    assert 'data-testid="approve"' in owner_view


def test_a_failed_variant_shows_its_reason_and_a_manager_retries_it(cast, client, channels, clock):
    post = make_post(cast, channels, scheduled_at=datetime(2026, 3, 12, 5, 30, tzinfo=UTC))
    actions.submit(member(cast, "content_manager"), post)
    actions.approve(member(cast, "smm_manager"), post)
    variant = post.variants.first()
    Variant.objects.filter(pk=variant.pk).update(state=Variant.State.FAILED, error="the network said <no>")
    client.force_login(cast.users["content_manager"])
    page = client.get(url("post", post_id=post.pk)).content.decode()
    assert "the network said &lt;no&gt;" in page
    assert 'data-testid="retry"' not in page
    assert client.post(url("variant_retry", variant_id=variant.pk)).status_code == 403
    client.force_login(cast.users["smm_manager"])
    assert 'data-testid="retry"' in client.get(url("post", post_id=post.pk)).content.decode()
    assert client.post(url("variant_retry", variant_id=variant.pk)).status_code == 302
    variant.refresh_from_db()
    assert variant.state == Variant.State.PENDING and variant.error == ""


def test_deleting_a_post(cast, client, channels):
    post = make_post(cast, channels)
    client.force_login(cast.users["smm_manager"])
    response = client.post(url("post_delete", post_id=post.pk))
    assert response.status_code == 302 and response["Location"] == url("calendar")
    assert not Post.objects.filter(pk=post.pk).exists()


# Settings and performance


def test_managers_switch_approval_off_and_rotate_the_feed_address(cast, client):
    client.force_login(cast.users["smm_manager"])
    page = client.get(url("settings")).content.decode()
    token = actions.settings_for(cast.workspace).ical_token
    assert f"/publishing/ical/{token}.ics" in page
    client.post(url("settings"), {})
    assert PublishingSettings.objects.get(workspace=cast.workspace).approval_required is False
    client.post(url("settings"), {"approval_required": "on"})
    assert PublishingSettings.objects.get(workspace=cast.workspace).approval_required is True
    client.post(url("ical_rotate"))
    assert actions.settings_for(cast.workspace).ical_token != token
    client.force_login(cast.users["content_manager"])
    assert client.post(url("ical_rotate")).status_code == 403
    assert client.post(url("settings"), {}).status_code == 403
    assert PublishingSettings.objects.get(workspace=cast.workspace).approval_required is True


def test_with_approval_off_a_content_manager_schedules_directly(cast, client, channels, clock):
    actions.update_settings(member(cast, "owner"), approval_required=False)
    post = make_post(cast, channels)
    client.force_login(cast.users["content_manager"])
    page = client.get(url("post", post_id=post.pk)).content.decode()
    assert 'data-testid="submit"' not in page and 'data-testid="schedule-form"' in page
    client.post(url("post_schedule", post_id=post.pk), {"date": "2026-03-11", "time": "12:00"})
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED


def test_performance_shows_rates_top_posts_and_a_chart(cast, client, channels, clock):
    vk, telegram = channels
    rows = []
    for n, (channel, reach, likes) in enumerate(((vk, 1000, 50), (telegram, 200, 30))):
        post = Post.objects.create(workspace=cast.workspace, title=f"Post {n}", state=Post.State.PUBLISHED)
        variant = Variant.objects.create(
            post=post,
            channel=channel,
            text="t",
            state=Variant.State.PUBLISHED,
            published_at=datetime(2026, 3, 8 + n, 7, 0, tzinfo=UTC),
        )
        for name, value in (("views", reach), ("likes", likes), ("comments", 5), ("reposts", 5)):
            VariantMetric.objects.create(variant=variant, name=name, value=value, measured_at=NOW)
        # An older, smaller measurement: the latest value wins.
        VariantMetric.objects.create(
            variant=variant, name="likes", value=1, measured_at=datetime(2026, 3, 9, tzinfo=UTC)
        )
        rows.append(variant)
    client.force_login(cast.users["viewer"])
    body = client.get(url("performance")).content.decode()
    # VK: (50 + 5 + 5) / 1000 = 6 %; Telegram: (30 + 5 + 5) / 200 = 20 %.
    assert "6.0 %" in body and "20.0 %" in body
    top = re.search(r'data-testid="top-posts">(.*?)</ol>', body, re.S).group(1)
    assert top.index("Post 1") < top.index("Post 0")
    assert body.count('class="bar"') == 30  # a bar per day of the period
    assert "<script" not in body.split('data-testid="chart"')[1].split("</svg>")[0]
    # Coordinates stay numbers SVG can read in a language that writes decimals with a comma.
    russian = client.get(url("performance"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    coordinates = re.findall(r'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"', russian)
    assert len(coordinates) == 30
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", value) for bar in coordinates for value in bar)
    csv = client.get(url("performance") + "?format=csv")
    assert csv["Content-Type"].startswith("text/csv") and b"Post 1" in csv.content
