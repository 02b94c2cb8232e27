"""smmdesk.lib.backup: an archive restored into an empty data dir gives the same data, secrets included.

Database tests are transactional (the code under test opens its own transactions and runs migrate) and
marked dbqueue, so CI repeats them on PostgreSQL.
"""

import io
import json
import os
import shutil
import stat
import tarfile
from datetime import time
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction

from conftest import PASSWORD, make_workspace
from smmdesk.lib import backup

SECRET = "secret-token-123"


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "data" / "media"
    root.mkdir(parents=True)
    settings.MEDIA_ROOT = root
    return root


def populate(media_root):
    from smmdesk.accounts.models import AuditEvent
    from smmdesk.business.models import Department, OpeningHours, Service
    from smmdesk.channels.fake.adapter import FakeConfig
    from smmdesk.channels.models import Channel

    workspace, users = make_workspace("salon", "Salon Leninsky")
    other, _ = make_workspace("rival", "Rival Salon", roles=["owner"])
    Service.objects.create(
        workspace=workspace,
        name="Haircut",
        price=Decimal("1500.00"),
        duration_minutes=45,
        synonyms=["стрижка", "strihanie"],
    )
    Service.objects.create(workspace=other, name="Manicure", price=Decimal("990.50"))
    OpeningHours.objects.create(workspace=workspace, weekday=0, opens=time(9), closes=time(18))
    department = Department.objects.create(workspace=workspace, name="Front desk")
    department.members.set([users["agent"].memberships.get(), users["owner"].memberships.get()])
    channel = Channel(workspace=workspace, kind="fake", name="VK club")
    channel.store_config(FakeConfig(account_id="vk-club", stands_for="vk", api_token=SECRET))
    channel.save()
    AuditEvent.objects.create(workspace=workspace, actor=users["owner"], action="login", detail={"ip": "x"})
    (media_root / "uploads").mkdir()
    (media_root / "uploads" / "logo.png").write_bytes(b"\x89PNG fake image")
    (media_root / "readme.txt").write_text("кириллица", encoding="utf-8")
    return channel


def snapshot():
    """Everything a person would call "the same workspaces, users, profiles and channels"."""
    from smmdesk.accounts.models import AuditEvent, Membership, User, Workspace
    from smmdesk.business.models import BusinessProfile, Department, OpeningHours, Service
    from smmdesk.channels.models import Channel

    tables = [
        Workspace,
        User,
        Membership,
        BusinessProfile,
        Service,
        OpeningHours,
        Department,
        Department.members.through,
        AuditEvent,
    ]
    data = {model._meta.label: list(model.objects.order_by("pk").values()) for model in tables}
    # Many-to-many rows are re-created on load, so only their pairs are the same, not their own ids.
    through = Department.members.through._meta.label
    data[through] = sorted((row["department_id"], row["membership_id"]) for row in data[through])
    data["channels"] = list(Channel.objects.order_by("pk").values())
    for row in data["channels"]:
        row.pop("secrets", None)
    return data


def new_data_dir(settings, media_root):
    """What an empty data dir looks like: no rows, no media, a freshly generated encryption key."""
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(media_root)
    settings.SMMDESK_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


def rewrite(archive, target, change=None, extra=()):
    """Copy an archive, changing members (name -> function of bytes) and appending (TarInfo, bytes)."""
    change = change or {}
    with tarfile.open(archive) as src, tarfile.open(target, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name in change:
                data = change[member.name](data)
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
        for info, data in extra:
            dst.addfile(info, io.BytesIO(data) if data is not None else None)
    return target


def edit_manifest(edit):
    def change(data):
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    return change


def minimal_archive(path, extra=()):
    """A well-formed archive with no rows, built by hand (no database needed)."""
    manifest = {
        "format": "smmdesk-backup",
        "format_version": 1,
        "app_version": "0",
        "created_at": "",
        "database": "sqlite",
        "migrations": {},
        "objects": {},
    }
    members = [
        ("manifest.json", json.dumps(manifest).encode()),
        ("keys.json", json.dumps({"encryption_keys": [Fernet.generate_key().decode()]}).encode()),
        ("data.json", b"[]"),
    ]
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


# --- the acceptance path ----------------------------------------------------------------------------


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_an_empty_data_dir_gives_the_same_data(settings, tmp_path, media_root):
    from smmdesk.accounts.models import User, Workspace
    from smmdesk.channels.models import Channel

    channel = populate(media_root)
    old_token = channel.secrets
    old_keys = list(settings.SMMDESK_ENCRYPTION_KEYS)
    before = snapshot()
    archive = tmp_path / "smmdesk.tar.gz"

    manifest = backup.create_backup(archive)

    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    assert manifest["objects"]["accounts.workspace"] == 2
    assert manifest["objects"]["accounts.user"] == 6
    assert manifest["objects"]["channels.channel"] == 1
    assert "0001_initial" in manifest["migrations"]["channels"]
    assert manifest["media_files"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".smmdesk-backup-")]

    new_data_dir(settings, media_root)
    assert Workspace.objects.count() == 0
    result = backup.restore_backup(archive)

    assert snapshot() == before
    assert result["secrets_reencrypted"] == 1
    assert result["media_files"] == 2
    assert result["replaced_existing"] is False
    user = authenticate(email="owner@salon.example", password=PASSWORD)
    assert user is not None and user.memberships.get().workspace.slug == "salon"
    restored = Channel.objects.get()
    assert restored.typed_config().api_token.get_secret_value() == SECRET
    assert restored.secrets != old_token
    with pytest.raises(InvalidToken):
        Fernet(old_keys[0].encode()).decrypt(restored.secrets.encode())
    assert (media_root / "uploads" / "logo.png").read_bytes() == b"\x89PNG fake image"
    assert (media_root / "readme.txt").read_text(encoding="utf-8") == "кириллица"
    assert sorted(p.name for p in media_root.iterdir()) == ["readme.txt", "uploads"]
    # Sequences continue after the restored ids (PostgreSQL would otherwise hand out id 1 again).
    assert Workspace.objects.create(slug="new", name="New").pk > max(
        w["id"] for w in before["accounts.Workspace"]
    )
    assert User.objects.create_user("new@example.com", PASSWORD).pk > max(
        u["id"] for u in before["accounts.User"]
    )


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_the_archive_holds_manifest_keys_data_and_media(settings, tmp_path, media_root):
    populate(media_root)
    (media_root / "link").symlink_to("/etc/passwd")
    archive = tmp_path / "b.tar.gz"
    backup.create_backup(archive)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        keys = json.load(tar.extractfile("keys.json"))
        data = json.load(tar.extractfile("data.json"))
    assert names[:3] == ["manifest.json", "keys.json", "data.json"]
    assert "media/uploads/logo.png" in names
    assert "media/link" not in names
    assert keys == {"encryption_keys": settings.SMMDESK_ENCRYPTION_KEYS}
    models = {row["model"] for row in data}
    assert {"accounts.user", "accounts.workspace", "channels.channel", "business.service"} <= models
    assert not models & {"contenttypes.contenttype", "auth.permission", "sessions.session"}


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_a_backup_inside_a_transaction_is_refused(tmp_path, media_root):
    with transaction.atomic(), pytest.raises(backup.BackupError, match="outside a transaction"):
        backup.create_backup(tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_an_archive_from_a_newer_schema_is_refused_naming_the_migration(settings, tmp_path, media_root):
    from smmdesk.accounts.models import Workspace

    populate(media_root)
    archive = tmp_path / "b.tar.gz"
    backup.create_backup(archive)
    future = rewrite(
        archive,
        tmp_path / "future.tar.gz",
        change={
            "manifest.json": edit_manifest(lambda m: m["migrations"]["channels"].append("0042_future_field"))
        },
    )
    new_data_dir(settings, media_root)

    with pytest.raises(backup.BackupError, match=r"newer schema \(channels: 0042_future_field\)"):
        backup.restore_backup(future)
    assert Workspace.objects.count() == 0
    assert not media_root.exists()


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_an_archive_from_an_older_schema_is_accepted(settings, tmp_path, media_root):
    from smmdesk.accounts.models import Workspace

    populate(media_root)
    backup.create_backup(tmp_path / "b.tar.gz")
    older = rewrite(
        tmp_path / "b.tar.gz",
        tmp_path / "older.tar.gz",
        change={"manifest.json": edit_manifest(lambda m: m["migrations"].pop("sessions"))},
    )
    new_data_dir(settings, media_root)
    backup.restore_backup(older)
    assert Workspace.objects.count() == 2


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_a_newer_archive_format_is_refused(settings, tmp_path, media_root):
    populate(media_root)
    backup.create_backup(tmp_path / "b.tar.gz")
    newer = rewrite(
        tmp_path / "b.tar.gz",
        tmp_path / "newer.tar.gz",
        change={"manifest.json": edit_manifest(lambda m: m.update(format_version=backup.FORMAT_VERSION + 1))},
    )
    new_data_dir(settings, media_root)
    with pytest.raises(backup.BackupError, match="backup format 2, newer"):
        backup.restore_backup(newer)


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_a_target_with_data_is_refused_unless_forced_and_force_replaces_everything(tmp_path, media_root):
    from smmdesk.accounts.models import Workspace

    populate(media_root)
    before = snapshot()
    archive = tmp_path / "b.tar.gz"
    backup.create_backup(archive)
    Workspace.objects.create(slug="added-later", name="Added later")
    (media_root / "later.txt").write_text("later")

    with pytest.raises(backup.BackupError, match="already holds users or workspaces"):
        backup.restore_backup(archive)
    assert Workspace.objects.filter(slug="added-later").exists()

    result = backup.restore_backup(archive, force=True)
    assert result["replaced_existing"] is True
    assert snapshot() == before
    assert not Workspace.objects.filter(slug="added-later").exists()
    assert not (media_root / "later.txt").exists()
    assert (media_root / "uploads" / "logo.png").exists()
    assert [p.name for p in media_root.iterdir() if p.name.startswith(".")] == []


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_a_failing_load_changes_nothing(tmp_path, media_root):
    """All-or-nothing: a row pointing at a missing workspace makes the load fail after the flush."""
    populate(media_root)
    before = snapshot()
    backup.create_backup(tmp_path / "b.tar.gz")
    orphan = {
        "model": "business.service",
        "pk": 999,
        "fields": {
            "workspace": 424242,
            "name": "Orphan",
            "price": "1.00",
            "duration_minutes": 60,
            "synonyms": [],
        },
    }
    broken = rewrite(
        tmp_path / "b.tar.gz",
        tmp_path / "broken.tar.gz",
        change={
            "data.json": lambda data: json.dumps([*json.loads(data), orphan]).encode(),
            "manifest.json": edit_manifest(lambda m: m["objects"].update({"business.service": 3})),
        },
    )
    (media_root / "later.txt").write_text("later")

    with pytest.raises(backup.BackupError, match="nothing was changed"):
        backup.restore_backup(broken, force=True)
    assert snapshot() == before
    assert (media_root / "later.txt").exists()
    assert [p.name for p in media_root.iterdir() if p.name.startswith(".")] == []


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_secrets_the_archive_keys_cannot_open_are_refused(settings, tmp_path, media_root):
    from smmdesk.channels.models import Channel

    populate(media_root)
    backup.create_backup(tmp_path / "b.tar.gz")
    wrong_keys = rewrite(
        tmp_path / "b.tar.gz",
        tmp_path / "wrong.tar.gz",
        change={
            "keys.json": lambda _: json.dumps({"encryption_keys": [Fernet.generate_key().decode()]}).encode()
        },
    )
    new_data_dir(settings, media_root)
    with pytest.raises(backup.BackupError, match="cannot be decrypted with the archive's keys"):
        backup.restore_backup(wrong_keys)
    assert Channel.objects.count() == 0


# --- damaged and hostile files (refused before the database is touched: no django_db mark) -----------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"this is not an archive",
        b"\x1f\x8b\x08\x00garbage",
        "gzip-of-text",
        "truncated",
        "tar-without-manifest",
    ],
)
def test_a_damaged_file_is_a_backup_error_not_a_traceback(tmp_path, content):
    path = tmp_path / "backup.tar.gz"
    if content == "gzip-of-text":
        import gzip

        path.write_bytes(gzip.compress(b"hello " * 1000))
    elif content == "truncated":
        whole = minimal_archive(tmp_path / "whole.tar.gz").read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif content == "tar-without-manifest":
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo("data.json")
            info.size = 2
            tar.addfile(info, io.BytesIO(b"[]"))
    else:
        path.write_bytes(content)
    with pytest.raises(backup.BackupError):
        backup.restore_backup(path)


def test_a_missing_file_is_a_backup_error(tmp_path):
    with pytest.raises(backup.BackupError, match="no such file"):
        backup.restore_backup(tmp_path / "nope.tar.gz")


def test_a_damaged_manifest_is_a_backup_error(tmp_path):
    archive = minimal_archive(tmp_path / "ok.tar.gz")
    bad = rewrite(archive, tmp_path / "bad.tar.gz", change={"manifest.json": lambda _: b"{not json"})
    with pytest.raises(backup.BackupError, match="manifest.json is damaged"):
        backup.restore_backup(bad)


def _member(name, kind=tarfile.REGTYPE, data=b"x", linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_member("../evil"), "unsafe path"),
        (_member("media/../../evil"), "unsafe path"),
        (_member("/tmp/evil"), "unsafe path"),
        (_member("media/link", tarfile.SYMTYPE, linkname="/etc/passwd"), "link"),
        (_member("media/hard", tarfile.LNKTYPE, linkname="data.json"), "link"),
        (_member("media/dev", tarfile.CHRTYPE), "special file"),
        (_member("settings.py"), "unexpected member"),
    ],
)
def test_hostile_members_are_refused_before_anything_is_extracted(tmp_path, settings, member, message):
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    archive = minimal_archive(tmp_path / "hostile.tar.gz", extra=[member])
    with pytest.raises(backup.BackupError, match=message):
        backup.restore_backup(archive)
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "data").exists()


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_the_dump_is_one_snapshot_even_while_others_write(tmp_path, media_root, monkeypatch):
    """A workspace committed by another connection mid-dump is not in the archive (REPEATABLE READ)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "the test database on SQLite is in memory (no WAL); the snapshot is checked on PostgreSQL"
        )
    populate(media_root)
    rows = backup._rows
    wrote = []

    def write_from_elsewhere():
        from django.db import connection as other

        from smmdesk.accounts.models import Workspace

        Workspace.objects.create(slug="sneaky", name="Committed mid-dump")
        other.close()

    def rows_with_a_concurrent_write(model, using, counts):
        if not wrote:
            thread = threading.Thread(target=write_from_elsewhere)
            thread.start()
            thread.join()
            wrote.append(True)
        yield from rows(model, using, counts)

    monkeypatch.setattr(backup, "_rows", rows_with_a_concurrent_write)
    manifest = backup.create_backup(tmp_path / "b.tar.gz")
    assert wrote
    assert manifest["objects"]["accounts.workspace"] == 2
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        assert b"sneaky" not in tar.extractfile("data.json").read()
