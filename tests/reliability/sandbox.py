"""Throwaway installations for the crash tests, made from the test process.

Each scenario gets its own data dir and database, copied from one migrated template (migrating costs
seconds, copying does not): a SQLite file by default, or, when DATABASE_URL is set, a PostgreSQL
database beside the configured one (CREATE DATABASE ... TEMPLATE). REDIS_URL, when set, is passed on:
the scenario's processes then queue through Redis, as a split deployment does.

The scenario itself runs in a child process inside the installation (crash.py): Django there is set up
on the installation's database, not on the test database this process holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
SMMDESK = Path(sys.executable).parent / "smmdesk"
SQLITE_NAME = "smmdesk.sqlite3"
# Variables that would point the installation at the test run's own data, or change its settings.
DROPPED = {"DATABASE_URL", "REDIS_URL", "SMMDESK_DATA_DIR", "DJANGO_SETTINGS_MODULE", "HOST", "PORT"}
SCENARIO_TIMEOUT = 240


class ScenarioFailed(AssertionError):
    pass


def base_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith("SMMDESK_")}
    env.update(
        SMMDESK_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="smmdesk.settings",
        PYTHONUNBUFFERED="1",
        # The child imports tests.reliability from this checkout, and the product from it too.
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


def _postgres_admin(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _postgres_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin_sql(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(_postgres_admin(url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@dataclass
class Template:
    """A migrated database to copy: the SQLite file's folder, or a PostgreSQL database's name."""

    folder: Path
    postgres: str | None = None  # DATABASE_URL of the server, when the template is a PostgreSQL database
    name: str = ""

    @classmethod
    def create(cls, folder: Path) -> Template:
        server = os.environ.get("DATABASE_URL")
        template = cls(folder=folder, postgres=server)
        url = None
        if server:
            template.name = f"smmdesk_crash_tpl_{uuid.uuid4().hex[:8]}"
            _admin_sql(server, f'CREATE DATABASE "{template.name}"')
            url = _postgres_url(server, template.name)
        result = subprocess.run(
            [str(SMMDESK), "migrate"],
            env=base_env(folder, url),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            template.drop()
            raise ScenarioFailed(f"smmdesk migrate failed:\n{result.stderr[-3000:]}")
        return template

    def clone(self, data_dir: Path) -> Installation:
        data_dir.mkdir(parents=True)
        if self.postgres is None:
            for suffix in ("", "-wal", "-shm"):
                source = self.folder / f"{SQLITE_NAME}{suffix}"
                if source.exists():
                    shutil.copyfile(source, data_dir / source.name)
            return Installation(data_dir, None, None)
        name = f"smmdesk_crash_{uuid.uuid4().hex[:8]}"
        _admin_sql(self.postgres, f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return Installation(data_dir, _postgres_url(self.postgres, name), name)

    def drop(self) -> None:
        if self.postgres and self.name:
            _admin_sql(self.postgres, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Installation:
    data_dir: Path
    database_url: str | None
    database_name: str | None

    def run(self, scenario: str) -> dict:
        """Run a scenario of crash.py in this installation; its result (the last line of its output)."""
        log = self.data_dir / "scenario.log"
        with log.open("w") as out:
            done = subprocess.run(
                [sys.executable, "-m", "tests.reliability.crash", scenario],
                env=base_env(self.data_dir, self.database_url),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=out,
                text=True,
                timeout=SCENARIO_TIMEOUT,
            )
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0 or not lines:
            raise ScenarioFailed(
                f"{scenario} failed (exit {done.returncode}):\n" + "\n".join(lines[-20:]) + "\n" + self.logs()
            )
        return json.loads(lines[-1])

    def logs(self, tail: int = 3000) -> str:
        """The ends of the scenario's and its processes' logs, for a failure's message."""
        parts = []
        for path in sorted(self.data_dir.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    def drop(self) -> None:
        if self.database_name:
            _admin_sql(
                os.environ["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)'
            )
