"""Feed parsing: RSS 2.0, RSS 1.0 (RDF) and Atom 1.0 documents shaped like their specifications'
examples, and the XML the parser must refuse."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from smmdesk.channels.rss.feeds import FeedError, parse_feed

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_rss_2():
    feed = parse_feed(load("rss2.xml"))
    assert (feed.title, feed.link) == ("Оренбург: городские новости", "https://news.orenburg.example/")
    salon, traffic, note = feed.entries
    assert salon.id == "news.orenburg.example/7781"  # the guid, even when it is not a link
    assert salon.title == "В Ленинском районе открылся новый салон красоты"
    # content:encoded over description; HTML to text; the quote kept; no script, no link address.
    assert salon.text == (
        "Салон «Ленинский» на улице Чкалова открылся в субботу.\n\nМы ждём всех, — говорит владелица.\n\nРеклама"
    )
    assert "ads.example" not in salon.text and "track()" not in salon.text
    assert salon.author == "Анна Смирнова"  # dc:creator
    assert salon.published == datetime(2025, 3, 11, 9, 39, 21, tzinfo=UTC)
    assert traffic.author == "Редакция"  # "editor@… (Редакция)"
    assert traffic.published == datetime(2025, 3, 10, 2, 15, tzinfo=UTC)
    assert traffic.text == "Утром на проспекте Победы — пробка в 7 баллов."
    # No guid, link, title or date: the content is the identity, and the same every time.
    assert note.id.startswith("sha256:") and note.id == parse_feed(load("rss2.xml")).entries[2].id
    assert note.published is None and note.link == ""


def test_rss_1_rdf_in_windows_1251():
    feed = parse_feed(load("rss1.rdf"))
    assert feed.title == "Форум Оренбурга"
    first, second = feed.entries
    assert first.id == "https://forum.orenburg.example/t/501"  # rdf:about
    assert first.title == "Где хорошо подстричься в Ленинском районе?"
    assert first.author == "marina_56"
    assert first.published == datetime(2025, 3, 12, 13, 5, tzinfo=UTC)
    assert second.published == datetime(2025, 3, 12, 19, 0, tzinfo=UTC)


def test_atom():
    feed = parse_feed(load("atom.xml"))
    assert (feed.title, feed.link) == ("Blog o kráse", "https://krasa.example/")
    review, trends = feed.entries
    assert review.id == "tag:krasa.example,2025:3.2397"
    assert review.title == "Recenzia: salón Leninsky"  # type="html"
    assert review.text == "Navštívila som salón Leninsky.\n\nManikúra bola výborná."  # type="xhtml"
    assert review.link == "https://krasa.example/2025/03/salon-leninsky"  # rel=alternate, not self
    assert review.author == "Jana Nováková"  # the feed's author
    assert review.published == datetime(2025, 3, 13, 16, 29, 29, tzinfo=UTC)
    assert trends.author == "Petra" and trends.text == "Pastelové farby sú späť."
    assert trends.published == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)  # updated, when not published


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("malformed.xml", "malformed: mismatched tag"),
        ("entities.xml", "declares XML entities"),
        ("page.html", "not an RSS or Atom feed"),
    ],
)
def test_what_is_refused(name, reason):
    with pytest.raises(FeedError, match=reason):
        parse_feed(load(name))


def test_an_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file://{secret}">'
        "<rss><channel><title>t &secret;</title></channel></rss>"
    ).encode()
    feed = parse_feed(document)
    assert feed.title == "t" and "TOP-SECRET" not in repr(feed)
