"""Configuration comes only from the environment; each bad variable is named in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smmdesk.lib import config

SMMDESK = str(Path(sys.executable).with_name("smmdesk"))


def load(tmp_path, **env):
    return config.load({"SMMDESK_DATA_DIR": str(tmp_path), **env})


def test_defaults_make_a_one_machine_setup(tmp_path):
    cfg = load(tmp_path)
    assert cfg.problems == []
    assert cfg.database["ENGINE"] == "django.db.backends.sqlite3"
    assert cfg.database["NAME"] == str(tmp_path / "smmdesk.sqlite3")
    assert cfg.port == 8000 and cfg.host == "127.0.0.1"
    assert (tmp_path / "secret_key").read_text() == cfg.secret_key
    # A second start keeps the same keys, so sessions and stored secrets survive restarts.
    again = load(tmp_path)
    assert again.secret_key == cfg.secret_key and again.encryption_keys == cfg.encryption_keys


def test_postgres_url_parsed(tmp_path):
    cfg = load(tmp_path, DATABASE_URL="postgresql://app:p%40ss@db.internal:6543/smm?sslmode=require")
    db = cfg.database
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "smm",
        "app",
        "p@ss",
        "db.internal",
        "6543",
    )
    assert db["OPTIONS"]["sslmode"] == "require"
    # Pooled, not persistent: under ASGI a persistent connection belongs to a request's short-lived thread.
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"]["max_size"] >= db["OPTIONS"]["pool"]["min_size"] >= 1


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://localhost:notaport/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://localhost"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://localhost:6379/zero"}, "REDIS_URL"),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"SMMDESK_DEBUG": "maybe"}, "SMMDESK_DEBUG"),
        ({"SMMDESK_ENCRYPTION_KEY": "short"}, "SMMDESK_ENCRYPTION_KEY"),
        ({"SMMDESK_CSRF_TRUSTED_ORIGINS": "example.com"}, "SMMDESK_CSRF_TRUSTED_ORIGINS"),
        ({"SMMDESK_ADMIN_PATH": "<script>"}, "SMMDESK_ADMIN_PATH"),
    ],
)
def test_bad_value_names_the_variable(tmp_path, env, variable):
    problems = load(tmp_path, **env).problems
    assert len(problems) == 1 and problems[0].startswith(f"{variable}: ")


def run_cli(tmp_path, *args, **env):
    base = {"PATH": "/usr/bin:/bin", "SMMDESK_DATA_DIR": str(tmp_path)}
    # On CI's PostgreSQL + Redis leg the commands must see the same servers as the tests.
    base.update({k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL") if k in os.environ})
    return subprocess.run([SMMDESK, *args], env={**base, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"DATABASE_URL": "postgres//nohost"}, "DATABASE_URL"),
        ({"PORT": "eighty"}, "PORT"),
    ],
)
@pytest.mark.parametrize("command", ["check", "serve"])
def test_check_and_serve_fail_with_one_line(tmp_path, env, variable, command):
    result = run_cli(tmp_path, command, **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"configuration error: {variable}:" in lines[0], result.stderr


@pytest.mark.parametrize("command", ["check", "serve"])
def test_unreachable_redis_is_named(tmp_path, command):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    result = run_cli(tmp_path, command, REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smmdesk: queue unreachable"), result.stderr


@pytest.mark.dbqueue
def test_check_passes_when_everything_answers(tmp_path):
    result = run_cli(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    database = "postgresql" if "DATABASE_URL" in os.environ else "sqlite3"
    queue = "redis" if "REDIS_URL" in os.environ else "sqlite"
    assert result.stdout.startswith(f"ok: database {database}, queue {queue}")


def test_version_and_help(tmp_path):
    from smmdesk import __version__

    assert run_cli(tmp_path, "--version").stdout.strip() == f"smmdesk, version {__version__}"
    help_text = run_cli(tmp_path, "--help").stdout
    for command in (
        "serve",
        "web",
        "worker",
        "migrate",
        "demo",
        "createuser",
        "check",
        "backup",
        "restore",
        "channels",
        "bench",
    ):
        assert f"  {command}" in help_text


def test_worker_starts_and_stops(tmp_path):
    """The worker command builds its consumer (with and without the periodic scheduler) and runs it."""
    import signal

    for flag in ("--periodic", "--no-periodic"):
        env = {"PATH": "/usr/bin:/bin", "SMMDESK_DATA_DIR": str(tmp_path)}
        env.update({k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL") if k in os.environ})
        process = subprocess.Popen(
            [SMMDESK, "worker", "--workers", "1", flag],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started = ""
        for line in process.stdout:
            started += line
            if "Periodic tasks are" in line:
                break
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        assert "Huey consumer started" in started, started
        assert ("Periodic tasks are enabled" in started) == (flag == "--periodic")
