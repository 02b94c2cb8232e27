"""The restore drill: a data dir with data in every app, the scheduled backup's archive of it, and a
restore into a fresh data dir and database. Every model has the same number of rows afterwards, and the
secrets (channel credentials, a contest's sealed seed, a webhook's secret header, an API token, a
password) still work under the target's own encryption key.

Everything runs as the operator would run it, in separate processes; with DATABASE_URL set (CI's
PostgreSQL leg) both sides get a fresh database of their own.
"""

import json
import os

import pytest

from tests.test_backup_cli import BIN, drop_databases, environment, fresh_postgres_database, run

# More than the demo holds, so every app has rows, and one of each kind of sealed value exists.
SEED_MORE = """
import django; django.setup()
from smmdesk.accounts.actions import create_api_token
from smmdesk.accounts.models import User, Workspace
from smmdesk.channels.models import Channel
from smmdesk.channels.telegram.adapter import SECRET_HEADER, TelegramAdapter
from smmdesk.inbox.models import Message, RawEvent
from smmdesk.inbox.webhook_views import kept_headers
from smmdesk.keywords.models import Landmark, NegativeKeyword
from smmdesk.nlp.models import SentimentCorrection

workspace = Workspace.objects.get(slug="demo-orenburg")
telegram = Channel.objects.create(workspace=workspace, kind="telegram", name="Telegram webhook")
headers = kept_headers({SECRET_HEADER: "hook-secret-from-telegram", "Content-Type": "application/json"},
                       TelegramAdapter.secret_headers)
RawEvent.objects.create(channel=telegram, body=b'{"update_id": 1}', headers=headers)
Landmark.objects.create(workspace=workspace, name="Вокзал", language="ru")
NegativeKeyword.objects.create(workspace=workspace, phrase="бесплатно")
message = Message.objects.filter(conversation__workspace=workspace).order_by("pk").first()
SentimentCorrection.objects.create(workspace=workspace, message=message, label="positive")
_, raw = create_api_token(User.objects.get(email="owner@demo-orenburg.example"), "drill")
print(raw)
"""

SNAPSHOT = """
import django, json, sys
django.setup()
from django.apps import apps
from smmdesk.accounts.models import ApiToken, User
from smmdesk.channels.models import Channel
from smmdesk.contests.models import Contest
from smmdesk.inbox.models import RawEvent
from smmdesk.inbox.webhook_views import stored_headers
from smmdesk.lib import crypto
from smmdesk.lib.backup import EXCLUDED_MODELS
from smmdesk.lib.crypto import token_hash

counts = {m._meta.label_lower: m._base_manager.count() for m in apps.get_models()
          if m._meta.managed and m._meta.label_lower not in EXCLUDED_MODELS}
channels = sorted([c.workspace.slug, c.name, c.secret_values()] for c in Channel.objects.exclude(secrets=""))
seeds = sorted([c.workspace.slug, c.title, crypto.decrypt(c.sealed_seed)]
               for c in Contest.objects.exclude(sealed_seed=""))
hooks = [stored_headers(e.headers, e.channel.adapter_class.secret_headers) for e in RawEvent.objects.all()]
print(json.dumps({
    "counts": counts,
    "channel_secrets": channels,
    "contest_seeds": seeds,
    "webhook_headers": hooks,
    "api_token_known": ApiToken.objects.filter(token_hash=token_hash(sys.argv[1])).exists(),
    "demo_password": User.objects.get(email="owner@demo-orenburg.example").check_password("smmdesk-demo"),
}, sort_keys=True))
"""

BACKUP_NOW = """
import django; django.setup()
from smmdesk.lib import scheduled_backup
print(scheduled_backup.run())
"""


@pytest.mark.dbqueue
def test_a_backup_of_every_app_restores_into_a_fresh_database_with_the_same_rows_and_secrets(tmp_path):
    source_url = target_url = None
    cleanup = None
    if os.environ.get("DATABASE_URL"):
        source_url, source_name, admin = fresh_postgres_database(os.environ["DATABASE_URL"])
        target_url, target_name, _ = fresh_postgres_database(os.environ["DATABASE_URL"])
        cleanup = (admin, [source_name, target_name])
    try:
        source = {
            **environment(tmp_path / "source", source_url),
            "SMMDESK_BACKUP_DIR": str(tmp_path / "backups"),
            "SMMDESK_BACKUP_HOUR": "0",
        }
        run(source, BIN / "smmdesk", "migrate")
        run(source, BIN / "smmdesk", "demo")
        api_token = run(source, BIN / "python", "-c", SEED_MORE).strip()
        before = json.loads(run(source, BIN / "python", "-c", SNAPSHOT, api_token))
        empty = [label for label, count in before["counts"].items() if count == 0]
        apps_with_rows = {label.split(".")[0] for label, count in before["counts"].items() if count}
        assert {"accounts", "business", "channels", "inbox", "nlp", "publishing", "listening", "contests",
                "audience", "keywords", "sites", "ads"} <= apps_with_rows, empty  # fmt: skip
        assert before["contest_seeds"] and before["channel_secrets"]
        assert before["webhook_headers"][0]["X-Telegram-Bot-Api-Secret-Token"] == "hook-secret-from-telegram"

        archive = run(source, BIN / "python", "-c", BACKUP_NOW).strip()
        assert archive.startswith(str(tmp_path / "backups" / "smmdesk-"))

        target = environment(tmp_path / "target", target_url)
        out = run(target, BIN / "smmdesk", "restore", archive)
        sealed_values = len(before["channel_secrets"]) + len(before["contest_seeds"]) + 1
        assert f"{sealed_values} secrets re-encrypted" in out
        after = json.loads(run(target, BIN / "python", "-c", SNAPSHOT, api_token))

        assert after["counts"] == before["counts"]
        assert after == before
        assert after["api_token_known"] and after["demo_password"]
        key = (tmp_path / "target" / "encryption_key").read_text()
        assert key != (tmp_path / "source" / "encryption_key").read_text()
    finally:
        if cleanup:
            drop_databases(*cleanup)
