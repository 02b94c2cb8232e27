"""Benchmarks behind `smmdesk bench ...`.

Each benchmark runs in a child process with its own throwaway data dir, so it never touches the
user's data: `run_ingest` always uses a fresh SQLite database there; `run_inbox` too, unless it is given
a database URL (which must then name a database the benchmark may fill); `run_load` is given a database
and a Redis URL, and creates and empties them itself. The child's lines are passed
on as they come; the last one is the result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

# Settings the child must not inherit: they would point it at the user's database, queue or data.
INHERITED_AWAY = ("DATABASE_URL", "REDIS_URL", "SMMDESK_DATA_DIR", "DJANGO_SETTINGS_MODULE")


class BenchError(Exception):
    """The benchmark could not run; the message says why (with the end of the child's error output)."""


def run_child(
    module: str,
    args: list[str],
    echo: Callable[[str], object],
    database_url: str | None = None,
    redis_url: str | None = None,
) -> str:
    with tempfile.TemporaryDirectory(prefix="smmdesk-bench-") as data_dir:
        env = {key: value for key, value in os.environ.items() if key not in INHERITED_AWAY}
        env["SMMDESK_DATA_DIR"] = data_dir
        env["DJANGO_SETTINGS_MODULE"] = "smmdesk.settings"
        env["PYTHONUNBUFFERED"] = "1"
        if database_url:
            env["DATABASE_URL"] = database_url
        if redis_url:
            env["REDIS_URL"] = redis_url
        errors = Path(data_dir) / "stderr.log"
        last = ""
        with errors.open("w") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=env,
            )
            assert child.stdout is not None
            for line in child.stdout:
                line = line.rstrip("\n")
                if line:
                    echo(line)
                    last = line
            code = child.wait()
        if code != 0:
            tail = errors.read_text(errors="replace").strip().splitlines()[-15:]
            raise BenchError(f"{module} failed (exit {code}):\n" + "\n".join(tail))
        return last


def setup_child() -> None:
    """Inside the child: Django with a migrated database (the data dir is the parent's throwaway one)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def say(line: str) -> None:
    print(line, flush=True)
