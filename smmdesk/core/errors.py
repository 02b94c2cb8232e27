"""What an unexpected failure answers.

A request that found the database too busy (every pooled PostgreSQL connection taken for the pool's
whole timeout, or SQLite's write lock held past its timeout) has not failed for good: nothing was
written, and the same request a few seconds later will most likely go through. It gets 503 with
Retry-After, which browsers, htmx pages, API clients and the networks' webhook senders read as "try
again", instead of a 500 that reads as a bug. Everything else is Django's own 500.
"""

from __future__ import annotations

import logging
import sys

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.defaults import server_error

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
BUSY_TEXT = _("The server is busy. Please try again in a few seconds.")


def database_busy(exc: BaseException | None) -> bool:
    """The database was too busy to serve, not broken: a pool timeout or a lock wait that ran out."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = type(exc).__name__
        if name == "PoolTimeout":
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def handler500(request, *args, **kwargs) -> HttpResponse:
    if not database_busy(sys.exc_info()[1]):
        return server_error(request, *args, **kwargs)
    logger.warning("%s %s: database busy, answered 503", request.method, request.path)
    wants_json = request.path.startswith("/api/") or request.path.startswith("/hooks/")
    if wants_json:
        response = JsonResponse({"error": str(BUSY_TEXT)}, status=503)
    else:
        response = HttpResponse(str(BUSY_TEXT), status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
