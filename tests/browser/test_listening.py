"""Listening in the served product, with the demo's data: the SMM manager opens the mention stream (the
demo's fortnight of mentions, the complaint already in the inbox), the trends page shows the burst of
#стрижкаоренбург as a card with its chart, and "Draft a post" makes a post in review with the hashtag,
which opens in the calendar.

What the server stored is read back with a small script run against the server's data dir (the way
tests/browser/test_publishing.py does).
"""

from __future__ import annotations

import json
import re
import subprocess
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ROOT, RUNNING, product_env
from tests.browser.test_product import ORENBURG, demo_email, log_in

pytestmark = pytest.mark.browser

PYTHON = ROOT / ".venv" / "bin" / "python"
HASHTAG = "#стрижкаоренбург"
READ_POST = r"""
import json, sys
import django
django.setup()
from smmdesk.publishing.models import Post

post = Post.objects.get(workspace__slug=sys.argv[1], pk=int(sys.argv[2]))
print(json.dumps({
    "state": post.state,
    "variants": [
        {"channel": v.channel.name, "text": v.text, "hashtags": list(v.hashtags or [])}
        for v in post.variants.select_related("channel").order_by("channel__name")
    ],
}))
"""


def read_post(server: str, post_id: int) -> dict:
    _process, log_path = RUNNING[server]
    env = product_env(log_path.parent, urlparse(server).port)
    env["DJANGO_SETTINGS_MODULE"] = "smmdesk.settings"
    result = subprocess.run(
        [str(PYTHON), "-c", READ_POST, ORENBURG, str(post_id)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_stream_trend_card_and_a_post_drafted_from_the_trend(page: Page, server):
    log_in(page, demo_email("smm_manager"))
    page.locator("nav.sidenav").get_by_role("link", name="Listening", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/w/{ORENBURG}/listening/$"))

    # The stream: the demo's mentions, newest first; the burst's posts are the newest.
    stream = page.get_by_test_id("mention-stream")
    mentions = stream.get_by_test_id("mention")
    expect(mentions.first).to_contain_text(HASHTAG)
    assert mentions.count() >= 20
    expect(page.get_by_test_id("overview-mentions")).not_to_have_text("0")
    # The complaint reached the inbox on its own; its mention links the conversation.
    complaint = mentions.filter(has_text="Ужасно подстригли")
    expect(complaint).to_have_count(1)
    expect(complaint.get_by_test_id("mention-conversation")).to_be_visible()
    expect(page.get_by_test_id("listening-alerts")).to_contain_text("Ужасно подстригли")

    # The trend card: its key, a chart with bars and the burst's bar marked, examples.
    page.get_by_test_id("listening-tabs").get_by_role("link", name="Trends").click()
    card = (
        page.get_by_test_id("trend-card")
        .filter(has=page.get_by_test_id("trend-key").get_by_text(HASHTAG, exact=True))
        .first
    )
    expect(card).to_be_visible()
    chart = card.get_by_test_id("trend-svg")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() >= 10
    expect(chart.locator("rect.bar.burst")).to_have_count(1)
    expect(card.get_by_test_id("trend-example").first).to_contain_text(HASHTAG)

    # One click drafts the post; the card then links to it.
    card.get_by_test_id("trend-draft").click()
    link = page.get_by_test_id("trend-post")
    expect(link).to_have_count(1)
    href = link.get_attribute("href")
    found = re.search(rf"/w/{ORENBURG}/publishing/posts/(\d+)/$", href or "")
    assert found, href
    stored = read_post(server, int(found[1]))
    assert stored["state"] == "in_review"
    assert stored["variants"], stored
    for variant in stored["variants"]:
        assert HASHTAG in variant["text"] or HASHTAG in variant["hashtags"], variant

    # Open it in the calendar: the post's page, waiting for review.
    link.click()
    expect(page).to_have_url(re.compile(rf"/w/{ORENBURG}/publishing/posts/{found[1]}/$"))
    expect(page.get_by_test_id("post-state")).to_have_attribute("data-state", "in_review")
    expect(page.get_by_test_id("publishing-tabs")).to_be_visible()
    expect(page.locator("main")).to_contain_text(HASHTAG)
