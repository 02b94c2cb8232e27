"""Publishing in the served product: a content manager drafts a post for the demo's two fake channels and
submits it, the SMM manager approves it and schedules it for the next minute, and the server's embedded
worker publishes it on time on the fake network; and dragging a post to another day in the month
calendar reschedules it at the same local time.

What the server stored is read back with a small script run against the server's data dir (the way
tests/browser/test_inbox.py seeds it). Each test marks its post with a word of its own.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ROOT, RUNNING, product_env
from tests.browser.test_product import ORENBURG, demo_email, log_in, log_out

pytestmark = pytest.mark.browser

PYTHON = ROOT / ".venv" / "bin" / "python"
ZONE = ZoneInfo("Asia/Yekaterinburg")  # the demo hairdresser's time zone
CHANNELS = ("VK: Локон Оренбург", "Telegram: @lokon_orenburg")
# Seconds the embedded worker may take past the due time: Huey's scheduler looks once a second.
ON_TIME = 20
READ_POST = r"""
import json, sys
import django
django.setup()
from smmdesk.publishing.models import Post

post = Post.objects.get(workspace__slug=sys.argv[1], title=sys.argv[2])
print(json.dumps({
    "id": post.pk,
    "state": post.state,
    "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
    "variants": [
        {"channel": v.channel.name, "state": v.state, "external_id": v.external_id,
         "published_at": v.published_at.isoformat() if v.published_at else None, "error": v.error}
        for v in post.variants.select_related("channel").order_by("channel__name")
    ],
}))
"""


def read_post(server: str, title: str) -> dict:
    _process, log_path = RUNNING[server]
    env = product_env(log_path.parent, urlparse(server).port)
    env["DJANGO_SETTINGS_MODULE"] = "smmdesk.settings"
    result = subprocess.run(
        [str(PYTHON), "-c", READ_POST, ORENBURG, title],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def new_post(page: Page, title: str, texts: dict[str, str], day: str = "", at: str = "") -> None:
    """Fill the editor: the title, both channels with a text each, and a planned time if given."""
    page.goto(f"/w/{ORENBURG}/publishing/posts/new/")
    form = page.get_by_test_id("post-form")
    form.get_by_label("Internal name").fill(title)
    for name, text in texts.items():
        form.get_by_test_id("channel-picks").get_by_label(name).check()
        form.get_by_role("tab", name=name).click()
        panel = page.get_by_role("tabpanel", name=name)
        expect(panel).to_be_visible()
        panel.get_by_label("Text").fill(text)
    if day:
        form.get_by_label("Date").fill(day)
        form.get_by_label("Time").fill(at)


def test_drafted_approved_scheduled_and_published_on_time(page: Page, server):
    marker = f"pub{uuid.uuid4().hex[:8]}"
    log_in(page, demo_email("content_manager"))
    vk, telegram = CHANNELS
    new_post(page, marker, {vk: f"Весенняя акция {marker}", telegram: f"Скидка 20% {marker}"})

    # The counter counts against the network's limit and turns red past it; the preview follows.
    panel = page.get_by_role("tabpanel", name=telegram)
    counter = panel.locator("[data-counter-for]")
    expect(counter).to_contain_text(f"{len(f'Скидка 20% {marker}')} / 2000")
    panel.get_by_label("Text").fill("x" * 2001)
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    panel.get_by_label("Text").fill(f"Скидка 20% {marker}")
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))
    panel.get_by_label("Hashtags").fill("#весна")
    expect(page.get_by_test_id("previews")).to_contain_text("#весна")
    expect(page.get_by_test_id("previews")).to_contain_text(f"Весенняя акция {marker}")

    page.get_by_test_id("save-submit").click()
    expect(page.get_by_test_id("post-state")).to_have_attribute("data-state", "in_review")
    post_url = page.url
    expect(page.get_by_test_id("approve")).to_have_count(0)
    log_out(page)

    log_in(page, demo_email("smm_manager"))
    page.goto(post_url)
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("post-state")).to_have_attribute("data-state", "approved")
    # The next whole minute at least 15 s away, in the business's time zone (the form takes minutes).
    due = (datetime.now(UTC) + timedelta(seconds=75)).replace(second=0, microsecond=0)
    local = due.astimezone(ZONE)
    schedule = page.get_by_test_id("schedule-form")
    schedule.get_by_label("Date").fill(local.strftime("%Y-%m-%d"))
    schedule.get_by_label("Time").fill(local.strftime("%H:%M"))
    schedule.get_by_test_id("schedule").click()
    expect(page.get_by_test_id("post-state")).to_have_attribute("data-state", "scheduled")
    expect(page.get_by_test_id("post-when")).to_contain_text(local.strftime("%d.%m.%Y %H:%M"))

    # The page refreshes itself while the post goes out; the worker publishes both variants.
    wait = (due - datetime.now(UTC)).total_seconds() + ON_TIME
    states = page.get_by_test_id("variant-state")
    expect(page.get_by_test_id("live-state")).to_have_attribute(
        "data-state", "published", timeout=wait * 1000
    )
    expect(states).to_have_count(2)
    for n in range(2):
        expect(states.nth(n)).to_have_attribute("data-state", "published")

    stored = read_post(server, marker)
    assert stored["state"] == "published"
    assert datetime.fromisoformat(stored["scheduled_at"]) == due
    assert [v["channel"] for v in stored["variants"]] == sorted(CHANNELS)
    for variant in stored["variants"]:
        assert variant["state"] == "published" and variant["external_id"], variant
        late = (datetime.fromisoformat(variant["published_at"]) - due).total_seconds()
        assert -3 <= late <= ON_TIME, (variant, late)


def posts_on(page: Page, day, marker: str):
    return (
        page.get_by_test_id(f"day-{day.isoformat()}").get_by_test_id("calendar-post").filter(has_text=marker)
    )


def test_drag_and_drop_in_the_month_calendar_reschedules(page: Page, server):
    marker = f"dnd{uuid.uuid4().hex[:8]}"
    log_in(page, demo_email("content_manager"))
    # Ten days ahead at 10:30 local; dropped on the day after (or before, at the grid's last cell).
    start = (datetime.now(ZONE) + timedelta(days=10)).date()
    new_post(page, marker, {CHANNELS[0]: f"Запишитесь {marker}"}, day=start.isoformat(), at="10:30")
    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("post-state")).to_have_attribute("data-state", "draft")

    page.goto(f"/w/{ORENBURG}/publishing/?month={start:%Y-%m}")
    chip = page.get_by_test_id("calendar-post").filter(has_text=marker)
    expect(chip).to_have_count(1)
    expect(posts_on(page, start, marker)).to_be_visible()
    target = start + timedelta(days=1)
    if page.get_by_test_id(f"day-{target.isoformat()}").count() == 0:
        target = start - timedelta(days=1)
    target_cell = page.get_by_test_id(f"day-{target.isoformat()}")
    chip.drag_to(target_cell)

    # The drop submits the move; the page comes back with the post on its new day, same time.
    expect(posts_on(page, target, marker)).to_be_visible()
    expect(posts_on(page, target, marker).get_by_test_id("post-time")).to_have_text("10:30")
    expect(posts_on(page, start, marker)).to_have_count(0)
    stored = read_post(server, marker)
    moved = datetime.fromisoformat(stored["scheduled_at"]).astimezone(ZONE)
    assert (moved.date(), moved.strftime("%H:%M")) == (target, "10:30")

    # The keyboard's way: the date field beside the post.
    chip = page.get_by_test_id("calendar-post").filter(has_text=marker)
    chip.locator("summary").click()
    chip.get_by_label("New date").fill(start.isoformat())
    chip.get_by_role("button", name="Move").click()
    expect(posts_on(page, start, marker)).to_be_visible()
    moved = datetime.fromisoformat(read_post(server, marker)["scheduled_at"]).astimezone(ZONE)
    assert (moved.date(), moved.strftime("%H:%M")) == (start, "10:30")
