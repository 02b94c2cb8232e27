import io

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.keywords import normalize
from smmdesk.keywords.manual import KeywordError
from smmdesk.keywords.models import Cluster, Keyword
from smmdesk.keywords.volumes import VolumeError, decode, import_volumes, parse_volume

PLANNER_HEADER = (
    "Keyword\tCurrency\tAvg. monthly searches\tThree month change\tYoY change\tCompetition\t"
    "Competition (indexed value)\tTop of page bid (low range)\tTop of page bid (high range)"
)


def member(cast, role="owner"):
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])


def keyword(cast, query, volume=None, language="ru", **extra):
    return Keyword.objects.create(
        workspace=cast.workspace,
        query=query,
        normalized=normalize.key(query, language),
        language=language,
        kind="direct",
        intent="commercial",
        volume=volume,
        **extra,
    )


def planner_file(*rows):
    lines = ["Keyword Stats 2024-05-01 at 10_00_00", "April 1, 2023 - March 31, 2024", PLANNER_HEADER, *rows]
    return io.BytesIO("\r\n".join(lines).encode("utf-16"))


@pytest.mark.django_db
def test_keyword_planner_utf16_tabs(cast):
    assert planner_file().getvalue()[:2] == b"\xff\xfe"
    existing = keyword(cast, "men haircut", 10, language="en")
    upload = planner_file(
        "haircut men\tUSD\t1,300\t0%\t0%\tLow\t12\t0.5\t2.1",
        "haircut near me\tUSD\t10K – 100K\t\t\tHigh\t90\t1\t3",
        "broken row\tUSD\tn/a\t\t\t\t\t\t",
    )
    report = import_volumes(member(cast), upload, fmt="planner")
    assert (report["rows"], report["matched"], report["added"]) == (3, 1, 1)
    assert report["errors"] == [(6, "volume", report["errors"][0][2])]
    assert "n/a" in report["errors"][0][2]
    existing.refresh_from_db()
    assert existing.volume == 1300
    added = Keyword.objects.get(workspace=cast.workspace, query="haircut near me")
    assert (added.volume, added.source, added.language, added.intent) == (10_000, "imported", "en", "local")


@pytest.mark.django_db
def test_wordstat_cp1251_semicolons_with_operators(cast):
    existing = keyword(cast, "женская стрижка", None)
    text = (
        "Слова, которые искали со словом «стрижка»;\n"
        "Фраза;Показов в месяц\n"
        "стрижка женская;5 000\n"
        # CSV escapes the operator's quotes by doubling them.
        '"""женская стрижка""";1200\n'
        "стрижка своими руками -видео -бесплатно;800\n"
        ";15\n"
        "курсы парикмахеров;300\n"
    )
    report = import_volumes(member(cast), io.BytesIO(text.encode("cp1251")), fmt="auto")
    assert report["rows"] == 5
    assert report["errors"] == [(6, "query", report["errors"][0][2])]
    # The exact-phrase figure wins over the broad one for the same lemma set.
    existing.refresh_from_db()
    assert existing.volume == 1200
    assert report["matched"] == 1 and report["added"] == 2
    diy = Keyword.objects.get(workspace=cast.workspace, query="стрижка своими руками")
    assert (diy.volume, diy.intent, diy.kind) == (800, "informational", "indirect")
    assert report["minus_words"] == ["бесплатно", "видео"]
    assert Keyword.objects.get(workspace=cast.workspace, query="курсы парикмахеров").excluded


@pytest.mark.django_db
def test_wordstat_xlsx(cast):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Фраза", "Количество показов"])
    sheet.append(["детская стрижка", 450])
    sheet.append(["детская стрижка оренбург", "не число"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    report = import_volumes(member(cast), data)
    assert (report["rows"], report["added"], len(report["errors"])) == (2, 1, 1)
    assert report["errors"][0][:2] == (3, "volume")
    assert Keyword.objects.get(workspace=cast.workspace, query="детская стрижка").volume == 450


@pytest.mark.django_db
def test_generic_csv_without_header_and_cluster_volume_follows(cast):
    cluster = Cluster.objects.create(workspace=cast.workspace, name="маникюр", language="ru")
    first = keyword(cast, "маникюр", 10, cluster=cluster)
    keyword(cast, "маникюр цена", 5, cluster=cluster)
    report = import_volumes(
        member(cast),
        b"manicure,40\n\xd0\xbc\xd0\xb0\xd0\xbd\xd0\xb8\xd0\xba\xd1\x8e\xd1\x80 \xd1\x86\xd0\xb5\xd0\xbd\xd0\xb0,70\n",
    )
    assert (report["matched"], report["added"]) == (1, 1)
    cluster.refresh_from_db()
    assert cluster.volume == 80
    assert cluster.main.query == "маникюр цена" and cluster.name == "маникюр цена"
    assert first.pk != cluster.main_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "fmt", "field"),
    [
        (b"", "auto", "file"),
        (b"just some text\nwithout columns\n", "auto", "file"),
        ("Фраза;Показов\nстрижка;5\n".encode(), "planner", "file"),
        (b"PK\x03\x04broken zip", "auto", "file"),
        (b"q,1\n", "xml", "fmt"),
    ],
)
def test_unreadable_files_are_refused_whole(cast, content, fmt, field):
    with pytest.raises(VolumeError) as error:
        import_volumes(member(cast), io.BytesIO(content), fmt=fmt)
    assert error.value.field == field
    assert not Keyword.objects.filter(workspace=cast.workspace).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_roles_without_manage_are_refused(cast, role):
    with pytest.raises(KeywordError):
        import_volumes(member(cast, role), io.BytesIO(b"query,volume\nstrih,5\n"))
    assert not Keyword.objects.exists()


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1300", 1300),
        ("1 300", 1300),
        ("1\u00a0300", 1300),
        ("1,300", 1300),
        ("1300.0", 1300),
        ("2.5K", 2500),
        ("1K – 10K", 1000),
        ("10 – 100", 10),
        ("", None),
        ("-5", None),
        ("12.5", None),
        ("abc", None),
    ],
)
def test_parse_volume(cell, value):
    assert parse_volume(cell) == value


def test_decode_guesses_encodings():
    assert decode("фраза".encode("cp1251")) == "фраза"
    assert decode("фраза".encode()) == "фраза"
    assert decode("\ufeffkeyword".encode("utf-8")) == "keyword"
    assert decode("keyword\tvolume".encode("utf-16-le")) == "keyword\tvolume"
