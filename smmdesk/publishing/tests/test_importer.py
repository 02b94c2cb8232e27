"""The plan import: every kind of bad row reported with its row and column before anything is created;
import all-or-nothing unless the person chose to skip the bad rows; drafts or scheduled posts by the
workspace's approval setting; the file's encodings and separators; the template."""

from datetime import UTC, datetime

import pytest
import time_machine

from smmdesk.publishing import actions, importer, workflow
from smmdesk.publishing.importer import PlanRefused, import_plan, read_plan
from smmdesk.publishing.models import Post, PostEvent
from smmdesk.publishing.tests.feeds import make_channel, member

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GOOD = """date,time,channels,text,media_url
2026-03-10,10:00,VK; Telegram,Мужская стрижка — 700 ₽ по вторникам,
14.03.2026,18:30,vk|telegram,"Свадебные причёски: запись на весну, пробная укладка в подарок",
"""


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def salon(cast):
    make_channel(cast.workspace, "VK")
    make_channel(cast.workspace, "Telegram", stands_for="telegram")
    make_channel(cast.workspace, "Mailbox", kind="email")  # cannot publish
    return cast.workspace


def errors_of(plan) -> set[tuple[int, str]]:
    return {(e.row, e.column) for e in plan.errors}


def run(workspace, role, content, **options):
    plan = read_plan(workspace, content)
    return import_plan(member(workspace, role), content, confirm=plan.digest, **options)


# --- the preview -----------------------------------------------------------------------------------------


def test_preview_reads_good_rows_in_the_business_time_zone(salon):
    plan = read_plan(salon, GOOD)
    assert plan.errors == [] and len(plan.good) == 2
    first, second = plan.rows
    assert (first.row, second.row) == (2, 3)
    # Asia/Yekaterinburg is UTC+5.
    assert first.when == datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    assert second.when == datetime(2026, 3, 14, 13, 30, tzinfo=UTC)
    assert [c.name for c in second.channels] == ["VK", "Telegram"]  # case-insensitive, | separates too
    assert first.text.startswith("Мужская стрижка")
    assert Post.objects.count() == 0


def test_every_kind_of_bad_row_is_reported_with_row_and_column_and_nothing_is_created(salon):
    long_text = "Детские стрижки " * 200  # 3199 characters once trimmed; the fake network takes 2000
    content = (
        "date,time,channels,text,media_url\n"
        "32.13.2026,10:00,VK,Текст,\n"  # 2 bad date
        "2026-03-10,25:00,VK,Текст,\n"  # 3 bad time
        "2026-03-10,10:00,VK; Instagram,Текст,\n"  # 4 unknown channel
        f"2026-03-10,10:00,VK,{long_text},\n"  # 5 text over the channel's limit
        "2026-03-10,10:00,VK,Текст,ftp://example.com/cut.jpg\n"  # 6 bad media URL scheme
        "2026-02-27,10:00,VK,Текст,\n"  # 7 in the past
        ",,,,\n"  # a blank row: skipped, still counted
        ",,VK,,\n"  # 9 date, time and text missing
        "2026-03-10,10:00,Mailbox,Текст,\n"  # 10 a channel that cannot publish
        '2026-03-10,10:00,VK,"Две\nстроки",,extra\n'  # 11 more cells than columns
        "2026-03-10,10:00,,Текст,javascript:alert(1)\n"  # 12 no channel, bad scheme
        "2026-03-11,12:00,Telegram,Хороший ряд,https://example.com/kids.jpg\n"  # 13 good
    )
    plan = read_plan(salon, content)
    assert errors_of(plan) == {
        (2, "date"),
        (3, "time"),
        (4, "channels"),
        (5, "text"),
        (6, "media_url"),
        (7, "date"),
        (9, "date"),
        (9, "time"),
        (9, "text"),
        (10, "channels"),
        (11, "file"),
        (12, "channels"),
        (12, "media_url"),
    }
    messages = {(e.row, e.column): e.message for e in plan.errors}
    assert "Instagram" in messages[(4, "channels")] and "Telegram, VK" in messages[(4, "channels")]
    assert "3199" in messages[(5, "text")] and "2000" in messages[(5, "text")]
    assert "https://" in messages[(6, "media_url")]
    assert "past" in messages[(7, "date")]
    assert [row.row for row in plan.good] == [13]
    assert plan.good[0].media_url == "https://example.com/kids.jpg"
    assert Post.objects.count() == 0


def test_a_row_for_instagram_is_refused_at_the_check_since_no_picture_can_be_attached(salon):
    make_channel(salon, "Insta", kind="instagram")
    content = (
        "date,time,channels,text,media_url\n"
        "2026-03-10,10:00,VK; Insta,Весенняя акция,\n"
        "2026-03-10,11:00,Insta,Весенняя акция,https://salon.example/spring.jpg\n"
        "2026-03-10,12:00,VK,Весенняя акция,\n"
    )
    plan = read_plan(salon, content)
    # Found by the check, not half-way through the import: the row names the channel and what to do.
    assert errors_of(plan) == {(2, "media_url"), (3, "media_url")}
    assert all("Insta needs a picture" in e.message and "editor" in e.message for e in plan.errors)
    assert [row.row for row in plan.good] == [4]


def test_a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first(cast, salon):
    profile = salon.profile
    profile.timezone = "Europe/Bratislava"
    profile.save()
    content = (
        "date,time,channels,text\n"
        "2026-03-29,02:30,VK,Весна\n"  # the clocks jump from 02:00 to 03:00
        "2026-10-25,02:30,VK,Осень\n"  # 02:30 happens twice
        "2026-03-29,03:30,VK,После перевода\n"
    )
    plan = read_plan(salon, content)
    assert errors_of(plan) == {(2, "time")}
    assert "clocks go forward" in plan.errors[0].message
    assert plan.rows[1].when == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first
    assert plan.rows[2].when == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_later_time_today_is_fine_and_an_earlier_one_names_the_time(salon):
    # 09:00 UTC is 14:00 in Yekaterinburg.
    plan = read_plan(salon, "date,time,channels,text\n2026-03-01,13:00,VK,Рано\n2026-03-01,15:00,VK,Позже\n")
    assert errors_of(plan) == {(2, "time")}


def test_header_problems_are_reported_on_the_header_row(salon):
    plan = read_plan(salon, "date,channels,txt\n2026-03-10,VK,Текст\n")
    assert errors_of(plan) == {(1, "file"), (1, "txt")}
    assert "time" in plan.file_errors[0].message and "text" in plan.file_errors[0].message
    assert read_plan(salon, "").file_errors[0].row == 1
    assert errors_of(read_plan(salon, "date,time,channels,text\n")) == {(0, "file")}
    assert errors_of(read_plan(salon, "date,time,channels,text,text\n")) == {(1, "text")}
    too_big = b"date,time,channels,text\n" + b"x" * importer.MAX_BYTES
    assert errors_of(read_plan(salon, too_big)) == {(0, "file")}


def test_russian_excel_file_with_semicolons_and_windows_1251(salon):
    content = 'Дата;Время;Каналы;Текст\n10.03.2026;10:00;"VK; Telegram";Женская стрижка, укладка\n'
    plan = read_plan(salon, content.encode("cp1251"))
    assert plan.errors == []
    assert [c.name for c in plan.rows[0].channels] == ["VK", "Telegram"]
    assert plan.rows[0].text == "Женская стрижка, укладка"
    with_bom = read_plan(salon, ("\ufeff" + GOOD).encode("utf-8"))
    assert with_bom.errors == [] and with_bom.digest == read_plan(salon, GOOD).digest


# --- the import ------------------------------------------------------------------------------------------


BAD_AND_GOOD = GOOD + "2026-03-12,09:00,Instagram,Детские стрижки по выходным,\n"


def test_a_file_with_errors_creates_nothing_unless_bad_rows_are_skipped(salon):
    with pytest.raises(PlanRefused) as refused:
        run(salon, "content_manager", BAD_AND_GOOD)
    assert {(e.row, e.column) for e in refused.value.errors} == {(4, "channels")}
    assert Post.objects.count() == 0
    done = run(salon, "content_manager", BAD_AND_GOOD, skip_bad=True)
    assert done.skipped == [4] and len(done.posts) == 2
    assert Post.objects.filter(workspace=salon).count() == 2


def test_import_needs_the_previewed_file(salon):
    plan = read_plan(salon, GOOD)
    changed = GOOD.replace("700", "800")
    for confirm in ("", "0" * 32, plan.digest):
        with pytest.raises(PlanRefused) as refused:
            import_plan(member(salon, "owner"), changed, confirm=confirm)
        assert refused.value.errors[0].column == "file"
    assert Post.objects.count() == 0


def test_with_approval_on_a_content_manager_gets_drafts_with_their_time(salon):
    done = run(salon, "content_manager", GOOD)
    assert (done.drafts, done.scheduled) == (2, 0)
    posts = list(Post.objects.order_by("scheduled_at"))
    assert [p.state for p in posts] == [Post.State.DRAFT] * 2
    assert posts[0].scheduled_at == datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    assert sorted(v.channel.name for v in posts[1].variants.all()) == ["Telegram", "VK"]
    assert posts[0].created_by == member(salon, "content_manager")
    created = PostEvent.objects.get(post=posts[0], action="created")
    assert created.detail["source"] == "import" and created.detail["row"] == 2


def test_with_approval_off_rows_are_scheduled_except_those_with_media(salon):
    actions.update_settings(member(salon, "owner"), approval_required=False)
    content = GOOD + "2026-03-12,09:00,VK,Детские стрижки,https://example.com/kids.jpg\n"
    done = run(salon, "content_manager", content)
    assert (done.scheduled, done.drafts) == (2, 1)
    with_media = Post.objects.get(state=Post.State.DRAFT)
    event = PostEvent.objects.get(post=with_media, action="created")
    assert event.detail["media_url"] == "https://example.com/kids.jpg"
    assert Post.objects.filter(state=Post.State.SCHEDULED).count() == 2


def test_an_approver_import_is_scheduled_and_as_drafts_keeps_them_drafts(salon):
    done = run(salon, "smm_manager", GOOD)
    assert done.scheduled == 2
    assert set(Post.objects.values_list("state", flat=True)) == {Post.State.SCHEDULED}
    Post.objects.all().delete()
    done = run(salon, "smm_manager", GOOD + "\n", as_drafts=True)
    assert done.drafts == 2 and not Post.objects.exclude(state=Post.State.DRAFT).exists()


def test_the_same_file_is_imported_once(salon):
    run(salon, "owner", GOOD)
    with pytest.raises(PlanRefused) as refused:
        run(salon, "owner", GOOD)
    assert "already" in refused.value.errors[0].message
    assert Post.objects.count() == 2


def test_a_row_refused_on_the_way_rolls_back_the_whole_import(salon, monkeypatch):
    create = actions.create_post
    calls = []

    def second_fails(membership, data):
        calls.append(data)
        if len(calls) == 2:
            raise workflow.InvalidInput([("variants.0.text", "refused by the network rules")])
        return create(membership, data)

    monkeypatch.setattr(actions, "create_post", second_fails)
    with pytest.raises(PlanRefused) as refused:
        run(salon, "owner", GOOD)
    assert [(e.row, e.column, e.message) for e in refused.value.errors] == [
        (3, "text", "refused by the network rules")
    ]
    assert Post.objects.count() == 0
    assert not PostEvent.objects.exists()


def test_roles_that_may_not_write_posts_cannot_import(salon):
    for role in ("agent", "viewer"):
        with pytest.raises(workflow.NotAllowed):
            run(salon, role, GOOD)
    assert Post.objects.count() == 0


def test_template_names_the_workspace_channels_and_reads_back_clean(salon):
    template = importer.template_csv(salon)
    assert template.startswith("\ufeffdate,time,channels,text,media_url\r\n")
    assert "Telegram; VK" in template
    plan = read_plan(salon, template)
    assert plan.errors == [] and len(plan.good) == 2


def test_the_example_in_the_guide_imports_clean(salon):
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[3] / "docs" / "publishing.md").read_text()
    example = guide.split("```csv\n", 1)[1].split("```", 1)[0]
    plan = read_plan(salon, example)
    assert plan.errors == [] and len(plan.good) == 4
    assert [row.media_url != "" for row in plan.rows] == [False, True, False, True]
