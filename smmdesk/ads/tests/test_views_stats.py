"""The Stats page's column-mapping step through the test client: the upload leads to the mapping with
the recognised columns selected and the first rows checked; a bad choice comes back on its field with a
400; "import" imports with the chosen columns; members who only read see the step but cannot change it."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smmdesk.ads.models import StatRow, StatsImport, StatsUpload
from smmdesk.ads.tests.test_stats_upload import GOOGLE_RU

pytestmark = pytest.mark.django_db


def stats_url(cast, tail=""):
    return f"/w/{cast.workspace.slug}/ads/stats/{tail}"


def post_report(client, cast, text=GOOGLE_RU, platform="google"):
    report = SimpleUploadedFile("google-ru.csv", text.encode(), content_type="text/csv")
    return client.post(stats_url(cast), {"platform": platform, "file": report})


@pytest.fixture
def owner(client, cast):
    client.force_login(cast.users["owner"])
    return client


def selected(page: str, field: str) -> str:
    """The text of the option selected in a field's select."""
    start = page.index(f'name="{field}"')
    select = page[start : page.index("</select>", start)]
    return re.search(r"<option [^>]*selected>([^<]*)</option>", select).group(1)


def test_upload_leads_to_the_mapping_with_recognised_columns_and_checked_rows(owner, cast):
    response = post_report(owner, cast)
    upload = StatsUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == stats_url(cast, f"{upload.pk}/")
    page = owner.get(response["Location"]).content.decode()
    assert selected(page, "cost") == "Стоимость" and selected(page, "keyword") == "Ключевое слово"
    assert 'data-testid="preview-row" data-row="3"' in page
    bad = page[page.index('data-row="4"') :]
    assert "Impressions: Not a number." in bad[: bad.index("</tr>")]
    listing = owner.get(stats_url(cast)).content.decode()
    assert 'data-testid="stats-uploads"' in listing and "google-ru.csv" in listing


def test_a_column_chosen_twice_comes_back_on_its_field(owner, cast):
    post_report(owner, cast)
    upload = StatsUpload.objects.get()
    choice = {"date": 0, "campaign": 1, "impressions": 4, "clicks": 4, "step": "check"}
    response = owner.post(stats_url(cast, f"{upload.pk}/"), choice)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-clicks"' in page and 'data-testid="error-impressions"' in page
    assert "chosen for another field" in page
    upload.refresh_from_db()
    assert upload.mapping["clicks"] == 5 and not StatsImport.objects.exists()


def test_check_keeps_the_choice_and_import_uses_it(owner, cast):
    post_report(owner, cast)
    upload = StatsUpload.objects.get()
    choice = {"date": 0, "campaign": 1, "ad_group": "", "keyword": "", "clicks": 5, "cost": 6}
    response = owner.post(stats_url(cast, f"{upload.pk}/"), {**choice, "step": "check"})
    assert response.status_code == 302 and response["Location"] == stats_url(cast, f"{upload.pk}/")
    page = owner.get(response["Location"]).content.decode()
    assert selected(page, "keyword") == "— not in the file —"
    response = owner.post(stats_url(cast, f"{upload.pk}/"), {**choice, "step": "import"})
    assert response.status_code == 302 and response["Location"] == stats_url(cast)
    rows = list(
        StatRow.objects.order_by("date").values_list("keyword", "ad_group_name", "impressions", "clicks")
    )
    assert rows == [("", "", 0, 40), ("", "", 0, 5)]  # row 4's bad impressions were not read at all
    assert not StatsUpload.objects.exists()
    page = owner.get(stats_url(cast)).content.decode()
    assert "2 of 2 rows imported" in page and 'data-testid="stats-error"' not in page


def test_members_who_read_see_the_step_but_cannot_change_it(client, cast):
    client.force_login(cast.users["owner"])
    post_report(client, cast)
    upload = StatsUpload.objects.get()
    client.force_login(cast.users["content_manager"])
    page = client.get(stats_url(cast, f"{upload.pk}/"))
    assert page.status_code == 200 and 'data-testid="mapping-import"' not in page.content.decode()
    assert client.post(stats_url(cast, f"{upload.pk}/"), {"step": "import"}).status_code == 403
    assert post_report(client, cast).status_code == 403
    assert StatsUpload.objects.count() == 1 and not StatsImport.objects.exists()


def test_a_file_that_cannot_be_read_stays_on_the_upload_form(owner, cast):
    response = post_report(owner, cast, text="\x00\x01binary")
    assert response.status_code == 400 and 'data-testid="error-file"' in response.content.decode()
    assert not StatsUpload.objects.exists()
