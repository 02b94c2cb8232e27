"""Public endpoints: inbound webhooks of any network (/hooks/<channel id>/) and the site chat widget
(/hooks/chat/<public key>/...).

A webhook is verified and parsed at once, so a bad one is refused with a 4xx naming the problem and leaves
nothing behind; a good one is stored as it arrived (RawEvent), queued, and answered 200 straight away.
The worker parses it again and ingests it, so a crash between the two loses nothing, and a network that
retries gets its answer before its own timeout.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from smmdesk.accounts.access import public_view
from smmdesk.channels.base import Adapter, AdapterError, SignatureError
from smmdesk.channels.models import Channel
from smmdesk.channels.webchat import views as chat_views
from smmdesk.inbox.models import RawEvent
from smmdesk.lib import crypto

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
# Kept with the raw event so the worker can verify the signature again; never cookies or credentials.
DROPPED_HEADERS = {"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "x-csrftoken"}
MAX_HEADER = 1000


def _error(status: int, message: str, **headers) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def kept_headers(headers, secret: frozenset[str] = frozenset()) -> dict[str, str]:
    """The headers stored with a delivery; those in `secret` (the adapter's secret_headers) encrypted."""
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if (lower.startswith("x-") and lower not in DROPPED_HEADERS) or lower == "content-type":
            kept[name] = crypto.encrypt(value[:MAX_HEADER]) if lower in secret else value[:MAX_HEADER]
    return kept


def stored_headers(stored: dict, secret: frozenset[str] = frozenset()) -> dict[str, str]:
    """kept_headers undone, for the worker that verifies the delivery again."""
    return {
        name: crypto.decrypt(value) if name.lower() in secret else value for name, value in stored.items()
    }


def receives_webhooks(channel: Channel) -> bool:
    return channel.known_kind and channel.adapter_class.parse_webhook is not Adapter.parse_webhook


def _enqueue(raw_event_id: int) -> None:
    # Imported here: the task module imports the ingestion pipeline, which the URL conf should not load.
    from smmdesk.inbox.ingest_tasks import process_raw_event_task

    process_raw_event_task(raw_event_id)


@csrf_exempt
@public_view
def receive(request, channel_id: int):
    if request.method not in ("POST", "GET"):
        return _error(405, "method: use POST", Allow="POST")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        return _error(400, "body: bad Content-Length")
    if int(declared) > MAX_BODY:
        return _error(413, f"body: larger than {MAX_BODY // 1024} KB")
    channel = Channel.objects.filter(pk=channel_id).exclude(status=Channel.Status.DISABLED).first()
    if channel is None or not receives_webhooks(channel):
        return _error(404, "channel: no channel receives webhooks at this address")
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _error(413, f"body: larger than {MAX_BODY // 1024} KB")
    try:
        adapter = channel.adapter()
    except (ValueError, ValidationError):
        logger.error("channel %s: webhook refused, its settings cannot be read", channel.pk)
        return _error(503, "channel: its settings cannot be read; the owner must save them again")
    try:
        answer = adapter.handshake(request.method, request.GET, body, request.headers)
        if answer is not None:
            return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
        if request.method != "POST":
            return _error(405, "method: use POST", Allow="POST")
        events = adapter.parse_webhook(body, request.headers)
    except SignatureError as exc:
        # 403, not 401: the sender is known to be wrong, and no authentication scheme would help it.
        return _error(403, exc.message)
    except AdapterError as exc:
        if exc.permanent:
            return _error(400, exc.message)
        return _error(503, exc.message, Retry_After=str(int(exc.retry_after or 30)))
    except Exception:  # noqa: BLE001 - an adapter bug on hostile input must still answer 4xx, not 500
        logger.exception("channel %s: parse_webhook crashed", channel.pk)
        return _error(400, "body: could not be read")
    if events:
        with transaction.atomic():
            raw = RawEvent.objects.create(
                channel=channel, body=body, headers=kept_headers(request.headers, adapter.secret_headers)
            )
            # robust: a queue that is down must not turn a stored event into a 500; the event stays
            # unprocessed in the table and can be queued again.
            transaction.on_commit(partial(_enqueue, raw.pk), robust=True)
    ack = adapter.webhook_ack
    if ack is not None:
        return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)
    return JsonResponse({"accepted": len(events)})


app_name = "hooks"
urlpatterns = [
    path("<int:channel_id>/", receive, name="receive"),
    path("chat/<str:token>/widget.js", chat_views.widget_js, name="chat_widget_js"),
    path("chat/<str:token>/widget.css", chat_views.widget_css, name="chat_widget_css"),
    path("chat/<str:token>/config", chat_views.config, name="chat_config"),
    path("chat/<str:token>/session", chat_views.session, name="chat_session"),
    path("chat/<str:token>/messages", chat_views.messages, name="chat_messages"),
]
