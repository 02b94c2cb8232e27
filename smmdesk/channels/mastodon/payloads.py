"""Mastodon's JSON entities (Status, Notification, Account) turned into the adapter contract's dataclasses.

Status content is HTML written by whoever posted it, on any server of the fediverse: it is turned into
plain text here (tags dropped, entities decoded, line breaks kept) and nothing of its markup or its
links' targets is kept, so no page ever renders it or follows it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from smmdesk.channels.base import InboundEvent

# Tags after which the text goes on in a new paragraph, or on a new line.
_PARAGRAPHS = frozenset({"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "div"})
_LINES = frozenset({"li", "tr"})
# Whose text is never content, in case a server lets them through.
_HIDDEN = frozenset({"script", "style", "template", "title", "head"})


class _TextOf(HTMLParser):
    def __init__(self):
        # convert_charrefs: &amp; &#1078; &lt; arrive already decoded in handle_data.
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def _break(self, text: str) -> None:
        if self.parts:
            self.parts.append(text)

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _PARAGRAPHS:
            self._break("\n\n")
        elif tag in _LINES:
            self._break("\n")

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _PARAGRAPHS:
            self._break("\n\n")

    def handle_data(self, data):
        if not self.hidden:
            # Whitespace in HTML source is not layout; breaks come from the tags above.
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of a status's HTML content. Mastodon hides parts of long links in
    <span class="invisible">: their text is kept, so the link reads whole."""
    if not html:
        return ""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def parse_time(value) -> datetime | None:
    """Mastodon's ISO 8601 times ("2019-12-08T03:48:33.901Z") as aware UTC datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def author_fields(account: dict, instance_host: str) -> dict:
    """Who posted, as the inbox shows them: a full @user@server handle, so people on two servers with
    the same user name stay apart."""
    acct = str(account.get("acct") or account.get("username") or "")
    if acct and "@" not in acct and instance_host:
        acct = f"{acct}@{instance_host}"
    return {
        "author_id": str(account.get("id", "")),
        "author_name": account.get("display_name") or account.get("username") or acct,
        "author_handle": f"@{acct}" if acct else "",
        "author_url": _web_url(account.get("url")),
    }


def _web_url(value) -> str:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else ""


def status_text(status: dict) -> str:
    """The status's text; a content warning stays in front of it, as readers see it first."""
    text = html_to_text(status.get("content") or "")
    spoiler = (status.get("spoiler_text") or "").strip()
    return f"{spoiler}\n\n{text}".strip() if spoiler else text


def attachments(status: dict) -> list[dict]:
    """Metadata of the status's media: what it is and where the network keeps it; never fetched here."""
    found = []
    for media in status.get("media_attachments") or []:
        if not isinstance(media, dict):
            continue
        found.append(
            {
                "type": str(media.get("type") or "unknown"),
                "id": str(media.get("id", "")),
                "url": _web_url(media.get("url")) or _web_url(media.get("remote_url")),
                "preview_url": _web_url(media.get("preview_url")),
                "description": media.get("description") or "",
            }
        )
    return found


def status_event(status: dict, instance_host: str, raw: dict | None = None) -> InboundEvent | None:
    """A status that mentions us, as an inbox event; None for what is not a message (a boost).

    The status id is the event id, so the same status seen in a notification, a webhook or a search is
    one message, and a reply to it names it. A direct status is a private message (dm), threaded per
    person, and its reply chain joins it to our earlier answers; any other one is a public mention,
    threaded under the status it answers.
    """
    if not isinstance(status, dict) or status.get("reblog") or not status.get("id"):
        return None
    account = status.get("account") or {}
    created = parse_time(status.get("created_at")) or datetime.now(UTC)
    in_reply_to = str(status.get("in_reply_to_id") or "")
    direct = status.get("visibility") == "direct"
    author = author_fields(account, instance_host)
    return InboundEvent(
        external_id=str(status["id"]),
        kind="dm" if direct else "mention",
        text=status_text(status),
        created_at=created,
        thread_id=author["author_id"] if direct else (in_reply_to or str(status["id"])),
        reply_to_id=in_reply_to,
        attachments=attachments(status),
        raw=raw if raw is not None else status,
        **author,
    )
