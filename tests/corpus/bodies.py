"""Hostile request bodies: JSON for the API and the webhooks, XML for the feeds listening reads.

`broken_json()` are bodies no JSON object can be read from (truncated, 100,000 levels deep, huge, not
UTF-8, a number of 5,000 digits, the wrong type). `with_text(document, value)` puts a hostile value into
every text field of a valid document, so a body that passes parsing still carries it to the database;
`json_bytes` keeps lone surrogates and NUL as the `\\ud800` and `\\u0000` escapes JSON allows.
"""

from __future__ import annotations

import codecs
import json

from tests.corpus.tables import Case

DEPTH = 100_000
# Broken to a strict reader, readable to a lenient one (Python's json reads BOMs and UTF-16 in bytes).
READABLE = frozenset({"bom_utf8", "utf16", "duplicate_keys"})


def json_bytes(value) -> bytes:
    # ensure_ascii writes "\ud800" and "\u0000" as escapes: valid JSON, poison once decoded.
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def broken_json(valid: dict | list | None = None, huge_bytes: int = 3 * 1024 * 1024) -> list[Case]:
    """Bodies to refuse whole. `valid` (a good document) is the base for the truncated and BOM cases."""
    base = json_bytes(valid if valid is not None else {"text": "Привет", "items": [1, 2, 3]})
    cases = {
        "empty": b"",
        "truncated": base[: len(base) // 2],
        "truncated_string": b'{"text": "unterminated',
        "nested_arrays": b"[" * DEPTH + b"]" * DEPTH,
        "nested_objects": b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
        "unclosed_nesting": b"[" * DEPTH,
        "huge_array": b"[" + b"1," * (huge_bytes // 2) + b"1]",
        "huge_string": b'{"text": "' + b"x" * huge_bytes + b'"}',
        "number_5000_digits": b'{"id": ' + b"9" * 5000 + b"}",
        "number_infinite": b'{"id": 1e999, "count": -1e999}',
        "nan": b'{"id": NaN, "count": Infinity}',
        "bom_utf8": codecs.BOM_UTF8 + base,
        "utf16": base.decode().encode("utf-16"),
        "invalid_utf8": b'{"text": "\xc0\xaf\xff\xfe"}',
        "top_level_array": b"[]",
        "top_level_string": b'"hello"',
        "top_level_null": b"null",
        "duplicate_keys": b'{"text": "a", "text": {"nested": true}}',
        "nul_byte_raw": b'{"text": "a\x00b"}',
        "not_json": b"<xml>definitely not json</xml>",
    }
    return [Case(name, data, f"{name}.json") for name, data in cases.items()]


def with_text(document, value: str, keys: frozenset[str] | None = None):
    """A copy of the document with every string (or every string under one of `keys`) replaced."""
    if isinstance(document, dict):
        return {
            k: (value if isinstance(v, str) and (keys is None or k in keys) else with_text(v, value, keys))
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [with_text(item, value, keys) for item in document]
    return document


# --- feeds -----------------------------------------------------------------------------------------------

RSS_ITEM = (
    "<item><title>{title}</title><link>https://example.com/{n}</link><guid>item-{n}</guid>"
    "<description>{text} Локон</description><pubDate>Thu, 19 Mar 2026 10:00:00 GMT</pubDate></item>"
)


def rss(items: list[tuple[str, str]], prologue: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    body = "".join(RSS_ITEM.format(n=n, title=t, text=x) for n, (t, x) in enumerate(items))
    return f'{prologue}<rss version="2.0"><channel><title>Feed</title><link>https://example.com/</link>{body}</channel></rss>'


def feed_cases() -> list[Case]:
    good = rss([("Локон открылся", "Салон «Локон» на Чкалова")])
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">'
        + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
        + "]>"
    )
    cases = {
        "good": good.encode(),
        "empty": b"",
        "truncated": good.encode()[: len(good) // 2],
        "billion_laughs": rss([("&lol9;", "x")], prologue=laughs).encode(),
        "external_entity": rss(
            [("&xxe;", "x")],
            prologue='<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        ).encode(),
        "external_dtd": rss(
            [("t", "x")], prologue='<!DOCTYPE rss SYSTEM "http://127.0.0.1/evil.dtd">'
        ).encode(),
        "nul_byte": good.encode().replace("Салон".encode(), b"\x00"),
        "nul_reference": rss([("a&#0;b", "x")]).encode(),
        "escaped_nul_in_cdata": rss([("t", "<![CDATA[a\x00b]]>")]).encode(),
        "deep_nesting": rss([("t", "<b>" * 50_000 + "x" + "</b>" * 50_000)]).encode(),
        "deep_xml_elements": ("<rss>" + "<x>" * DEPTH + "</x>" * DEPTH + "</rss>").encode(),
        "huge": rss([("t", "Ж" * 2_000_000)]).encode(),
        "many_items": rss([(f"t{i}", "x") for i in range(5_000)]).encode(),
        "wrong_declared_encoding": good.replace("UTF-8", "ISO-8859-5").encode(),
        "cp1251_declared_utf8": good.encode("cp1251", errors="replace"),
        "html_page": b"<!doctype html><html><body><p>Not a feed</p></body></html>",
        "unicode_edge_cases": rss(
            [("\u202eevil\u202c 👨\u200d👩\u200d👧", "Z" + "\u0301" * 500 + " \ufeffbom")]
        ).encode(),
        "script_in_text": rss(
            [("t", "&lt;script&gt;alert(1)&lt;/script&gt;<![CDATA[<img src=x onerror=alert(1)>]]>")]
        ).encode(),
    }
    return [Case(name, data, f"{name}.xml") for name, data in cases.items()]


# --- e-mail ----------------------------------------------------------------------------------------------


def _mail(headers: str, body: bytes) -> bytes:
    base = "From: =?utf-8?b?0JDQvdC90LA=?= <anna@example.com>\r\nTo: salon@example.com\r\nSubject: Hello\r\n"
    return (base + headers + "\r\n").encode() + body


def mail_cases() -> list[Case]:
    nested = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(3_000)
    )
    cases = {
        "nul_in_body": _mail("Content-Type: text/plain; charset=utf-8\r\n", "Привет\x00 мир".encode()),
        "nul_in_header": _mail("X-Note: a\x00b\r\nContent-Type: text/plain\r\n", b"hi"),
        "unknown_charset": _mail("Content-Type: text/plain; charset=x-no-such-charset\r\n", b"\xff\xfe hi"),
        "lying_charset": _mail("Content-Type: text/plain; charset=utf-8\r\n", "Привет".encode("cp1251")),
        "utf7_charset": _mail("Content-Type: text/plain; charset=utf-7\r\n", b"+AGEAYgBj- and +2D3eAA-"),
        "bad_base64": _mail(
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n", b"!!!not base64===\r\n"
        ),
        "nested_multipart": (
            "From: anna@example.com\r\nMIME-Version: 1.0\r\n" + nested + "Content-Type: text/plain\r\n\r\nhi"
        ).encode(),
        "encoded_word_nul": _mail("Content-Type: text/plain\r\n", b"hi").replace(
            b"Subject: Hello", b"Subject: =?utf-8?q?a=00b?="
        ),
        "rtl_and_zwj": _mail(
            "Content-Type: text/plain; charset=utf-8\r\n", "\u202eevil\u202c 👨\u200d👩\u200d👧".encode()
        ),
        "html_script": _mail(
            "Content-Type: text/html; charset=utf-8\r\n", b"<script>alert(1)</script><p>hi\x00</p>"
        ),
        "huge_header": _mail("X-Long: " + "a" * 500_000 + "\r\nContent-Type: text/plain\r\n", b"hi"),
        "garbage": random_bytes(4096),
    }
    return [Case(name, data, f"{name}.eml") for name, data in cases.items()]


def random_bytes(size: int) -> bytes:
    import random

    return random.Random(3).randbytes(size)
