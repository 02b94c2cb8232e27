"""The XSS corpus (tests/corpus/xss/) rendered in a real browser: nothing a customer writes runs as code.

tests/browser/xss_seed.py puts every payload where customers and networks write (inbox messages, author
names, profile links, attachments; listening mentions and trend cards; a drawn contest's entrants on its
public proof page; a landing page's copy and FAQ; the site chat's title and greeting), in a workspace of
its own. Each page is then opened with a detector installed before any script runs:

- `__xss(id)` records a payload that ran, and every dialog (alert, confirm) is recorded and dismissed;
- every Content-Security-Policy violation is recorded: a violation means markup got into the page and
  only the policy stopped it, which is a failure of the escaping even though nothing ran;
- the DOM is searched (open shadow roots included) for what injected markup would leave: event handler
  attributes, htmx handlers or requests from customer text, frames, objects, <base>, meta refresh,
  inline scripts, and any link, form or frame whose address the browser parses to a scheme that runs
  code (javascript:, vbscript:, data:) — so no such link exists to be clicked;
- and the payloads must be on the page as text, so a page that simply left the content out cannot pass.

The site chat widget is checked on a site with no CSP at all, as many small businesses' sites are: there
only the widget's own care (text, never HTML) stands between a visitor's or an agent's words and the page.
"""

from __future__ import annotations

import json
import subprocess
from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ROOT, RUNNING, product_env
from tests.browser.test_product import log_in
from tests.browser.test_widget import HostPage

pytestmark = pytest.mark.browser

PYTHON = ROOT / ".venv" / "bin" / "python"
CORPUS = ROOT / "tests" / "corpus" / "xss"

DETECTOR = """
window.__xssHits = [];
window.__xss = (id) => { window.__xssHits.push(String(id)); };
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI} ${event.sample || ""}`);
}, true);
"""

# What injected markup leaves behind; [] on a clean page. `allowedScriptOrigins` are the origins a
# page's scripts may come from (its own, and the smmdesk server for a site embedding the widget).
SCAN = """(allowedScriptOrigins) => {
  const problems = [];
  const elements = [];
  const collect = (root) => {
    for (const el of root.querySelectorAll("*")) {
      elements.push(el);
      if (el.shadowRoot) collect(el.shadowRoot);
    }
  };
  collect(document);
  const where = (el) => `<${el.tagName.toLowerCase()}> "${(el.textContent || "").trim().slice(0, 50)}"`;
  const URL_ATTRIBUTES = ["href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcdoc"];
  const scheme = (value, el) => {
    try { return new URL(value, el.baseURI).protocol; } catch (error) { return "unparsable:"; }
  };
  for (const el of elements) {
    const tag = el.tagName.toLowerCase();
    // The corpus's htmx payloads wrap their id (p24..p28) in the element that carries the attributes.
    const ownText = [...el.childNodes].filter((node) => node.nodeType === 3).map((node) => node.textContent).join("");
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) problems.push(`event handler ${name} on ${where(el)}`);
      if (/^(data-)?hx-on/.test(name)) problems.push(`htmx handler ${name} on ${where(el)}`);
      if (/^(data-)?hx-/.test(name) && /^\\s*p2[4-8]\\s*$/.test(ownText)) {
        problems.push(`htmx attribute ${name} from customer text on ${where(el)}`);
      }
      if (name === "srcdoc") problems.push(`srcdoc on ${where(el)}`);
      if (URL_ATTRIBUTES.includes(name) && name !== "srcdoc") {
        const protocol = scheme(attr.value, el);
        const image = tag === "img" && attr.value.trim().toLowerCase().startsWith("data:image/");
        if (["javascript:", "vbscript:", "unparsable:"].includes(protocol) || (protocol === "data:" && !image)) {
          problems.push(`${name}=${attr.value.slice(0, 60)} (${protocol}) on ${where(el)}`);
        }
      }
    }
    if (["iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"].includes(tag)) {
      problems.push(`a <${tag}> element`);
    }
    if (tag === "meta" && /refresh/i.test(el.getAttribute("http-equiv") || "")) problems.push("meta refresh");
    if (tag === "style") problems.push(`a <style> element: ${(el.textContent || "").slice(0, 60)}`);
    if (tag === "script") {
      if (!el.src) {
        if (!["application/ld+json", "application/json"].includes(el.type)) {
          problems.push(`inline script: ${(el.textContent || "").slice(0, 60)}`);
        }
      } else if (!allowedScriptOrigins.includes(new URL(el.src).origin)) {
        problems.push(`script from ${el.src}`);
      }
    }
  }
  for (const link of elements.filter((el) => el.matches("a[href], area[href]"))) {
    if (!["http:", "https:", "mailto:", "tel:"].includes(link.protocol)) {
      problems.push(`a link to ${link.href.slice(0, 60)} (${link.protocol}): ${where(link)}`);
    }
  }
  return problems;
}"""


def corpus(name: str) -> list[str]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("# ")]


PAYLOADS = corpus("payloads.txt")


class Watch:
    """The detector on one browser context: installed before any page script, read after each page."""

    def __init__(self, context: BrowserContext):
        self.dialogs: list[str] = []
        context.add_init_script(DETECTOR)
        context.on("page", self._watch)
        for page in context.pages:
            self._watch(page)

    def _watch(self, page: Page) -> None:
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def problems(self, page: Page, scripts_from: tuple[str, ...] = ()) -> list[str]:
        origin = "{0.scheme}://{0.netloc}".format(urlparse(page.url))
        found = [f"ran: __xss({hit})" for hit in page.evaluate("window.__xssHits || []")]
        found += [f"dialog: {message}" for message in self.dialogs]
        # An image from another host is refused by img-src without anything having been injected (a
        # landing page's pictures may be external addresses); every other refusal means markup got in.
        violations = page.evaluate("window.__cspViolations || []")
        found += [f"CSP violation: {v}" for v in violations if not v.startswith("img-src ")]
        found += page.evaluate(SCAN, [origin, *scripts_from])
        self.dialogs.clear()
        return found


def shown_payloads(text: str) -> int:
    """How many payloads appear on the page as text (their first 25 characters, markup and all)."""
    return sum(1 for payload in PAYLOADS if payload.strip()[:25] in text)


def open_and_check(page: Page, watch: Watch, path: str, *, shown: int = 1) -> None:
    page.goto(path)
    problems = watch.problems(page)
    assert not problems, (path, problems)
    count = shown_payloads(page.locator("body").inner_text())
    assert count >= shown, f"{path}: {count} payloads shown as text, expected at least {shown}"


# --- the hostile workspace ------------------------------------------------------------------------------


class SiteWithoutCSP(HostPage):
    """A business's site embedding the chat widget, with no Content-Security-Policy of its own."""

    def csp(self) -> str:
        return ""


@pytest.fixture(scope="module")
def lab(server):
    """The corpus seeded into the served product's database, once for this module."""
    _process, log_path = RUNNING[server]
    env = product_env(log_path.parent, urlparse(server).port)
    env["DJANGO_SETTINGS_MODULE"] = "smmdesk.settings"
    with SiteWithoutCSP(server) as site:
        result = subprocess.run(
            [str(PYTHON), "-m", "tests.browser.xss_seed", site.origin],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        seeded = json.loads(result.stdout.strip().splitlines()[-1])
        site.key = seeded["chat_key"]
        yield {**seeded, "site": site}


@pytest.fixture
def watched(page: Page, lab) -> tuple[Page, Watch]:
    watch = Watch(page.context)
    log_in(page, lab["owner"])
    return page, watch


# --- the pages ------------------------------------------------------------------------------------------


def test_the_inbox_shows_hostile_messages_names_and_attachments_as_text(watched, lab):
    page, watch = watched
    base = f"/w/{lab['workspace']}/inbox/"
    with page.expect_response(lambda response: "/inbox/updates/" in response.url):
        page.goto(base)  # and one live update swapped in by htmx
    assert not watch.problems(page), watch.problems(page)
    assert shown_payloads(page.locator("body").inner_text()) >= 10
    for n, conversation in enumerate(lab["conversations"]):
        path = f"{base}c/{conversation}/"
        if n == 0:
            with page.expect_response(lambda response: "/live/" in response.url):
                page.goto(path)
            problems = watch.problems(page)
            assert not problems, (path, problems)
        else:
            open_and_check(page, watch, path)


def test_listening_mentions_and_trend_cards_show_hostile_text_as_text(watched, lab):
    page, watch = watched
    base = f"/w/{lab['workspace']}/listening/"
    open_and_check(page, watch, base, shown=10)
    more = page.get_by_test_id("load-more")
    while more.count():
        # The next page of mentions comes in through an htmx swap.
        with page.expect_response(lambda response: "/listening/" in response.url):
            more.first.click()
        problems = watch.problems(page)
        assert not problems, ("load more", problems)
    expect(page.get_by_test_id("mention")).to_have_count(len(PAYLOADS), timeout=15_000)
    open_and_check(page, watch, f"{base}trends/", shown=10)


def test_contest_pages_and_the_public_proof_show_entrant_names_as_text(watched, lab, browser, server):
    page, watch = watched
    base = f"/w/{lab['workspace']}/contests/"
    open_and_check(page, watch, base)
    open_and_check(page, watch, f"{base}{lab['contest']}/")
    open_and_check(page, watch, f"{base}{lab['contest']}/entrants/", shown=10)
    # The proof page is public: a stranger, not logged in, sees every winner's line.
    stranger = browser.new_context(base_url=server, locale="en-US")
    try:
        stranger_watch = Watch(stranger)
        proof = stranger.new_page()
        open_and_check(
            proof, stranger_watch, f"/contests/proof/{lab['proof_token']}/", shown=len(PAYLOADS) // 2
        )
        expect(proof.get_by_test_id("proof-winner")).to_have_count(len(PAYLOADS))
    finally:
        stranger.close()


def test_landing_pages_show_edited_copy_and_faq_as_text(watched, lab, browser, server):
    page, watch = watched
    base = f"/w/{lab['workspace']}/sites/"
    open_and_check(page, watch, base)
    for view in ("", "preview/", "audit/"):
        open_and_check(page, watch, f"{base}{lab['page']}/{view}")
    visitor = browser.new_context(base_url=server, locale="ru-RU")
    try:
        visitor_watch = Watch(visitor)
        public = visitor.new_page()
        open_and_check(public, visitor_watch, f"/site/{lab['workspace']}/")
        open_and_check(
            public, visitor_watch, f"/site/{lab['workspace']}/{lab['page_slug']}/", shown=len(PAYLOADS) // 2
        )
        open_and_check(public, visitor_watch, f"/site/{lab['workspace']}/xss-second/")
        # Every FAQ answer opened: a <details> toggle is where an injected ontoggle would fire.
        for item in public.locator("details").all():
            item.locator("summary").click()
        problems = visitor_watch.problems(public)
        assert not problems, problems
    finally:
        visitor.close()


def test_channel_settings_and_dashboard_show_hostile_names_as_text(watched, lab):
    page, watch = watched
    for path in (f"/w/{lab['workspace']}/", f"/w/{lab['workspace']}/settings/channels/"):
        page.goto(path)
        problems = watch.problems(page)
        assert not problems, (path, problems)


def test_hostile_addresses_and_searches_are_not_reflected_as_markup(watched, lab):
    """What a link someone else sent puts in the address bar: searches, a login redirect, unknown pages."""
    page, watch = watched
    slug = lab["workspace"]
    payload = "<img src=x onerror=__xss('r1')>\"'><script>__xss('r1')</script>"
    for path in (
        f"/w/{slug}/inbox/?q={quote(payload)}",
        f"/w/{slug}/listening/?q={quote(payload)}",
        f"/w/{slug}/inbox/c/999999/?x={quote(payload)}",
        f"/site/{slug}/{quote(payload, safe='')}/",
        f"/accounts/login/?next={quote(chr(106) + 'avascript:__xss(1)')}",
    ):
        page.goto(path)
        problems = watch.problems(page)
        assert not problems, (path, problems)


def test_the_site_chat_widget_shows_visitor_and_agent_text_as_text_on_a_site_without_csp(
    browser, server, lab
):
    site = lab["site"]
    visitor_context = browser.new_context(locale="en-US")
    agent_context = browser.new_context(base_url=server, locale="en-US")
    visitor_context.set_default_timeout(15_000)
    agent_context.set_default_timeout(15_000)
    try:
        visitor_watch, agent_watch = Watch(visitor_context), Watch(agent_context)
        visitor = visitor_context.new_page()
        # The page's address goes to the inbox with the message: a hostile one, too.
        visitor.goto(site.origin + "/prices/" + quote("<img src=x onerror=__xss('w1')>"))
        launcher = visitor.get_by_role("button", name="Chat with us")
        launcher.click()
        log = visitor.get_by_role("log")
        expect(log).to_contain_text(PAYLOADS[2].strip()[:25])  # the greeting
        visitor.get_by_label("Your name (optional)").fill(PAYLOADS[1][:100])
        chunks = ["\n".join(PAYLOADS[:28]), "\n".join(PAYLOADS[28:])]
        for chunk in chunks:
            visitor.get_by_label("Message").fill(chunk[:2000])
            # Enter sends, as in every chat (a click could land while the log below is still growing).
            with visitor.expect_response(
                lambda r: r.url.endswith("/messages") and r.request.method == "POST"
            ):
                visitor.get_by_label("Message").press("Enter")
            expect(visitor.get_by_label("Message")).to_have_value("")
        expect(log).to_contain_text(PAYLOADS[30].strip()[:25])
        problems = visitor_watch.problems(visitor, scripts_from=(server,))
        assert not problems, ("widget, visitor's messages", problems)

        # An agent answers quoting the visitor: the answer reaches the widget as text too.
        agent = agent_context.new_page()
        log_in(agent, lab["owner"])
        agent.goto(f"/w/{lab['workspace']}/inbox/?channel={lab['chat_channel']}")
        agent.get_by_test_id("conversation-link").first.click()
        expect(agent.get_by_test_id("conversation-live")).to_contain_text(PAYLOADS[30].strip()[:25])
        problems = agent_watch.problems(agent)
        assert not problems, ("inbox, the chat conversation", problems)
        agent.get_by_test_id("reply-form").locator("textarea").fill("\n".join(PAYLOADS[:20]))
        agent.get_by_test_id("reply-send").click()
        expect(agent.get_by_test_id("conversation-live")).to_contain_text(PAYLOADS[19].strip()[:25])
        expect(log.locator("li.theirs")).to_contain_text([PAYLOADS[19].strip()[:25]])
        problems = visitor_watch.problems(visitor, scripts_from=(server,))
        assert not problems, ("widget, the agent's answer", problems)
        problems = agent_watch.problems(agent)
        assert not problems, ("inbox, after the answer", problems)
    finally:
        visitor_context.close()
        agent_context.close()


def test_the_api_docs_work_under_the_strict_policy(page: Page):
    """Swagger UI runs from this server's static files with no inline script allowed."""
    watch = Watch(page.context)
    page.goto("/api/docs")
    # The schema is large: Swagger UI draws the page once it has fetched and read it.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("smmdesk API", timeout=60_000)
    problems = watch.problems(page)
    assert not problems, problems


def test_the_detector_catches_what_it_is_meant_to(page: Page, server):
    """The control: the same detector on a page that does let markup through reports it."""
    watch = Watch(page.context)
    page.goto("/healthz")
    page.evaluate(
        """() => {
          document.body.insertAdjacentHTML("beforeend",
            '<img src=x onerror="__xss(1)"><a href="javascript:__xss(2)">x</a><iframe></iframe>' +
            '<div hx-get="/accounts/logout/" hx-trigger="load">p24</div>');
          window.__xss("direct");
        }"""
    )
    problems = watch.problems(page)
    assert "ran: __xss(direct)" in problems
    assert any(p.startswith("event handler onerror") for p in problems), problems
    assert any("(javascript:)" in p for p in problems), problems
    assert "a <iframe> element" in problems
    assert any(p.startswith("htmx attribute hx-get from customer text") for p in problems), problems
    # The strict policy blocked the injected handler and said so.
    assert any(p.startswith("CSP violation: script-src") for p in problems), problems
