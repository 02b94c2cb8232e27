"""Who holds a claim on a row (a variant being published, an import running): the claiming process is
named host:pid, so a sweeper can tell a claim whose process died on this machine from a live one at once,
and needs a time limit only for claims made on other machines."""

from __future__ import annotations

import os
import socket


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def dead_here(claimed_by: str) -> bool:
    """The claim is this machine's and its process is gone (or a zombie waiting to be reaped)."""
    host, _sep, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
