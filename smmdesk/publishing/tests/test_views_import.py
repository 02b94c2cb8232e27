"""The plan import page: a CSV is checked row by row and every error is shown by row and column before
anything is created; the import then creates exactly the previewed rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smmdesk.publishing.models import Post
from smmdesk.publishing.tests.test_views import two_channels, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels(cast):
    return two_channels(cast.workspace)


PLAN = (
    "date,time,channels,text,media_url\n"
    "2026-03-20,10:00,VK group; Telegram channel,Весенняя акция,\n"
    "2026-03-21,25:00,VK group,Wrong time,\n"
    "2026-03-22,11:00,Nowhere,<script>alert(1)</script>,\n"
    "2026-03-23,12:00,Telegram channel,Second good row,\n"
)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), tick=False)


def preview(client, content=PLAN):
    return client.post(
        url("import"), {"step": "preview", "file": SimpleUploadedFile("plan.csv", content.encode())}
    )


def test_the_preview_lists_errors_by_row_and_creates_nothing(cast, client, channels, clock):
    client.force_login(cast.users["content_manager"])
    assert client.get(url("import")).status_code == 200
    response = preview(client)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="import-row"') == 4
    # Rows are numbered as the spreadsheet shows them: the header is row 1.
    assert 'data-row="2"' in body and 'data-row="5"' in body and 'data-row="1"' not in body
    assert "not a time" in body and "No channel that can publish is named “Nowhere”" in body
    assert "&lt;script&gt;" in body and "<script>alert(1)</script>" not in body
    assert 'data-testid="import-confirm"' in body
    assert not Post.objects.exists()


def test_importing_the_good_rows(cast, client, channels, clock):
    client.force_login(cast.users["content_manager"])
    body = preview(client).content.decode()
    digest = body.split('name="digest" value="')[1].split('"')[0]
    # With bad rows and without "leave them out", nothing is created.
    refused = client.post(url("import"), {"step": "import", "content": PLAN, "digest": digest})
    assert refused.status_code == 400 and not Post.objects.exists()
    done = client.post(url("import"), {"step": "import", "content": PLAN, "digest": digest, "skip_bad": "1"})
    assert done.status_code == 302 and done["Location"] == url("calendar_list")
    assert sorted(Post.objects.values_list("state", flat=True)) == ["draft", "draft"]
    # The same file again is refused: it was imported already.
    again = client.post(url("import"), {"step": "import", "content": PLAN, "digest": digest, "skip_bad": "1"})
    assert again.status_code == 400 and b"imported already" in again.content
    assert Post.objects.count() == 2


def test_a_changed_file_must_be_previewed_again(cast, client, channels, clock):
    client.force_login(cast.users["smm_manager"])
    body = preview(client).content.decode()
    digest = body.split('name="digest" value="')[1].split('"')[0]
    changed = PLAN.replace("Весенняя акция", "Something else")
    refused = client.post(
        url("import"), {"step": "import", "content": changed, "digest": digest, "skip_bad": "1"}
    )
    assert refused.status_code == 400 and b"not the file that was previewed" in refused.content
    assert not Post.objects.exists()


def test_no_file_and_the_template(cast, client, channels):
    client.force_login(cast.users["content_manager"])
    assert client.post(url("import"), {"step": "preview"}).status_code == 400
    template = client.get(url("import_template"))
    assert template["Content-Type"].startswith("text/csv") and "VK group" in template.content.decode(
        "utf-8-sig"
    )
    client.force_login(cast.users["viewer"])
    assert client.get(url("import")).status_code == 403
    assert preview(client).status_code == 403
