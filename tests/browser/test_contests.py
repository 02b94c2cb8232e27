"""Contests in the served product: the SMM manager starts a contest on the demo's VK post on the fake
network, collects the entries, closes it, records the public value and draws; a stranger opens the
proof page without logging in; the proof exported with `smmdesk contests proof` from the server's data
dir verifies with `smmdesk contests verify`.

The fake network lives in the server's memory; the demo posts' entrants are built into every smmdesk
process (smmdesk/contests/demo.py), so the server finds them on the post "giveaway-winter".
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from smmdesk.contests import demo
from tests.browser.conftest import RUNNING, product_env, run_command
from tests.browser.test_product import ORENBURG, demo_email, log_in

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Yekaterinburg")  # the demo hairdresser's time zone
LOCAL = "%Y-%m-%dT%H:%M"
STYLIST = "id500"


def expected_counts() -> tuple[int, int]:
    """(people on the post, eligible) for a contest that asks for a comment and excludes the stylist."""
    people = demo.ENTRIES[demo.WINTER_POST]
    eligible = [p for p in people if "comment" in p.kinds and p.author_id not in {demo.ACCOUNT, STYLIST}]
    return len(people), len(eligible)


def test_a_contest_from_creation_to_a_verified_proof(page: Page, server, browser, tmp_path):
    marker = f"Зимний розыгрыш {uuid.uuid4().hex[:6]}"
    people, eligible = expected_counts()
    first_entry = min(p.created_at for p in demo.ENTRIES[demo.WINTER_POST])
    log_in(page, demo_email("smm_manager"))

    # The section lists the demo's finished contest.
    page.goto(f"/w/{ORENBURG}/contests/")
    expect(page.get_by_test_id("contest-list")).to_contain_text(demo.AUTUMN_TITLE)

    page.get_by_test_id("new-contest").click()
    form = page.get_by_test_id("contest-form")
    form.get_by_label("Title").fill(marker)
    form.get_by_label("Channel").select_option(label=demo.CHANNEL)
    form.get_by_label("Post id on the network").fill(demo.WINTER_POST)
    expect(form.get_by_label("Must comment")).to_be_checked()
    form.get_by_label("Opens at").fill((first_entry - timedelta(days=1)).astimezone(ZONE).strftime(LOCAL))
    form.get_by_label("Closes at").fill((datetime.now(ZONE) + timedelta(days=7)).strftime(LOCAL))
    form.get_by_label("Number of winners").fill("2")
    form.get_by_label("Staff accounts").fill(STYLIST)
    form.get_by_label("Hashed ids only").check()
    form.get_by_test_id("save").click()
    expect(page.get_by_test_id("contest-status")).to_have_attribute("data-status", "draft")
    contest_id = int(re.search(r"/contests/(\d+)/", page.url)[1])

    page.get_by_test_id("open").click()
    expect(page.get_by_test_id("contest-status")).to_have_attribute("data-status", "open")
    commitment = page.get_by_test_id("commitment").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)

    page.get_by_test_id("collect").click()
    expect(page.locator(".messages")).to_contain_text(f"{people} people on the post, {eligible} may win")
    page.get_by_test_id("entrants-link").click()
    rows = page.get_by_test_id("entrant-row")
    expect(rows).to_have_count(people)
    stylist = page.locator(f'[data-testid="entrant-row"][data-author="{STYLIST}"]')
    expect(stylist.get_by_test_id("eligibility")).to_contain_text("staff account")
    page.go_back()

    page.get_by_test_id("close").click()
    expect(page.get_by_test_id("contest-status")).to_have_attribute("data-status", "closed")
    list_hash = page.get_by_test_id("list-hash").inner_text()

    values = page.get_by_test_id("public-value-form")
    values.get_by_label("Public value").fill("03 09 14 22 35 41")
    values.get_by_label("Where it comes from").fill("Лотерея «6 из 45», следующий тираж")
    values.get_by_test_id("record-public-value").click()
    expect(page.get_by_test_id("public-value")).to_have_text("03 09 14 22 35 41")
    page.get_by_test_id("draw").click()
    expect(page.get_by_test_id("contest-status")).to_have_attribute("data-status", "drawn")
    expect(page.get_by_test_id("winner-row")).to_have_count(2)
    expect(page.get_by_test_id("announcement")).to_be_visible()
    seed = page.get_by_test_id("server-seed").inner_text()
    proof_url = page.get_by_test_id("proof-link").get_attribute("href")

    # A stranger: a fresh browser context, no cookies, no login.
    stranger = browser.new_context(locale="en-US")
    try:
        public = stranger.new_page()
        public.goto(proof_url)
        expect(public).not_to_have_url(re.compile(r"/accounts/login/"))
        expect(public.get_by_test_id("proof-title")).to_have_text(marker)
        expect(public.get_by_test_id("commitment")).to_have_text(commitment)
        expect(public.get_by_test_id("list-hash")).to_have_text(list_hash)
        expect(public.get_by_test_id("server-seed")).to_have_text(seed)
        expect(public.get_by_test_id("proof-winner")).to_have_count(2)
        body = public.locator("main").inner_text()
        # Hashed ids only: no entrant's name or network id on the public page.
        for person in demo.ENTRIES[demo.WINTER_POST]:
            assert person.author_name not in body and f"fake:{person.author_id}" not in body
    finally:
        stranger.close()

    # The proof from the server's data, checked offline.
    _process, log_path = RUNNING[server]
    env = product_env(log_path.parent, urlparse(server).port)
    listed = run_command(["contests", "list", "--workspace", ORENBURG], env)
    assert f"{contest_id} {ORENBURG} drawn {marker}" in listed.splitlines()
    exported = run_command(["contests", "proof", str(contest_id)], env)
    document = json.loads(exported)
    assert document["commitment"] == commitment and document["server_seed"] == seed
    assert document["entrants"] == eligible and len(document["winners"]) == 2
    path = tmp_path / "proof.json"
    path.write_text(exported, encoding="utf-8")
    assert run_command(["contests", "verify", str(path)], env) == "OK\n"
