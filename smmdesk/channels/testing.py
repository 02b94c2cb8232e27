"""A local HTTP server that plays a network's API in tests: each network's tests script it with handlers
shaped like that network's public documentation, and the adapter talks to it over real HTTP through
lib/http (base URLs are configurable for exactly this)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """A urlencoded body (or the query string, for GET) as single values."""
        source = self.body.decode() if self.body else ""
        values = parse_qs(source, keep_blank_values=True) if source else {}
        merged = {**self.query, **values}
        return {name: items[-1] for name, items in merged.items()}


Answer = tuple[int, dict, object]  # status, headers, body (bytes, str, or anything json.dumps takes)
Handler = Callable[[Request], Answer]


@dataclass
class MockAPI:
    """routes[(METHOD, path)] = handler(request) -> (status, headers, body). Unknown routes answer 404.
    `requests` keeps every request, for assertions."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self):
        api = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                api.requests.append(request)
                handler = api.routes.get((self.command, parts.path))
                status, headers, body = handler(request) if handler else (404, {}, {"error": "no route"})
                if isinstance(body, bytes):
                    content = body
                elif isinstance(body, str):
                    content = body.encode()
                else:
                    content = json.dumps(body).encode()
                    headers = {"Content-Type": "application/json", **headers}
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def route(self, method: str, path: str):
        """Decorator: @api.route("POST", "/method/wall.post")."""

        def register(handler: Handler) -> Handler:
            self.routes[(method.upper(), path)] = handler
            return handler

        return register

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
