"""The chat widget's public endpoints, under /hooks/chat/<public key>/ (see docs/site-chat.md).

Cross-origin rules: a browser request carrying an Origin header is served only for this server's own
origin and the channel's allowed sites, and only those get Access-Control-Allow-Origin. Requests without
an Origin (a script, curl) are not a browser acting for a site and are subject to the rate limits alone.
Every answer is JSON with an "error" naming the field on refusal; none is a 500.
"""

from __future__ import annotations

import json
import logging
from functools import cache, wraps
from pathlib import Path

from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from smmdesk.accounts.access import public_view
from smmdesk.channels.webchat import chat

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static" / "webchat"
MAX_BODY = 16 * 1024
VISITOR_HEADER = "X-Smmdesk-Visitor"
COOKIE_AGE = 365 * 24 * 3600
PREFLIGHT_AGE = 7200


def cookie_name(channel_id: int) -> str:
    return f"smmdesk_chat_{channel_id}"


def error(status: int, field: str, message: str, **headers) -> JsonResponse:
    # "error" names the field for integrators; "message" alone is what the widget shows the visitor.
    response = JsonResponse(
        {"error": f"{field}: {message}", "field": field, "message": message}, status=status
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def own_origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}".lower()


def client_ip(request) -> str:
    # Behind a proxy every visitor shares its address; the per-visitor limits still apply then.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _allow_cors(response, origin: str, methods: str) -> None:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = f"Content-Type, {VISITOR_HEADER}"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_AGE)
    patch_vary_headers(response, ["Origin"])


def chat_endpoint(*methods: str):
    """Find the widget by its key, apply the origin rules, answer preflights, and keep errors JSON."""
    allowed_methods = ", ".join((*methods, "OPTIONS"))

    def decorate(view):
        @csrf_exempt
        @public_view
        @wraps(view)
        def wrapper(request, token):
            widget = chat.find_widget(token)
            if widget is None:
                return error(404, "key", "no chat with this key")
            origin = request.headers.get("Origin", "")
            cross = bool(origin) and origin.lower() != own_origin(request)
            if cross and origin.lower() not in widget.config.origins():
                response = error(403, "origin", "this site is not allowed to use the chat")
                patch_vary_headers(response, ["Origin"])
                return response
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
            elif request.method not in methods:
                response = error(405, "method", f"use {' or '.join(methods)}", Allow=allowed_methods)
            else:
                response = view(request, widget)
            if cross:
                _allow_cors(response, origin, allowed_methods)
            response.setdefault("Cache-Control", "no-store")
            return response

        return wrapper

    return decorate


def read_json(request):
    """(data, None) or (None, error response): a small JSON body, an empty one meaning {}."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        return None, error(400, "body", "bad Content-Length")
    if int(declared) > MAX_BODY:
        return None, error(413, "body", f"at most {MAX_BODY // 1024} KB")
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return None, error(413, "body", f"at most {MAX_BODY // 1024} KB")
    if not body.strip():
        return {}, None
    try:
        return json.loads(body), None
    except (ValueError, RecursionError):
        return None, error(400, "body", "malformed JSON")


def visitor_token(request, widget) -> str | None:
    return request.headers.get(VISITOR_HEADER) or request.COOKIES.get(cookie_name(widget.channel.pk))


def too_many(retry_after: float):
    return error(
        429, "rate", _("Too many messages. Please wait a moment."), Retry_After=str(int(retry_after))
    )


def labels() -> dict:
    # Translated for the visitor's browser language (LocaleMiddleware reads Accept-Language).
    return {
        "open": _("Chat with us"),
        "close": _("Close"),
        "message": _("Message"),
        "send": _("Send"),
        "name": _("Your name (optional)"),
        "email": _("Your e-mail (optional)"),
        "you": _("You"),
        "failed": _("Sending failed. Please try again."),
        "rate": _("Too many messages. Please wait a moment."),
    }


@chat_endpoint("GET")
def config(request, widget):
    response = JsonResponse(
        {"title": chat.title_of(widget), "greeting": widget.config.greeting, "labels": labels()}
    )
    response["Cache-Control"] = "public, max-age=60"
    patch_vary_headers(response, ["Origin", "Accept-Language"])
    return response


@chat_endpoint("POST")
def session(request, widget):
    """The visitor's id: the one they bring if it is valid, else a new one. Nothing is stored until they
    write, so opening the chat costs no rows."""
    channel = widget.channel
    token = visitor_token(request, widget)
    if chat.visitor_of(channel, token) is None:
        wait = chat.over_limit("session_ip", f"{channel.pk}:{client_ip(request)}")
        if wait:
            return too_many(wait)
        _visitor, token = chat.new_visitor(channel)
    response = JsonResponse({"visitor": token})
    response.set_cookie(
        cookie_name(channel.pk),
        token,
        max_age=COOKIE_AGE,
        path="/hooks/chat/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


@chat_endpoint("GET", "POST")
def messages(request, widget):
    visitor = chat.visitor_of(widget.channel, visitor_token(request, widget))
    if visitor is None:
        return error(401, "visitor", f"missing or invalid {VISITOR_HEADER}; start a session first")
    ip = f"{widget.channel.pk}:{client_ip(request)}"
    if request.method == "GET":
        wait = chat.over_limit("poll_visitor", visitor) or chat.over_limit("poll_ip", ip)
        if wait:
            return too_many(wait)
        after = request.GET.get("after", "0") or "0"
        if not after.isdigit() or len(after) > 18:
            return error(400, "after", "expected a message id (a whole number)")
        found = chat.history(widget, visitor, int(after))
        return JsonResponse({"messages": [chat.as_json(m) for m in found]})
    wait = chat.over_limit("send_visitor", visitor) or chat.over_limit("send_ip", ip)
    if wait:
        return too_many(wait)
    data, refused = read_json(request)
    if refused is not None:
        return refused
    try:
        message = chat.send(widget, visitor, data)
    except chat.ChatError as exc:
        return error(400, exc.field, exc.message)
    return JsonResponse({"message": chat.as_json(message)}, status=201)


@cache
def _asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _asset_response(name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(_asset(name), content_type=content_type)
    response["Cache-Control"] = "public, max-age=300"
    # Sites that isolate themselves (Cross-Origin-Embedder-Policy) may still load it.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@public_view
def widget_js(request, token):
    if chat.find_widget(token) is None:
        return HttpResponse(
            "/* smmdesk: no chat with this key */\n", content_type="text/javascript", status=404
        )
    return _asset_response("widget.js", "text/javascript; charset=utf-8")


@public_view
def widget_css(request, token):
    # No lookup: the stylesheet is the same for every widget and only loaded by widget.js.
    return _asset_response("widget.css", "text/css; charset=utf-8")
