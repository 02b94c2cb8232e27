"""Is the database reachable, is the queue reachable: used by /healthz and `smmdesk check`."""

from django.db import connections


def check_database() -> str | None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", reported by name
        return f"database unreachable: {first_line(exc)}"
    return None


def check_queue() -> str | None:
    from huey.contrib.djhuey import HUEY

    try:
        HUEY.storage.queue_size()
    except Exception as exc:  # noqa: BLE001
        return f"queue unreachable: {first_line(exc)}"
    return None


def first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
