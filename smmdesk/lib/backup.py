"""Backup and restore: one .tar.gz holding a consistent copy of the database and the media files.

Archive members:
    manifest.json   format and app version, time, database vendor, applied migrations, object counts
    keys.json       the data dir's encryption keys (see below)
    data.json       every row of every app (Django's JSON serializer), read in one snapshot transaction
    media/...       the files under MEDIA_ROOT

The data is vendor-neutral, so an archive made on SQLite restores into PostgreSQL and back.

Secrets: channel credentials, contest seeds and webhook secret headers are stored encrypted with the
data dir's key (lib/sealed lists them), and a restore into an empty data dir gets a new key. So the
archive carries the keys (keys.json), and a restore re-encrypts every secret with the target's key. The archive therefore opens every connected account: it is written with
mode 0600 and must be kept as secret as the data dir itself.

Restore is all-or-nothing for the database: the archive is checked first (format, schema, member
paths), the schema is migrated, then flush + load + re-encryption run in one transaction. Media are
unpacked into a staging folder before the database work and swapped in only after it commits.
An archive from an older schema is loaded into the current schema: new fields get their defaults.
"""

from __future__ import annotations

import datetime
import io
import itertools
import json
import os
import secrets as pysecrets
import shutil
import tarfile
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from cryptography.fernet import Fernet, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

import smmdesk
from smmdesk.lib import sealed

FORMAT = "smmdesk-backup"
FORMAT_VERSION = 1
# Rebuilt by migrate (contenttypes, permissions) or worthless in another data dir (sessions, admin log).
EXCLUDED_MODELS = frozenset(
    {"contenttypes.contenttype", "auth.permission", "sessions.session", "admin.logentry"}
)
TOP_LEVEL_MEMBERS = frozenset({"manifest.json", "keys.json", "data.json"})
MEDIA_PREFIX = "media"
STAGING_PREFIX = ".restore-"


class BackupError(Exception):
    """The backup or restore cannot be done; the message is one line meant for the person running it."""


# --- backup -----------------------------------------------------------------------------------------


def create_backup(path: Path, *, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Write an archive of the database and media to `path` (mode 0600); return its manifest.

    The returned manifest also says how many media files went in ("media_files"). The file appears
    only when complete: it is written under a temporary name in the same folder and renamed.
    """
    path = Path(path)
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("create_backup must run outside a transaction: it opens its own snapshot")
    if path.is_dir():
        raise BackupError(f"cannot write {path}: it is a folder; give a file name such as smmdesk.tar.gz")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise BackupError(f"cannot write {path}: the folder {folder} does not exist")
    fd, temp_name = tempfile.mkstemp(prefix=".smmdesk-backup-", suffix=".tmp", dir=folder)
    raw = os.fdopen(fd, "wb")
    try:
        with tempfile.TemporaryDirectory(prefix=".smmdesk-backup-", dir=folder) as work:
            data_path = Path(work) / "data.json"
            with open(data_path, "w", encoding="utf-8") as stream:
                migrations, counts = _dump(stream, using)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "app_version": smmdesk.__version__,
                "created_at": timezone.now().isoformat(),
                "database": connection.vendor,
                "migrations": migrations,
                "objects": counts,
            }
            keys = {"encryption_keys": list(settings.SMMDESK_ENCRYPTION_KEYS)}
            with raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
                _add_bytes(tar, "keys.json", json.dumps(keys).encode())
                tar.add(data_path, arcname="data.json", filter=_plain_member)
                media_files = _add_media(tar, Path(settings.MEDIA_ROOT))
        os.chmod(temp_name, 0o600)
        os.replace(temp_name, path)
    except BaseException:
        raw.close()
        Path(temp_name).unlink(missing_ok=True)
        raise
    return {**manifest, "media_files": media_files}


def _dump(stream, using: str) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Serialize every row into `stream` from one snapshot; return applied migrations and counts."""
    connection = connections[using]
    # Any connection health check runs now, in autocommit, and not as the transaction's first query.
    with connection.cursor():
        pass
    vendor = connection.vendor
    saved_mode = getattr(connection, "transaction_mode", None)
    if vendor == "sqlite":
        # The configured IMMEDIATE mode would take the write lock for the whole dump and stall the
        # worker; a deferred transaction only reads, and in WAL mode its first read fixes a snapshot.
        connection.transaction_mode = "DEFERRED"
    try:
        with transaction.atomic(using=using):
            if vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Must be the transaction's first statement; without it each query would see the
                    # rows committed so far, and a row added mid-dump could point at a missing one.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            applied = MigrationRecorder(connection).applied_migrations()
            migrations: dict[str, list[str]] = {}
            for app_label, name in sorted(applied):
                migrations.setdefault(app_label, []).append(name)
            counts: dict[str, int] = {}
            objects = itertools.chain.from_iterable(
                _rows(model, using, counts) for model in _backed_up_models()
            )
            serializers.serialize(
                "json",
                objects,
                stream=stream,
                use_natural_foreign_keys=True,
                use_natural_primary_keys=False,
                cls=_FullPrecisionEncoder,
            )
    finally:
        if vendor == "sqlite":
            connection.transaction_mode = saved_mode
    return migrations, counts


class _FullPrecisionEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder cuts times to milliseconds (as JavaScript would); a backup must keep them whole."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            if isinstance(o, datetime.time) and timezone.is_aware(o):
                raise ValueError("JSON can't represent timezone-aware times.")
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().default(o)


def _backed_up_models() -> list:
    app_list = []
    for app_config in apps.get_app_configs():
        models = [
            model
            for model in app_config.get_models()
            if model._meta.label_lower not in EXCLUDED_MODELS
            and model._meta.managed
            and not model._meta.proxy
        ]
        if models:
            app_list.append((app_config, models))
    # Rows referring to users by natural key (e-mail) must come after the users.
    return serializers.sort_dependencies(app_list, allow_cycles=True)


def _rows(model, using: str, counts: dict[str, int]):
    label = model._meta.label_lower
    counts[label] = 0
    for obj in model._base_manager.using(using).order_by("pk").iterator(chunk_size=1000):
        counts[label] += 1
        yield obj


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Owner ids mean nothing on the machine the archive is restored on.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _plain_member(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info = _anonymous(info)
    info.mode = 0o600 if info.isfile() else 0o700
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(timezone.now().timestamp())
    tar.addfile(_plain_member(info), io.BytesIO(content))


def _add_media(tar: tarfile.TarFile, media_root: Path) -> int:
    """Add the regular files under MEDIA_ROOT; links are skipped (a restore would refuse them)."""
    if not media_root.is_dir():
        return 0
    added = 0
    for folder, dirnames, filenames in os.walk(media_root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(STAGING_PREFIX) and not os.path.islink(os.path.join(folder, d))
        )
        for filename in sorted(filenames):
            full = Path(folder) / filename
            if full.is_symlink() or not full.is_file():
                continue
            arcname = PurePosixPath(MEDIA_PREFIX, *full.relative_to(media_root).parts)
            try:
                tar.add(full, arcname=str(arcname), recursive=False, filter=_anonymous)
            except FileNotFoundError:
                # Deleted while we walked: the database snapshot is the truth, an orphan file is not.
                continue
            added += 1
    return added


# --- restore ----------------------------------------------------------------------------------------


def restore_backup(path: Path, *, force: bool = False, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Restore an archive made by create_backup into this data dir's database and media folder.

    Refuses (BackupError, nothing changed) when the file is not a readable archive, comes from a newer
    format or schema, contains unsafe paths, or when the database already holds users or workspaces and
    `force` is False. With force, the database content and media are replaced by the archive's.
    Returns {"manifest", "objects", "media_files", "secrets_reencrypted", "replaced_existing"}.
    """
    path = Path(path)
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("restore_backup must run outside a transaction")
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with _reading(path):
        tar = tarfile.open(path, mode="r:gz")
    with tar:
        return _restore(tar, path, force=force, using=using)


@contextmanager
def _reading(path: Path):
    """Turn the ways a damaged or foreign file fails to read into one BackupError."""
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{path} is not a readable smmdesk backup ({exc.__class__.__name__}: {exc})")


def _restore(tar: tarfile.TarFile, path: Path, *, force: bool, using: str) -> dict:
    with _reading(path):
        members = _checked_members(tar)
        manifest = _read_json(tar, members, "manifest.json")
        _check_manifest(manifest)
        archive_keys = _archive_fernet(_read_json(tar, members, "keys.json"))
        if "data.json" not in members:
            raise BackupError("the archive has no data.json: it is not a complete smmdesk backup")
    _check_schema(manifest)
    occupied = _target_has_data(using)
    if occupied and not force:
        raise BackupError(
            "the database already holds users or workspaces; restore into an empty data dir, "
            "or use force to replace everything in it"
        )
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=media_root))
    try:
        media = [m for name, m in members.items() if name.split("/", 1)[0] == MEDIA_PREFIX]
        with _reading(path):
            tar.extractall(staging, members=media, filter="data")
            tar.extract(members["data.json"], staging, filter="data")
        media_files = sum(1 for m in media if m.isfile())
        call_command("migrate", interactive=False, verbosity=0, database=using)
        try:
            with transaction.atomic(using=using):
                # Flush even an "empty" target: rows no archive knows (an audit line of a failed login)
                # would otherwise clash with or mix into the restored ones.
                call_command("flush", interactive=False, verbosity=0, database=using)
                call_command("loaddata", str(staging / "data.json"), verbosity=0, database=using)
                _check_counts(manifest, using)
                reencrypted = _reencrypt(archive_keys, using)
        except BackupError:
            raise
        except Exception as exc:
            raise BackupError(f"cannot load the archive's data, nothing was changed: {exc}")
        finally:
            from django.contrib.contenttypes.models import ContentType

            # Flush gave the content types new ids; cached ones would point at the wrong rows.
            ContentType.objects.clear_cache()
        _swap_media(media_root, staging / MEDIA_PREFIX, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "manifest": manifest,
        "objects": sum(manifest.get("objects", {}).values()),
        "media_files": media_files,
        "secrets_reencrypted": reencrypted,
        "replaced_existing": occupied,
    }


def _checked_members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """Every member, checked before anything is extracted: plain files and folders at safe paths only."""
    members: dict[str, tarfile.TarInfo] = {}
    for member in tar.getmembers():
        name = member.name
        pure = PurePosixPath(name)
        if not name or pure.is_absolute() or ".." in pure.parts or "\\" in name or ":" in pure.parts[0]:
            raise BackupError(f"the archive contains an unsafe path: {name!r}")
        if not (member.isfile() or member.isdir()):
            raise BackupError(f"the archive contains a link or special file, which is not allowed: {name!r}")
        normal = str(pure)
        if normal not in TOP_LEVEL_MEMBERS and pure.parts[0] != MEDIA_PREFIX:
            raise BackupError(f"the archive contains an unexpected member: {name!r}")
        if normal in members and normal in TOP_LEVEL_MEMBERS:
            raise BackupError(f"the archive contains {name!r} twice")
        members[normal] = member
    return members


def _read_json(tar: tarfile.TarFile, members: dict, name: str):
    member = members.get(name)
    if member is None or not member.isfile():
        raise BackupError(f"the archive has no {name}: it is not a smmdesk backup")
    try:
        return json.load(tar.extractfile(member))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"the archive's {name} is damaged: {exc}")
    except RecursionError:
        raise BackupError(f"the archive's {name} is damaged: nested too deeply")


def _check_manifest(manifest) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("the archive's manifest.json is not a smmdesk backup manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise BackupError("the archive's manifest.json has no format version")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"the archive uses backup format {version}, newer than this smmdesk "
            f"({smmdesk.__version__}) understands ({FORMAT_VERSION}); upgrade smmdesk first"
        )
    migrations = manifest.get("migrations")
    if not isinstance(migrations, dict) or not all(
        isinstance(names, list) and all(isinstance(n, str) for n in names) for names in migrations.values()
    ):
        raise BackupError("the archive's manifest.json has no valid list of migrations")
    objects = manifest.setdefault("objects", {})
    if not isinstance(objects, dict) or not all(isinstance(n, int) for n in objects.values()):
        raise BackupError("the archive's manifest.json has no valid object counts")


def _check_schema(manifest: dict) -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(tuple(replaced) for replaced in migration.replaces)
    unknown = [
        (app, name)
        for app, names in sorted(manifest["migrations"].items())
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        app, name = unknown[0]
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        raise BackupError(
            f"archive comes from a newer schema ({app}: {name}{more}); upgrade smmdesk before restoring it"
        )


def _archive_fernet(keys) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys["encryption_keys"]])
    except (TypeError, KeyError, ValueError, AttributeError):
        raise BackupError("the archive's keys.json does not hold valid encryption keys")


def _target_has_data(using: str) -> bool:
    tables = set(connections[using].introspection.table_names())
    for label in ("accounts.User", "accounts.Workspace"):
        model = apps.get_model(label)
        if model._meta.db_table in tables and model._base_manager.using(using).exists():
            return True
    return False


def _check_counts(manifest: dict, using: str) -> None:
    for label, expected in manifest.get("objects", {}).items():
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        found = model._base_manager.using(using).count()
        if found != expected:
            raise BackupError(f"the archive lists {expected} {label} rows but {found} were loaded")


def _reencrypt(archive_keys: MultiFernet, using: str) -> int:
    """Re-encrypt secrets made with the archive's keys under this data dir's current key."""
    try:
        return sealed.reseal_database(archive_keys, using=using).resealed
    except sealed.UnreadableSecrets as exc:
        raise BackupError(f"{exc}: cannot be decrypted with the archive's keys")


def _swap_media(media_root: Path, restored: Path, staging: Path) -> None:
    """Replace MEDIA_ROOT's content by the restored files; renames only, inside MEDIA_ROOT itself, so it
    works when MEDIA_ROOT is a mount point and never copies."""
    old = staging / f"old-{pysecrets.token_hex(4)}"
    old.mkdir()
    for child in list(media_root.iterdir()):
        if child.name.startswith(STAGING_PREFIX):
            continue
        child.rename(old / child.name)
    if restored.is_dir():
        for child in list(restored.iterdir()):
            child.rename(media_root / child.name)
