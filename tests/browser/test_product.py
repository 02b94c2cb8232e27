"""The product as a person uses it: log in as each demo role, switch languages, add and check a channel,
switch workspaces, and be refused where the role may not go. Also writes docs/screenshot.png for the README."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import polib
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import ROOT, fetch_headers, get_json

pytestmark = pytest.mark.browser

ORENBURG = "demo-orenburg"
BRATISLAVA = "demo-bratislava"
ORENBURG_NAME = "Парикмахерская «Локон»"
BRATISLAVA_NAME = "Kaderníctvo Petržalka"
ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
SECTIONS = ["Inbox", "Calendar", "Listening", "Contests", "Audience", "Keywords", "Sites", "Ads"]
LOCALE_DIR = ROOT / "smmdesk" / "locale"
SCREENSHOT = ROOT / "docs" / "screenshot.png"
STYLESHEET_APPLIED = """() => [...document.styleSheets].some((sheet) => {
    // A stylesheet the browser refused (wrong type, 404) is listed but its rules cannot be read.
    try { return (sheet.href || "").endsWith("/smmdesk/app.css") && sheet.cssRules.length > 0; }
    catch (error) { return false; }
})"""


def demo_password() -> str:
    from smmdesk.core.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def demo_email(role: str, slug: str = ORENBURG) -> str:
    return f"{role.replace('_', '-')}@{slug}.example"


@cache
def catalogue(language: str) -> polib.POFile:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    if not path.exists():
        pytest.fail(f"no {language} translations yet: {path.relative_to(ROOT)} is missing")
    return polib.pofile(str(path))


def translated(language: str, msgid: str) -> str:
    """The catalogue's translation of msgid; an untranslated, fuzzy or unchanged entry fails the test."""
    entry = catalogue(language).find(msgid)
    assert entry is not None, f"{msgid!r} is not in the {language} catalogue"
    assert entry.msgstr and not entry.fuzzy, f"{msgid!r} has no {language} translation"
    assert entry.msgstr != msgid, f"{msgid!r} is 'translated' to itself in {language}"
    return entry.msgstr


def label(language: str, msgid: str) -> str:
    return msgid if language == "en" else translated(language, msgid)


def role_sees_settings(role: str) -> bool:
    from smmdesk.accounts.roles import allowed

    return allowed(role, "profile.view")


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    form = page.get_by_test_id("login-form")
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Password").fill(demo_password())
    form.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/w/[\w-]+/$"))
    # A failed earlier run may have left this person's saved language on something else.
    if page.locator("html").get_attribute("lang") != "en":
        switch_language(page, "en")


def log_out(page: Page) -> None:
    page.locator(".usermenu").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_test_id("login-form")).to_be_visible()


def switch_language(page: Page, language: str) -> None:
    """Choose the language in the header. With app.js the select submits its form on change; without it
    (the page must work either way) the person presses "Change"."""
    with page.expect_navigation():
        page.locator("#lang-select").select_option(language)
        if not autosubmits(page):
            page.locator("form.langform").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#lang-select")).to_have_value(language)


def autosubmits(page: Page) -> bool:
    """Whether app.js (the select's autosubmit) is served; test_static_files_are_served checks it is."""
    return page.request.get("/static/smmdesk/app.js").ok


def expect_navigation_in(page: Page, language: str, settings_visible: bool) -> None:
    nav = page.locator("nav.sidenav")
    names = ["Overview", *SECTIONS]
    for msgid in names:
        expect(nav.get_by_role("link", name=label(language, msgid), exact=True)).to_be_visible()
    settings = nav.get_by_role("link", name=label(language, "Settings"), exact=True)
    if settings_visible:
        expect(settings).to_be_visible()
    else:
        expect(settings).to_have_count(0)
    if language != "en":
        # The English words are gone from the navigation, not merely joined by the translations.
        for msgid in names:
            expect(nav.get_by_role("link", name=msgid, exact=True)).to_have_count(0)


def test_healthz(server):
    assert get_json(f"{server}/healthz") == (200, {"database": "ok", "queue": "ok"})


def test_static_files_are_served(server):
    # The stylesheet and the small script every page links to; without them the screenshot is unstyled.
    for path, content_type in [
        ("/static/smmdesk/app.css", "text/css"),
        ("/static/smmdesk/app.js", "javascript"),
    ]:
        status, headers = fetch_headers(f"{server}{path}")
        assert status == 200, f"{path} answers {status}"
        assert content_type in headers.get("Content-Type", ""), f"{path} is {headers.get('Content-Type')}"


@pytest.mark.parametrize("role", ROLES)
def test_role_logs_in_and_switches_language(page: Page, role: str):
    log_in(page, demo_email(role))
    expect(page).to_have_url(re.compile(rf"/w/{ORENBURG}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(ORENBURG_NAME)
    settings_visible = role_sees_settings(role)
    expect_navigation_in(page, "en", settings_visible)

    for language in ("ru", "sk", "en"):
        switch_language(page, language)
        expect(page).to_have_url(re.compile(rf"/w/{ORENBURG}/$"))
        expect_navigation_in(page, language, settings_visible)

    log_out(page)


def open_channels(page: Page) -> None:
    """Settings → Channels, by clicking, from anywhere in the workspace."""
    page.locator("nav.sidenav").get_by_role("link", name="Settings", exact=True).click()
    page.locator("nav.tabs").get_by_role("link", name="Channels", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/w/{ORENBURG}/settings/channels/$"))


def add_fake_channel(page: Page, name: str, account_id: str, stands_for: str, token: str) -> None:
    open_channels(page)
    page.get_by_test_id("channel-add").click()
    page.get_by_test_id("kind-fake").get_by_role("link").click()
    form = page.get_by_test_id("channel-form")
    field(form, "Name").fill(name)
    field(form, "Account id").fill(account_id)
    field(form, "Stands for").select_option(stands_for)
    field(form, "API token").fill(token)
    assert token not in page.content()  # a password field keeps its value out of the DOM
    page.get_by_test_id("channel-save").click()
    expect(page).to_have_url(re.compile(rf"/w/{ORENBURG}/settings/channels/$"))
    expect(channel_row(page, name)).to_be_visible()
    assert token not in page.content()


def field(form: Locator, label_text: str) -> Locator:
    """A form field by its label; Django's generated forms may end the label with a colon."""
    return form.get_by_label(re.compile(rf"^{re.escape(label_text)}:?$"))


def channel_row(page: Page, name: str):
    return page.get_by_test_id("channel-row").filter(has=page.get_by_role("cell", name=name, exact=True))


def check_channel(page: Page, name: str, expected_status: str) -> None:
    row = channel_row(page, name)
    expect(row.get_by_test_id("channel-status")).to_have_text("Not checked yet")
    row.get_by_test_id("channel-check").click()
    expect(channel_row(page, name).get_by_test_id("channel-status")).to_have_text(expected_status)


def test_owner_adds_and_checks_fake_channels(page: Page):
    good_token = "browser-test-token-5f1c9a"
    revoked_token = "revoked-browser-test-token-77ab"
    log_in(page, demo_email("owner"))

    add_fake_channel(page, "Telegram: booking bot", "browser-test", "telegram", good_token)
    check_channel(page, "Telegram: booking bot", "Working")
    assert good_token not in page.content()

    add_fake_channel(page, "VK: old page", "browser-revoked", "vk", revoked_token)
    check_channel(page, "VK: old page", "Needs reconnecting")
    assert revoked_token not in page.content()

    # The checked channels are still what a fresh load shows, and the tokens are still not in it.
    page.reload()
    expect(channel_row(page, "Telegram: booking bot").get_by_test_id("channel-status")).to_have_text(
        "Working"
    )
    expect(channel_row(page, "VK: old page").get_by_test_id("channel-status")).to_have_text(
        "Needs reconnecting"
    )
    html = page.content()
    assert good_token not in html and revoked_token not in html

    # The edit form does not put the stored token back into the page either.
    channel_row(page, "Telegram: booking bot").get_by_role("link", name="Telegram: booking bot").click()
    expect(page.get_by_test_id("channel-form")).to_be_visible()
    assert good_token not in page.content()

    # The overview, with the demo's channels and the one just added, is the README's screenshot.
    page.locator("nav.sidenav").get_by_role("link", name="Overview", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ORENBURG_NAME)
    expect(page.locator("main")).to_contain_text("Telegram: booking bot")
    # The README's picture must show the product as people see it, styled.
    assert page.evaluate(STYLESHEET_APPLIED), "app.css did not load: the screenshot would be unstyled"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
    log_out(page)


def switch_workspace(page: Page, name: str, slug: str) -> None:
    switcher = page.get_by_test_id("workspace-switcher")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name=re.compile(re.escape(name))).click()
    expect(page).to_have_url(re.compile(rf"/w/{slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_test_id("workspace-switcher").locator("summary")).to_have_text(name)


def test_agency_switches_workspace(page: Page):
    from smmdesk.core.demo import AGENCY_EMAIL

    log_in(page, AGENCY_EMAIL)
    switch_workspace(page, ORENBURG_NAME, ORENBURG)
    switch_workspace(page, BRATISLAVA_NAME, BRATISLAVA)
    log_out(page)


def test_viewer_is_refused_channel_settings(page: Page):
    log_in(page, demo_email("viewer"))
    page.locator("nav.sidenav").get_by_role("link", name="Settings", exact=True).click()
    expect(page.locator("nav.tabs").get_by_role("link", name="Channels", exact=True)).to_have_count(0)

    response = page.goto(f"/w/{ORENBURG}/settings/channels/")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("channel-table")).to_have_count(0)
    expect(page.get_by_test_id("channel-add")).to_have_count(0)
    response = page.goto(f"/w/{ORENBURG}/settings/channels/add/fake/")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("channel-form")).to_have_count(0)


def test_screenshot_is_where_the_readme_expects_it():
    readme = (ROOT / "README.md").read_text()
    assert "docs/screenshot.png" in readme, "README.md does not show docs/screenshot.png"
    assert Path(SCREENSHOT).exists()
