"""The scheduled backup: opt-in, once a UTC day from its hour on, and retention of daily and weekly archives.

Tests that make real archives are transactional (create_backup opens its own snapshot) and marked
dbqueue, so CI repeats them on PostgreSQL."""

import datetime as dt
import tarfile

import pytest

from conftest import make_workspace
from smmdesk.lib import scheduled_backup
from smmdesk.lib.config import load_backup

UTC = dt.UTC


@pytest.fixture
def backups(settings, tmp_path):
    folder = tmp_path / "backups"
    settings.SMMDESK_BACKUP = {"DIR": folder, "HOUR": 3, "KEEP_DAILY": 7, "KEEP_WEEKLY": 4}
    settings.MEDIA_ROOT = tmp_path / "media"
    return folder


def names(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.django_db
def test_off_without_a_folder(settings, time_machine):
    settings.SMMDESK_BACKUP = load_backup({}, [])
    time_machine.move_to(dt.datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
    assert scheduled_backup.run() is None


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_one_archive_a_day_from_the_backup_hour_on(backups, time_machine):
    make_workspace("salon", "Salon Leninsky")
    time_machine.move_to(dt.datetime(2026, 11, 26, 2, 29, tzinfo=UTC), tick=False)
    assert scheduled_backup.run() is None and not backups.exists()

    time_machine.move_to(dt.datetime(2026, 11, 26, 3, 29, tzinfo=UTC), tick=False)
    made = scheduled_backup.run()
    assert made == backups / "smmdesk-2026-11-26.tar.gz"
    assert oct(backups.stat().st_mode & 0o777) == "0o700"
    with tarfile.open(made) as tar:
        assert {"manifest.json", "keys.json", "data.json"} <= set(tar.getnames())
    written = made.stat().st_mtime_ns

    time_machine.move_to(dt.datetime(2026, 11, 26, 23, 29, tzinfo=UTC), tick=False)
    assert scheduled_backup.run() is None
    assert names(backups) == ["smmdesk-2026-11-26.tar.gz"] and made.stat().st_mtime_ns == written

    time_machine.move_to(dt.datetime(2026, 11, 27, 3, 29, tzinfo=UTC), tick=False)
    assert scheduled_backup.run().name == "smmdesk-2026-11-27.tar.gz"
    assert len(names(backups)) == 2


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_the_periodic_task_makes_the_archive(backups, time_machine):
    from smmdesk.core.tasks import scheduled_backup_task

    time_machine.move_to(dt.datetime(2026, 11, 26, 4, 29, tzinfo=UTC), tick=False)
    scheduled_backup_task.call_local()
    assert names(backups) == ["smmdesk-2026-11-26.tar.gz"]


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_a_failed_backup_is_logged_and_tried_again_next_hour(backups, time_machine, caplog, monkeypatch):
    from smmdesk.lib.backup import BackupError

    def refuse(path):
        raise BackupError("disk full")

    monkeypatch.setattr(scheduled_backup, "create_backup", refuse)
    time_machine.move_to(dt.datetime(2026, 11, 26, 3, 29, tzinfo=UTC), tick=False)
    assert scheduled_backup.run() is None
    assert "scheduled backup to" in caplog.text and "disk full" in caplog.text
    monkeypatch.undo()
    time_machine.move_to(dt.datetime(2026, 11, 26, 4, 29, tzinfo=UTC), tick=False)
    assert scheduled_backup.run().name == "smmdesk-2026-11-26.tar.gz"


def test_retention_keeps_the_last_days_and_the_newest_of_recent_weeks(tmp_path):
    # 2026-10-01 (a Thursday) to 2026-11-26 (a Thursday), one archive a day, and a file of someone else's.
    for n in range(57):
        day = dt.date(2026, 10, 1) + dt.timedelta(days=n)
        (tmp_path / scheduled_backup.archive_name(day)).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "smmdesk-2026-02-30.tar.gz").write_bytes(b"not a date")

    removed = scheduled_backup.prune(tmp_path, keep_daily=7, keep_weekly=4)

    kept_days = [
        # the last seven days
        "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26",
        # the newest of the four latest ISO weeks: 48 and 47 (11-26, 11-22) are above; 46 and 45
        "2026-11-15", "2026-11-08",
    ]  # fmt: skip
    assert names(tmp_path) == sorted(
        [f"smmdesk-{day}.tar.gz" for day in kept_days] + ["notes.txt", "smmdesk-2026-02-30.tar.gz"]
    )
    assert len(removed) == 57 - len(kept_days)


def test_retention_with_gaps_counts_weeks_that_have_an_archive(tmp_path):
    for day in ["2026-09-07", "2026-09-20", "2026-10-04", "2026-11-25", "2026-11-26"]:
        (tmp_path / f"smmdesk-{day}.tar.gz").write_bytes(b"x")
    scheduled_backup.prune(tmp_path, keep_daily=1, keep_weekly=3)
    # Weeks with archives, newest first: 48 (11-26), 40 (10-04), 38 (09-20); 37's 09-07 goes.
    assert names(tmp_path) == [
        "smmdesk-2026-09-20.tar.gz",
        "smmdesk-2026-10-04.tar.gz",
        "smmdesk-2026-11-26.tar.gz",
    ]


def test_the_settings_are_checked():
    problems = []
    config = load_backup(
        {"SMMDESK_BACKUP_DIR": "/srv/backups", "SMMDESK_BACKUP_HOUR": "24", "SMMDESK_BACKUP_KEEP_DAILY": "0"},
        problems,
    )
    assert str(config["DIR"]) == "/srv/backups"
    assert problems == [
        "SMMDESK_BACKUP_HOUR: expected a whole number from 0 to 23, got '24'",
        "SMMDESK_BACKUP_KEEP_DAILY: expected a whole number from 1 to 366, got '0'",
    ]
    assert load_backup({}, []) == {"DIR": None, "HOUR": 3, "KEEP_DAILY": 7, "KEEP_WEEKLY": 4}
