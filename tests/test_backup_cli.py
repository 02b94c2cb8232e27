"""`smmdesk backup` then `smmdesk restore` into an empty data dir gives the same data (SQLite or PostgreSQL)."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = """
import django, json
django.setup()
from smmdesk.accounts.models import Membership, User, Workspace
from smmdesk.business.models import BusinessProfile
from smmdesk.channels.models import Channel
print(json.dumps({
    "workspaces": sorted(Workspace.objects.values_list("slug", "name")),
    "users": sorted(User.objects.values_list("email", "name", "is_superuser")),
    "memberships": sorted(Membership.objects.values_list("user__email", "workspace__slug", "role")),
    "profiles": sorted((p.workspace.slug, p.city, p.districts, p.languages, p.timezone)
                       for p in BusinessProfile.objects.all()),
    "channels": sorted((c.workspace.slug, c.name, c.status, c.typed_config().api_token.get_secret_value())
                       for c in Channel.objects.all()),
    "demo_login": User.objects.get(email="owner@demo-orenburg.example").check_password("smmdesk-demo"),
}, default=str))
"""


def environment(data_dir, database_url=None):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SMMDESK_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "smmdesk.settings",
        # This checkout's code, whichever checkout the venv has installed.
        "PYTHONPATH": str(ROOT),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if "REDIS_URL" in os.environ:
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


def run(env, *args, expect=0):
    """Run a command; its stdout, or the whole result when it is expected to fail."""
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == expect, f"{args}: {result.stderr[-2000:]}"
    return result.stdout if expect == 0 else result


def fresh_postgres_database(url: str) -> str:
    """A new empty database beside the configured one, so the restore target is truly empty."""
    import psycopg

    name = f"smmdesk_restore_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), name, admin


@pytest.mark.dbqueue
def test_backup_then_restore_into_empty_data_dir(tmp_path):
    source_url = os.environ.get("DATABASE_URL")
    cleanup = None
    target_url = None
    if source_url:
        source_url, source_name, admin = fresh_postgres_database(source_url)
        target_url, target_name, _ = fresh_postgres_database(os.environ["DATABASE_URL"])
        cleanup = (admin, [source_name, target_name])
    try:
        source = environment(tmp_path / "source", source_url)
        run(source, BIN / "smmdesk", "migrate")
        run(source, BIN / "smmdesk", "demo")
        media = tmp_path / "source" / "media" / "logo.txt"
        media.parent.mkdir(parents=True, exist_ok=True)
        media.write_text("Локон")
        archive = tmp_path / "backup.tar.gz"
        out = run(source, BIN / "smmdesk", "backup", str(archive))
        assert "backup written" in out and oct(archive.stat().st_mode & 0o777) == "0o600"
        before = json.loads(run(source, BIN / "python", "-c", SNAPSHOT))

        target = environment(tmp_path / "target", target_url)
        out = run(target, BIN / "smmdesk", "restore", str(archive))
        assert "restored from" in out
        after = json.loads(run(target, BIN / "python", "-c", SNAPSHOT))
        assert after == before
        assert len(after["workspaces"]) == 2 and after["demo_login"] is True
        assert (tmp_path / "target" / "media" / "logo.txt").read_text() == "Локон"
        # The target made its own encryption key; the secrets were re-encrypted under it.
        assert (tmp_path / "target" / "encryption_key").read_text() != (
            tmp_path / "source" / "encryption_key"
        ).read_text()
        again = run(target, BIN / "smmdesk", "restore", str(archive), expect=1)
        assert "already" in again.stderr.lower()
    finally:
        if cleanup:
            drop_databases(*cleanup)


def drop_databases(admin: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
