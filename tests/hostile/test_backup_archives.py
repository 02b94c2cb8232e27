"""Hostile backup archives for `smmdesk restore`: each is refused with a BackupError naming the member,
before the database or the media folder is touched (tests/test_backup.py covers damaged files and
unsafe member paths; these are the JSON cases of the corpus)."""

from __future__ import annotations

import io
import tarfile

import pytest

from smmdesk.lib import backup
from tests.corpus import bodies

pytestmark = pytest.mark.dbqueue
BROKEN = {case.name: case.data for case in bodies.broken_json(huge_bytes=64 * 1024)}


def archive(path, members: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("member", ["manifest.json", "keys.json"])
@pytest.mark.parametrize(
    "name", ["nested_arrays", "nested_objects", "truncated", "invalid_utf8", "number_5000_digits", "utf16"]
)
def test_a_hostile_json_member_is_a_backup_error(tmp_path, settings, member, name):
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    manifest = b'{"format": "smmdesk-backup", "format_version": 1, "migrations": {}, "objects": {}}'
    members = {"manifest.json": manifest, "keys.json": b'{"keys": []}', "data.json": b"[]"}
    members[member] = BROKEN[name]
    with pytest.raises(backup.BackupError, match=member):
        backup.restore_backup(archive(tmp_path / "hostile.tar.gz", members))
    assert not (tmp_path / "data").exists()
