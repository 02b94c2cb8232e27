"""The calendar feed: RFC 5545 lines (CRLF, folding at 75 octets, TEXT escaping), what it shows and for
which period, UTC times that stay right across a DST change, the secret token and its rotation."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation
from django.utils.translation import gettext as _

from smmdesk.publishing import actions
from smmdesk.publishing.ical import escape_text, feed, fold
from smmdesk.publishing.models import Campaign, Post
from smmdesk.publishing.tests.feeds import make_channel, make_post, member

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def unfold(body: str) -> list[str]:
    """The logical content lines: CRLF followed by a space continues the line before."""
    return body.replace("\r\n ", "").split("\r\n")


def events(body: str) -> list[dict[str, str]]:
    found, current = [], None
    for line in unfold(body):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            found.append(current)
            current = None
        elif current is not None:
            name, _sep, value = line.partition(":")
            current[name] = value
    return found


@pytest.fixture
def salon(cast):
    profile = cast.workspace.profile
    profile.timezone = "Europe/Bratislava"  # a zone with DST
    profile.save()
    return cast.workspace


@pytest.fixture
def feed_url(salon):
    return f"/publishing/ical/{actions.settings_for(salon).ical_token}.ics"


# --- the format ------------------------------------------------------------------------------------------


def test_escape_text_escapes_backslash_semicolon_comma_and_newlines():
    assert escape_text("a,b;c\\d\ne\r\nf\rg") == "a\\,b\\;c\\\\d\\ne\\nf\\ng"
    # Control characters other than newline and tab are not allowed in TEXT at all.
    assert escape_text("bell\x07\x00end") == "bellend"


def test_fold_keeps_lines_to_75_octets_and_never_splits_a_character():
    for line in ("DESCRIPTION:" + "x" * 200, "SUMMARY:" + "Стрижка " * 40, "X:" + "😀" * 60):
        folded = fold(line)
        physical = folded.split("\r\n")
        assert len(physical) > 1
        assert all(len(part.encode("utf-8")) <= 75 for part in physical), line[:20]
        assert all(part.startswith(" ") for part in physical[1:])
        assert folded.replace("\r\n ", "") == line
    assert fold("SHORT:line") == "SHORT:line"
    exact = "X:" + "y" * 73
    assert fold(exact) == exact  # exactly 75 octets is not folded


# --- the feed ----------------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_feed_is_a_valid_calendar_of_scheduled_and_published_posts(cast, client, salon, feed_url):
    vk, tg = make_channel(salon, "VK"), make_channel(salon, "Telegram", stands_for="telegram")
    campaign = Campaign.objects.create(workspace=salon, name="Весна, скидки; свадьбы")
    scheduled = make_post(
        salon,
        [vk, tg],
        at=NOW + timedelta(days=3),
        title="Весенняя акция, -20%; запись\\онлайн",
        campaign=campaign,
    )
    done = make_post(salon, [vk], state=Post.State.PUBLISHED, at=NOW - timedelta(days=2), title="")
    for state in (Post.State.DRAFT, Post.State.IN_REVIEW, Post.State.APPROVED, Post.State.FAILED):
        make_post(salon, [vk], state=state, at=NOW + timedelta(days=1), title=f"hidden {state}")
    make_post(cast.other, [make_channel(cast.other, "VK")], at=NOW + timedelta(days=1), title="rival's plan")

    response = client.get(feed_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")  # every line break is CRLF
    assert all(len(line.encode("utf-8")) <= 75 for line in body.split("\r\n"))
    found = {e["UID"].split("-w")[0]: e for e in events(body)}
    assert set(found) == {f"post-{scheduled.pk}", f"post-{done.pk}"}
    event = found[f"post-{scheduled.pk}"]
    assert event["DTSTART"] == "20260304T090000Z"
    assert event["DTSTAMP"].endswith("Z") and event["UID"].endswith("@testserver")
    assert event["SUMMARY"] == "Весенняя акция\\, -20%\\; запись\\\\онлайн"
    description = event["DESCRIPTION"].replace("\\n", "\n").replace("\\,", ",")
    # In the business's first language (the cast's salon speaks Russian first).
    with translation.override("ru"):
        expected = [
            _("Channels: %(channels)s") % {"channels": "Telegram, VK"},
            _("Campaign: %(name)s") % {"name": "Весна, скидки\\; свадьбы"},
        ]
    assert expected[0].startswith("Каналы") and all(line in description for line in expected)
    assert event["CATEGORIES"] == "Весна\\, скидки\\; свадьбы"
    # No title: the first words of the text.
    assert found[f"post-{done.pk}"]["SUMMARY"].startswith("Стрижка со скидкой 20% в эту субботу")
    with translation.override("ru"):
        published = _("State: %(state)s") % {"state": Post.State.PUBLISHED.label}
    assert published in found[f"post-{done.pk}"]["DESCRIPTION"]


@time_machine.travel(NOW, tick=False)
def test_feed_covers_the_last_30_and_next_365_days(salon):
    vk = make_channel(salon)
    inside = [
        make_post(salon, [vk], state=Post.State.PUBLISHED, at=NOW - timedelta(days=29)),
        make_post(salon, [vk], at=NOW + timedelta(days=364)),
    ]
    make_post(salon, [vk], state=Post.State.PUBLISHED, at=NOW - timedelta(days=31))
    make_post(salon, [vk], at=NOW + timedelta(days=366))
    uids = {e["UID"].split("-w")[0] for e in events(feed(salon, "example.com"))}
    assert uids == {f"post-{post.pk}" for post in inside}


@time_machine.travel(NOW, tick=False)
def test_times_are_utc_and_right_on_both_sides_of_the_dst_change(salon):
    vk = make_channel(salon)
    # Europe/Bratislava goes from UTC+1 to UTC+2 on 29 March 2026: 10:00 local is 09:00Z, then 08:00Z.
    make_post(salon, [vk], at=datetime(2026, 3, 28, 9, 0, tzinfo=UTC), title="before")
    make_post(salon, [vk], at=datetime(2026, 3, 30, 8, 0, tzinfo=UTC), title="after")
    weekly = make_post(
        salon,
        [vk],
        at=datetime(2026, 3, 21, 9, 0, tzinfo=UTC),  # Saturday 10:00 local
        title="Детская стрижка по субботам",
        recurrence=Post.Recurrence.WEEKLY,
        recurrence_until=datetime(2026, 4, 11).date(),
    )
    found = events(feed(salon, "example.com"))
    starts = {e["SUMMARY"]: e["DTSTART"] for e in found if not e["UID"].startswith("series")}
    assert starts["before"] == "20260328T090000Z"
    assert starts["after"] == "20260330T080000Z"
    series = sorted((e["DTSTART"], e["STATUS"]) for e in found if e["UID"].startswith(f"series-{weekly.pk}-"))
    # The weekly 10:00 stays at 10:00 local: one hour earlier in UTC after the change; until 11 April.
    assert series == [
        ("20260321T090000Z", "CONFIRMED"),
        ("20260328T090000Z", "TENTATIVE"),
        ("20260404T080000Z", "TENTATIVE"),
        ("20260411T080000Z", "TENTATIVE"),
    ]
    assert len({e["UID"] for e in found}) == len(found)


@time_machine.travel(NOW, tick=False)
def test_a_run_keeps_its_uid_from_plan_to_post(salon):
    vk = make_channel(salon)
    first = make_post(
        salon,
        [vk],
        at=NOW + timedelta(days=1),
        recurrence=Post.Recurrence.DAILY,
        recurrence_until=(NOW + timedelta(days=2)).date(),
    )
    planned = {e["DTSTART"]: e["UID"] for e in events(feed(salon, "example.com"))}
    # The publisher makes the second run a post of its own once the first is out.
    Post.objects.filter(pk=first.pk).update(state=Post.State.PUBLISHED)
    second = make_post(
        salon,
        [vk],
        at=NOW + timedelta(days=2),
        recurrence=Post.Recurrence.DAILY,
        recurrence_until=(NOW + timedelta(days=2)).date(),
        series=first,
    )
    second.variants.update(occurrence=NOW + timedelta(days=2))
    actual = {e["DTSTART"]: e["UID"] for e in events(feed(salon, "example.com"))}
    assert actual == planned
    assert len(actual) == 2


def test_unknown_short_and_rotated_tokens_are_404(cast, client, salon, feed_url):
    assert client.get(feed_url).status_code == 200
    assert client.get("/publishing/ical/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/publishing/ical/short.ics").status_code == 404
    assert client.post(feed_url).status_code == 405
    actions.rotate_ical_token(member(salon, "owner"))
    assert client.get(feed_url).status_code == 404
    fresh = f"/publishing/ical/{actions.settings_for(salon).ical_token}.ics"
    assert fresh != feed_url
    assert client.get(fresh).status_code == 200


def test_feed_needs_no_login_and_is_not_indexed(client, feed_url):
    response = client.get(feed_url)
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"].startswith("private")
