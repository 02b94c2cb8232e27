"""RSS 2.0, RSS 1.0 (RDF), RSS 0.9x and Atom 1.0 feeds parsed into plain entries, with the standard
library's expat, hardened.

Feeds come from addresses members type in, so the XML is hostile until proven otherwise:
- no entity declarations at all: a DOCTYPE that declares one (the "billion laughs" expansion, or an
  external entity pointing at a local file or an internal URL) is refused before it is expanded;
- no external DTD or entity is ever fetched;
- HTML's named entities (&nbsp;, &mdash; ...), which real RSS feeds use without declaring them, are
  read from Python's own table instead;
- the body is size-limited before parsing (adapter.py).
Entry text is HTML turned into plain text (smmdesk.inbox.mail.html_to_text): no markup, scripts or
links survive.
"""

from __future__ import annotations

import hashlib
import html.entities
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.parsers import expat

ATOM = "http://www.w3.org/2005/Atom"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS1 = "http://purl.org/rss/1.0/"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
DC = "http://purl.org/dc/elements/1.1/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
HTML_ENTITIES = {name: chr(code) for name, code in html.entities.name2codepoint.items()}
RSS_AUTHOR = re.compile(r"^\S+@\S+\s*\((.+)\)\s*$")
MAX_ENTRIES = 500
MAX_TEXT = 10_000


class FeedError(ValueError):
    """The body is not a feed we can read."""


@dataclass
class Entry:
    id: str
    title: str
    text: str
    link: str = ""
    author: str = ""
    published: datetime | None = None


@dataclass
class Feed:
    title: str
    link: str
    entries: list[Entry] = field(default_factory=list)


def parse_xml(data: bytes) -> ET.Element:
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def name(raw: str) -> str:
        # expat gives "namespace local-name"; ElementTree spells it "{namespace}local-name".
        if " " not in raw:
            return raw
        namespace, local = raw.split(" ", 1)
        return f"{{{namespace}}}{local}"

    def refuse(*_args):
        raise FeedError("the feed declares XML entities, which are refused")

    parser.StartElementHandler = lambda tag, attrs: builder.start(
        name(tag), {name(k): v for k, v in attrs.items()}
    )
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    # Undeclared entities become "skipped" instead of fatal, and nothing external is ever loaded.
    parser.UseForeignDTD(True)
    parser.ExternalEntityRefHandler = lambda *_args: 1
    parser.SkippedEntityHandler = lambda entity, _is_parameter: builder.data(HTML_ENTITIES.get(entity, ""))
    try:
        parser.Parse(data, True)
        return builder.close()
    except expat.ExpatError as exc:
        raise FeedError(f"the XML is malformed: {expat.ErrorString(exc.code)} at line {exc.lineno}")


def _text(element: ET.Element | None) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _child(parent: ET.Element, *tags: str) -> ET.Element | None:
    for tag in tags:
        found = parent.find(tag)
        if found is not None:
            return found
    return None


def _plain(markup: str) -> str:
    from smmdesk.inbox.mail import html_to_text

    # html_to_text leaves out blockquotes (quoted mail); in a post they are the author's content.
    text = html_to_text(re.sub(r"<(/?)blockquote\b", r"<\1div", markup, flags=re.I))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _date(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)  # RSS 2.0: RFC 822
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(value)  # Atom and Dublin Core: RFC 3339
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _entry_id(*candidates: str, title: str, text: str) -> str:
    for candidate in candidates:
        if candidate.strip():
            return candidate.strip()
    # No id and no link: the content is the identity (the same entry read again is the same id).
    return "sha256:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def _web_link(value: str) -> str:
    value = value.strip()
    return value if value.startswith(("https://", "http://")) else ""


def _rss_item(item: ET.Element, ns: str = "") -> Entry:
    """An RSS 2.0 item (ns "") or RSS 1.0/0.90 item (its namespace)."""
    title = _plain(_text(item.find(f"{ns}title")))
    body = _text(_child(item, f"{{{CONTENT}}}encoded", f"{ns}description"))
    text = _plain(body)[:MAX_TEXT]
    link = _web_link(_text(item.find(f"{ns}link")))
    guid = _text(item.find("guid"))
    about = item.get(f"{{{RDF}}}about", "")
    author = _text(_child(item, "author", f"{{{DC}}}creator"))
    # RSS 2.0 <author> is "address (Name)": the name is what people recognise.
    named = RSS_AUTHOR.match(author)
    author = named.group(1).strip() if named else author
    published = _date(_text(_child(item, "pubDate", f"{{{DC}}}date")))
    return Entry(
        id=_entry_id(guid, about, link, title=title, text=text),
        title=title,
        text=text,
        link=link,
        author=author[:200],
        published=published,
    )


def _atom_text(element: ET.Element | None) -> str:
    """Atom text constructs: type="text" as is, "html" as escaped markup, "xhtml" as inline elements."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        # The XHTML elements without their namespace, so the HTML reader knows <p> and <br>.
        for each in element.iter():
            each.tag = each.tag.rsplit("}", 1)[-1]
        return _plain(ET.tostring(element, encoding="unicode", method="html"))
    if kind == "html" or kind.endswith("html"):
        return _plain(_text(element))
    return re.sub(r"[ \t]+", " ", _text(element))


def _atom_link(element: ET.Element) -> str:
    for link in element.findall(f"{{{ATOM}}}link"):
        if link.get("rel", "alternate") == "alternate":
            return _web_link(link.get("href", ""))
    return ""


def _atom_entry(entry: ET.Element, feed_author: str) -> Entry:
    title = _atom_text(entry.find(f"{{{ATOM}}}title"))
    text = _atom_text(_child(entry, f"{{{ATOM}}}content", f"{{{ATOM}}}summary"))[:MAX_TEXT]
    link = _atom_link(entry)
    author = _text(entry.find(f"{{{ATOM}}}author/{{{ATOM}}}name")) or feed_author
    published = _date(_text(_child(entry, f"{{{ATOM}}}published", f"{{{ATOM}}}updated")))
    return Entry(
        id=_entry_id(_text(entry.find(f"{{{ATOM}}}id")), link, title=title, text=text),
        title=title,
        text=text,
        link=link,
        author=author[:200],
        published=published,
    )


def parse_feed(data: bytes) -> Feed:
    """The feed in `data`; FeedError when it is not RSS or Atom we can read."""
    root = parse_xml(data)
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedError("an RSS document without a channel")
        items = channel.findall("item") or root.findall("item")
        feed = Feed(_text(channel.find("title")), _web_link(_text(channel.find("link"))))
        feed.entries = [_rss_item(item) for item in items[:MAX_ENTRIES]]
        return feed
    if root.tag == f"{{{RDF}}}RDF":
        for ns in (f"{{{RSS1}}}", f"{{{RSS090}}}"):
            channel = root.find(f"{ns}channel")
            if channel is not None:
                feed = Feed(_text(channel.find(f"{ns}title")), _web_link(_text(channel.find(f"{ns}link"))))
                feed.entries = [_rss_item(item, ns) for item in root.findall(f"{ns}item")[:MAX_ENTRIES]]
                return feed
        raise FeedError("an RDF document without an RSS channel")
    if root.tag == f"{{{ATOM}}}feed":
        author = _text(root.find(f"{{{ATOM}}}author/{{{ATOM}}}name"))
        feed = Feed(_atom_text(root.find(f"{{{ATOM}}}title")), _atom_link(root))
        feed.entries = [_atom_entry(e, author) for e in root.findall(f"{{{ATOM}}}entry")[:MAX_ENTRIES]]
        return feed
    raise FeedError(f"not an RSS or Atom feed (the document is <{root.tag}>)")
