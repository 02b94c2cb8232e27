"""The inbox in the served product: keyboard shortcuts, bulk actions, live updates without reload, and an
XSS corpus in customer names, texts and profile links that renders inert.

Conversations are put into the served product's database the way a network's messages arrive: the
ingestion pipeline (`smmdesk.inbox.ingest.ingest`), run in a separate Python process against the server's
data dir, on the demo's fake VK channel (which can take replies). Each test marks its messages with a word
of its own and filters the inbox by it, so tests sharing the server do not see each other's rows.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ROOT, RUNNING, product_env
from tests.browser.test_product import ORENBURG, demo_email, log_in

pytestmark = pytest.mark.browser

PYTHON = ROOT / ".venv" / "bin" / "python"
SEED = r"""
import json, sys
import django
django.setup()
from django.utils import timezone
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.models import Channel
from smmdesk.inbox.ingest import ingest
from smmdesk.accounts.models import Membership
from smmdesk.inbox.models import Message, Notification

spec = json.loads(sys.argv[1])
channel = Channel.objects.filter(workspace__slug=spec["workspace"], kind="fake").order_by("pk").first()
now = timezone.now()
ids = []
for item in spec["events"]:
    result = ingest(channel, [InboundEvent(created_at=now, **item)], now=now)
    ids.append(Message.objects.get(pk=result.created[0]).conversation_id)
for notice in spec.get("notices", []):
    Notification.objects.create(
        membership=Membership.objects.get(workspace__slug=spec["workspace"], user__email=notice["email"]),
        conversation_id=ids[0] if ids else None,
        kind="sla_warning",
        text=notice["text"],
        key=notice["text"],
    )
if spec.get("answer"):
    from smmdesk.inbox import actions
    from smmdesk.inbox.models import CannedReply, Conversation

    owner = Membership.objects.get(workspace__slug=spec["workspace"], role="owner")
    conversation = Conversation.objects.get(pk=ids[0])
    department = conversation.workspace.departments.order_by("pk").first()
    handoff = actions.hand_off(conversation, department.pk, "", owner)
    actions.department_answer(handoff, spec["answer"], by=owner)
    CannedReply.objects.get_or_create(
        workspace=conversation.workspace, title=spec["canned"][0], defaults={"text": spec["canned"][1]}
    )
print(json.dumps(ids))
"""
# Stands in for the Web Notifications API: records what would be shown, and keeps the permission the
# person gave for the rest of the session, as a browser does.
NOTIFICATION_STUB = """
window.__desktop = [];
class StubNotification {
    constructor(title, options) { window.__desktop.push({ title, body: options.body }); }
    static get permission() { return sessionStorage.getItem("permission") || "default"; }
    static requestPermission() {
        sessionStorage.setItem("permission", "granted");
        return Promise.resolve("granted");
    }
}
window.Notification = StubNotification;
"""
XSS = [
    "<img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "<svg/onload=alert(1)>",
    "' onmouseover='alert(1)' x='",
    "</textarea><script>alert(1)</script>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href=javascript:alert(1)>click</a>",
    "{{ 7*7 }}<b onclick=alert(1)>bold</b>",
]
BAD_LINKS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
]


def seed(server: str, events: list[dict], notices: list[dict] = (), **extra) -> list[int]:
    """Ingest customer messages into the served product, and give members notices about the first one;
    with answer= and canned=(title, text), hand the first one to a department that answers, and add a
    canned reply. Returns the conversation ids."""
    _process, log_path = RUNNING[server]
    env = product_env(log_path.parent, urlparse(server).port)
    env["DJANGO_SETTINGS_MODULE"] = "smmdesk.settings"
    spec = json.dumps({"workspace": ORENBURG, "events": events, "notices": list(notices), **extra})
    result = subprocess.run(
        [str(PYTHON), "-c", SEED, spec], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def message(marker: str, n: int, text: str, name: str, **extra) -> dict:
    return {
        "external_id": f"{marker}-{n}",
        "kind": "dm",
        "author_id": f"{marker}-author-{n}",
        "author_name": name,
        "text": f"{text} {marker}",
        **extra,
    }


def open_inbox(page: Page, marker: str) -> None:
    page.goto(f"/w/{ORENBURG}/inbox/?q={marker}")
    expect(page.get_by_test_id("inbox-list")).to_be_visible()


def rows(page: Page):
    return page.get_by_test_id("conversation-row")


def selected(page: Page):
    return page.locator("[data-testid=conversation-row][aria-current=true]")


def test_keyboard_shortcuts(page: Page, server):
    marker = f"kbd{uuid.uuid4().hex[:8]}"
    seed(
        server,
        [
            message(marker, 1, "Можно записаться на субботу?", "Анна"),
            message(marker, 2, "Сколько стоит окрашивание?", "Борис"),
            message(marker, 3, "Вы работаете в праздники?", "Вера"),
        ],
    )
    log_in(page, demo_email("smm_manager"))
    open_inbox(page, marker)
    expect(rows(page)).to_have_count(3)
    ids = [rows(page).nth(i).get_attribute("data-id") for i in range(3)]

    # j and k move the selection; x ticks the selected row for a bulk action.
    page.keyboard.press("j")
    expect(selected(page)).to_have_attribute("data-id", ids[0])
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(selected(page)).to_have_attribute("data-id", ids[2])
    page.keyboard.press("k")
    expect(selected(page)).to_have_attribute("data-id", ids[1])
    # The same physical keys on a Russian layout, where j types "о" and k types "л".
    for letter, code, expected in (("о", "KeyJ", ids[2]), ("л", "KeyK", ids[1])):
        page.evaluate(
            "([key, code]) => document.body.dispatchEvent("
            "new KeyboardEvent('keydown', {key, code, bubbles: true, cancelable: true}))",
            [letter, code],
        )
        expect(selected(page)).to_have_attribute("data-id", expected)
    page.keyboard.press("x")
    expect(selected(page).get_by_test_id("row-select")).to_be_checked()
    page.keyboard.press("x")
    expect(selected(page).get_by_test_id("row-select")).not_to_be_checked()

    # ? opens the help and closes it again.
    help_dialog = page.get_by_test_id("shortcut-help")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Hand off to a department")
    page.keyboard.press("?")
    expect(help_dialog).to_be_hidden()

    # Enter opens the selected conversation.
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{ids[1]}/$"))
    # .first: outside the demo salon's hours an automatic acknowledgement follows the customer's message.
    expect(page.get_by_test_id("message-text").first).to_contain_text("Сколько стоит окрашивание?")

    # r goes to the reply box; shortcuts are plain letters while typing there, Esc leaves the box.
    reply_box = page.get_by_test_id("reply-form").get_by_role("textbox")
    page.keyboard.press("r")
    expect(reply_box).to_be_focused()
    page.keyboard.type("Здравствуйте, ответим")
    page.keyboard.type(" e a h j k")
    expect(reply_box).to_have_value("Здравствуйте, ответим e a h j k")
    expect(page.get_by_test_id("char-counter")).to_contain_text("31 / 2000")
    page.keyboard.press("Escape")
    expect(reply_box).not_to_be_focused()

    # a: the assignee; h: the hand-off department.
    page.keyboard.press("a")
    expect(page.get_by_test_id("assign-form").get_by_role("combobox")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("h")
    expect(page.get_by_test_id("handoff-form").get_by_role("combobox")).to_be_focused()
    page.keyboard.press("Escape")

    # e resolves.
    expect(page.get_by_test_id("status")).to_have_text("New")
    page.keyboard.press("e")
    expect(page.get_by_test_id("status")).to_have_text("Resolved")

    # u goes back to the inbox, where the resolved conversation is gone from the default view.
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(rf"/w/{ORENBURG}/inbox/"))
    open_inbox(page, marker)
    expect(rows(page)).to_have_count(2)

    # From the list: r opens the selected conversation at the reply box, e resolves without opening it.
    page.keyboard.press("j")
    page.keyboard.press("r")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{ids[0]}/#reply$"))
    expect(page.get_by_test_id("reply-form").get_by_role("textbox")).to_be_focused()
    open_inbox(page, marker)
    page.keyboard.press("j")
    expect(selected(page)).to_have_attribute("data-id", ids[0])
    page.keyboard.press("e")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-id", ids[2])


def test_bulk_resolve(page: Page, server):
    marker = f"bulk{uuid.uuid4().hex[:8]}"
    seed(server, [message(marker, n, f"Вопрос {n}", f"Клиент {n}") for n in range(3)])
    log_in(page, demo_email("smm_manager"))
    open_inbox(page, marker)
    expect(rows(page)).to_have_count(3)
    rows(page).nth(0).get_by_test_id("row-select").check()
    rows(page).nth(2).get_by_test_id("row-select").check()
    page.get_by_test_id("bulk-resolve").click()
    expect(page.locator(".messages")).to_contain_text("2 conversations updated.")
    expect(rows(page)).to_have_count(1)


def test_new_conversation_appears_without_reload(page: Page, server):
    marker = f"live{uuid.uuid4().hex[:8]}"
    first = seed(server, [message(marker, 1, "Первое сообщение", "Первый")])
    log_in(page, demo_email("agent"))
    open_inbox(page, marker)
    expect(rows(page)).to_have_count(1)
    page.keyboard.press("j")
    expect(selected(page)).to_have_attribute("data-id", str(first[0]))
    # A reload would drop this.
    page.evaluate("window.__sameDocument = true")

    seed(server, [message(marker, 2, "Новое сообщение", "Вторая")])
    expect(page.get_by_role("link", name="Вторая")).to_be_visible(timeout=2000)
    expect(rows(page)).to_have_count(2)
    assert page.evaluate("window.__sameDocument") is True
    # The live update kept the selection.
    expect(selected(page)).to_have_attribute("data-id", str(first[0]))
    # Signed out elsewhere: the next update takes the page to the login form instead of into the list.
    page.context.clear_cookies()
    seed(server, [message(marker, 3, "Третье сообщение", "Третья")])
    expect(page).to_have_url(re.compile(r"/accounts/login/"), timeout=3000)


def test_an_open_conversation_shows_a_new_message_and_a_notice_without_reload(page: Page, server):
    marker = f"stream{uuid.uuid4().hex[:8]}"
    email = demo_email("agent")
    [conversation] = seed(server, [message(marker, 1, "Можно на завтра?", "Ольга")])
    log_in(page, email)
    page.goto(f"/w/{ORENBURG}/inbox/c/{conversation}/")
    timeline = page.get_by_test_id("timeline")
    # Outside opening hours an automatic acknowledgement may follow it; only the customer's text matters.
    expect(timeline).to_contain_text("Можно на завтра?")
    expect(timeline).not_to_contain_text("И во сколько?")
    page.evaluate("window.__sameDocument = true")

    # The same customer writes again, and a notice for this agent arrives.
    follow_up = message(marker, 2, "И во сколько?", "Ольга", author_id=f"{marker}-author-1")
    notice = f"Handed to you {marker}"
    assert seed(server, [follow_up], [{"email": email, "text": notice}]) == [conversation]
    expect(timeline).to_contain_text("И во сколько?", timeout=3000)
    expect(page.get_by_test_id("notices")).to_contain_text(notice, timeout=5000)
    assert page.evaluate("window.__sameDocument") is True


def test_quote_the_department_and_insert_a_canned_reply(page: Page, server):
    marker = f"quote{uuid.uuid4().hex[:8]}"
    answer = "Мастер перезвонит сегодня в 15:00 <b>и</b> всё исправит"
    canned = (f"Hello {marker}", "Здравствуйте, {customer_name}!")
    [conversation] = seed(
        server, [message(marker, 1, "Испортили окрашивание", "Дарья")], answer=answer, canned=canned
    )
    log_in(page, demo_email("smm_manager"))
    page.goto(f"/w/{ORENBURG}/inbox/c/{conversation}/")
    reply_box = page.get_by_test_id("reply-form").get_by_role("textbox")
    expect(page.get_by_test_id("department-answer")).to_have_text(answer)

    page.get_by_test_id("canned-picker").select_option(label=canned[0])
    expect(reply_box).to_have_value("Здравствуйте, Дарья!")
    page.get_by_test_id("quote-answer").click()
    expect(reply_box).to_have_value(re.compile(rf"^Здравствуйте, Дарья!\n.+:\n{re.escape(answer)}\n$"))
    page.get_by_test_id("adapt-answer").click()
    expect(reply_box).to_have_value(answer)
    expect(reply_box).to_be_focused()
    expect(page.get_by_test_id("char-counter")).to_contain_text(f"{len(answer)} / 2000")
    page.get_by_test_id("reply-send").click()
    expect(page.get_by_test_id("timeline").get_by_test_id("message-text").last).to_have_text(answer)


def test_notifications_in_page_and_on_the_desktop(page: Page, server):
    marker = f"note{uuid.uuid4().hex[:8]}"
    email = demo_email("smm_manager")
    first = f"Deadline near {marker} {XSS[0]}"
    [conversation] = seed(
        server, [message(marker, 1, "Где мой заказ?", "Фёдор")], [{"email": email, "text": first}]
    )
    page.add_init_script(NOTIFICATION_STUB)
    log_in(page, email)
    open_inbox(page, marker)
    notices = page.get_by_test_id("notices")
    # Shown in the page as text, linking to the conversation; not on the desktop before permission.
    expect(notices.get_by_role("link", name=first)).to_have_attribute(
        "href", f"/w/{ORENBURG}/inbox/c/{conversation}/"
    )
    assert page.evaluate("window.__desktop") == []
    enable = page.get_by_test_id("notify-enable")
    expect(enable).to_be_visible()
    enable.click()
    expect(enable).to_be_hidden()

    second = f"Deadline missed {marker}"
    seed(server, [], [{"email": email, "text": second}])
    page.reload()
    expect(notices).to_contain_text(second)
    # The first notice was marked read when it was shown: it does not come back.
    expect(notices).not_to_contain_text(first)
    page.wait_for_function("window.__desktop.length > 0")
    assert page.evaluate("window.__desktop.map((n) => n.body)") == [second]


def test_xss_corpus_renders_inert(page: Page, server):
    marker = f"xss{uuid.uuid4().hex[:8]}"
    events = [
        message(
            marker,
            n,
            f"text {payload}",
            f"{payload} name",
            author_url=BAD_LINKS[n % len(BAD_LINKS)],
            author_handle=payload,
        )
        for n, payload in enumerate(XSS)
    ]
    events.append(message(marker, 99, "comment", XSS[0], kind="comment", thread_id=f"{marker}-post"))
    conversation_ids = seed(server, events)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, demo_email("owner"))

    open_inbox(page, marker)
    expect(rows(page)).to_have_count(len(events))
    for payload in XSS:
        expect(page.get_by_text(f"{payload} name", exact=True)).to_be_visible()
    # Hover and click over everything a payload might have turned into a handler.
    for i in range(len(events)):
        rows(page).nth(i).hover()
    # The live update's fragment must be inert as well: swap one in as the poll does.
    page.evaluate(
        "htmx.ajax('GET', location.pathname + 'updates/' + location.search,"
        " {target: '#inbox-list', swap: 'outerHTML'})"
    )
    expect(rows(page)).to_have_count(len(events))
    expect_inert(page)

    for conversation_id in conversation_ids:
        page.goto(f"/w/{ORENBURG}/inbox/c/{conversation_id}/")
        expect(page.get_by_test_id("timeline")).to_be_visible()
        page.get_by_test_id("message-text").first.hover()
        page.get_by_test_id("customer-card").hover()
        expect_inert(page)
    # The timeline's live fragment, too.
    page.evaluate(
        "htmx.ajax('GET', location.pathname + 'live/', {target: '#conversation-live', swap: 'outerHTML'})"
    )
    expect(page.get_by_test_id("timeline")).to_be_visible()
    expect_inert(page)
    assert dialogs == []


def expect_inert(page: Page) -> None:
    found = page.evaluate(
        """() => ({
            inlineScripts: [...document.scripts].filter((s) => !s.src).length,
            foreignScripts: [...document.scripts].filter((s) => s.src && !s.src.includes('/static/')).length,
            handlers: [...document.querySelectorAll('*')].filter((el) =>
                [...el.attributes].some((a) => a.name.startsWith('on'))).length,
            badLinks: [...document.querySelectorAll('[href], [src]')].filter((el) =>
                /^\\s*(javascript|data):/i.test(el.getAttribute('href') || el.getAttribute('src') || '')).length,
            injected: document.querySelectorAll('main img, main svg, main iframe, main b').length,
        })"""
    )
    assert found == {"inlineScripts": 0, "foreignScripts": 0, "handlers": 0, "badLinks": 0, "injected": 0}
