"""The two-step stats import behind the Stats page: upload (header read, columns pre-selected from the
platforms' header names in en/ru/sk), the column mapping judged field by field, the preview of the first
rows with their problems, the import with the chosen columns, and the uploads nobody imported."""

import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smmdesk.ads import stats_upload
from smmdesk.ads.models import Platform, StatRow, StatsImport, StatsUpload
from smmdesk.ads.tests.a2_fixtures import campaign, member

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)

GOOGLE_RU = (
    "Отчёт по ключевым словам\n"
    "День,Кампания,Группа объявлений,Ключевое слово,Показы,Клики,Стоимость,Цена за конв.,Конверсии\n"
    "2026-03-01,Весна google,Дети,детская стрижка,1200,40,812.50,406.25,2\n"
    "2026-03-02,Весна google,Дети,детская стрижка,много,5,10,0,0\n"
    "Итого,,,,1200,45,822.50,,2\n"
)
GOOGLE_SK = (
    "Deň\tKampaň\tReklamná skupina\tKľúčové slovo\tZobr.\tKliknutia\tCena\tKonverzie\n"
    "2026-03-01\tJar\tDeti\tdetský strih\t1 000\t30\t45,10\t1\n"
)
VK_EN = "Date;Campaign;Ad;Impressions;Clicks;Spent, ₽;Cost / conv.\n01.03.2026;Весна vk;Баннер 1;5000;60;900;450\n"
# Nothing here is a header the platforms write: the columns are chosen by hand.
PLAIN = "d;c;n1;n2\n2026-03-01;Весна yandex;100;12\n"


def upload(cast, text, platform="google", role="owner", name="report.csv", encoding="utf-8"):
    source = SimpleUploadedFile(name, text.encode(encoding))
    return stats_upload.start(member(cast, role), source, platform)


def chosen(job):
    return {field: job.headers[index] for field, index in job.mapping.items()}


def test_russian_google_headers_are_recognised_and_a_cost_per_conversion_is_not_the_cost(cast):
    job = upload(cast, GOOGLE_RU)
    assert chosen(job) == {
        "date": "День",
        "campaign": "Кампания",
        "ad_group": "Группа объявлений",
        "keyword": "Ключевое слово",
        "impressions": "Показы",
        "clicks": "Клики",
        "cost": "Стоимость",
        "conversions": "Конверсии",
    }
    assert job.headers[0] == "День"  # the title line above the header is skipped
    assert job.file_name == "report.csv" and job.platform == "google"


def test_slovak_google_and_english_vk_headers_are_recognised(cast):
    assert chosen(upload(cast, GOOGLE_SK)) == {
        "date": "Deň",
        "campaign": "Kampaň",
        "ad_group": "Reklamná skupina",
        "keyword": "Kľúčové slovo",
        "impressions": "Zobr.",
        "clicks": "Kliknutia",
        "cost": "Cena",
        "conversions": "Konverzie",
    }
    vk = chosen(upload(cast, VK_EN, platform="vk"))
    assert vk == {
        "date": "Date",
        "campaign": "Campaign",
        "ad_group": "Ad",
        "impressions": "Impressions",
        "clicks": "Clicks",
        "cost": "Spent, ₽",
    }  # "Cost / conv." is another measure, not the cost


def test_the_preview_reads_rows_as_the_mapping_says_and_names_each_problem(cast):
    job = upload(cast, GOOGLE_RU)
    rows = stats_upload.preview(job)
    assert [row["row"] for row in rows] == [3, 4]  # the "Итого" line is left out, as the import does
    assert rows[0]["values"]["cost"] == "812.50" and rows[0]["errors"] == []
    assert rows[1]["errors"] == [{"field": "impressions", "message": "Not a number."}]


@pytest.mark.parametrize(
    ("mapping", "errors"),
    [
        ({"campaign": 1, "clicks": 5}, {"date"}),
        ({"date": 0, "campaign": 1, "clicks": 1}, {"campaign", "clicks"}),
        ({"date": 0, "campaign": 1, "keyword": 3}, {"impressions"}),
        ({"date": 0, "campaign": 1, "clicks": 99}, {"clicks"}),
        ({"date": 0, "campaign": 1, "clicks": 5, "bids": 2}, {"bids"}),
    ],
)
def test_a_mapping_that_cannot_be_used_names_each_field(cast, mapping, errors):
    job = upload(cast, GOOGLE_RU)
    with pytest.raises(stats_upload.InvalidMapping) as refused:
        stats_upload.set_mapping(member(cast), job, mapping)
    assert {field for field, _message in refused.value.errors} == errors
    job.refresh_from_db()
    assert job.mapping["impressions"] == 4  # a refused mapping is not kept


def test_import_with_the_chosen_columns_then_the_upload_and_its_file_are_gone(
    cast, django_capture_on_commit_callbacks
):
    spring = campaign(cast.workspace, Platform.GOOGLE_ADS)
    job = upload(cast, GOOGLE_RU)
    path = job.file.path
    mapping = {**job.mapping, "keyword": None, "conversions": ""}  # both "not in the file"
    job = stats_upload.set_mapping(member(cast), job, mapping)
    with django_capture_on_commit_callbacks(execute=True):
        done = stats_upload.run(member(cast), job)
    assert (done.rows, done.imported, done.file_name) == (2, 1, "report.csv")
    assert [(e["row"], e["field"]) for e in done.errors] == [(4, "impressions")]
    row = StatRow.objects.get()
    assert (row.date, row.campaign, row.keyword, row.clicks) == (date(2026, 3, 1), spring, "", 40)
    assert (row.cost, row.conversions) == (Decimal("812.50"), 0)  # the recognised columns stayed out
    assert not StatsUpload.objects.exists() and not os.path.exists(path)
    with pytest.raises(stats_upload.StatsRefused):
        stats_upload.run(member(cast), job)  # a second click imports nothing more
    assert StatsImport.objects.count() == 1


def test_headers_nobody_recognises_are_mapped_by_hand(cast):
    campaign(cast.workspace, Platform.YANDEX_DIRECT)
    job = upload(cast, PLAIN, platform="yandex")
    assert job.headers == ["d", "c", "n1", "n2"] and job.mapping == {}
    with pytest.raises(stats_upload.InvalidMapping):
        stats_upload.run(member(cast), job)
    job = stats_upload.set_mapping(member(cast), job, {"date": "0", "campaign": "1", "impressions": "2"})
    done = stats_upload.run(member(cast), job)
    assert done.imported == 1 and StatRow.objects.get().impressions == 100


def test_an_unreadable_file_is_refused_on_upload_and_nothing_is_kept(cast):
    with pytest.raises(stats_upload.StatsRefused) as refused:
        upload(cast, "", name="empty.csv")
    assert refused.value.field == "file"
    with pytest.raises(stats_upload.StatsRefused) as refused:
        upload(cast, GOOGLE_RU, platform="meta")
    assert refused.value.field == "platform"
    assert not StatsUpload.objects.exists()


def test_roles_and_other_workspaces(cast):
    with pytest.raises(stats_upload.stats.NotAllowed):
        upload(cast, GOOGLE_RU, role="content_manager")
    job = upload(cast, GOOGLE_RU)
    job.workspace = cast.other
    job.save()
    with pytest.raises(stats_upload.stats.NotAllowed):
        stats_upload.run(member(cast), job)
    assert StatsUpload.objects.filter(pk=job.pk).exists()


def test_uploads_nobody_imports_are_deleted_after_a_day(
    cast, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    job = upload(cast, GOOGLE_RU)
    path = job.file.path
    assert stats_upload.discard_abandoned() == 0
    time_machine.move_to(NOW + stats_upload.ABANDONED + timedelta(minutes=1), tick=False)
    newer = upload(cast, GOOGLE_SK)
    with django_capture_on_commit_callbacks(execute=True):
        assert stats_upload.discard_abandoned() == 1
    assert list(StatsUpload.objects.all()) == [newer]
    assert not os.path.exists(path) and os.path.exists(newer.file.path)
