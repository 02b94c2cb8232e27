"""A campaign's page through the test client: saving the planner's assumptions (owner and SMM manager;
those who only read may recalculate), and editing a contextual ad's sitelinks within the platform's
rules, each refusal on the field it is about."""

from __future__ import annotations

import re

import pytest

from smmdesk.ads.tests.a3_fixtures import *  # noqa: F403
from smmdesk.ads.tests.test_views import make_contextual, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client, built):
    client.force_login(built["cast"].users["smm_manager"])
    return client


def plan(client, built, campaign, step, **fields):
    return client.post(url(built["cast"], f"{campaign.pk}/plan/"), {"step": step, **fields})


def value_of(page: str, name: str) -> str:
    found = re.search(rf'<input type="[a-z]+" name="{name}"[^>]*?(?: value="([^"]*)")?[^>]*>', page)
    assert found, name
    return found.group(1) or ""


def test_saved_assumptions_are_the_campaigns_and_fill_the_form(manager, built):
    campaign = make_contextual(manager, built)
    response = plan(manager, built, campaign, "save", ctr="3.5", cpc="30", lead_to_order="", budgets="5000")
    assert response.status_code == 302 and response["Location"].endswith(f"/{campaign.pk}/#plan-heading")
    campaign.refresh_from_db()
    assert campaign.assumptions == {"ctr": 0.035, "cpc": 30.0}  # shares of 1; the budgets are not kept
    page = manager.get(url(built["cast"], f"{campaign.pk}/")).content.decode()
    assert value_of(page, "ctr") == "3.5" and value_of(page, "cpc") == "30"
    assert "Assumptions saved." in page
    assert "ctr 0.0350" in page  # the plan now uses them
    plan(manager, built, campaign, "save", cpc="30")
    campaign.refresh_from_db()
    assert campaign.assumptions == {"cpc": 30.0}  # an emptied field goes back to the default


def test_recalculate_saves_nothing(manager, built):
    campaign = make_contextual(manager, built)
    response = plan(manager, built, campaign, "recalculate", ctr="10", budgets="1000 2000")
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="what-if-row"') == 2
    assert "ctr 0.1000" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.assumptions == {}


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"ctr": "120"}, "ctr", "less than or equal to 100"),
        ({"cpc": "-1"}, "cpc", "greater than or equal to 0"),
        ({"click_to_lead": "lots"}, "click_to_lead", "Enter a number"),
        ({"lead_to_order": "12.34567"}, "lead_to_order", "decimal places"),
    ],
)
def test_a_bad_assumption_is_not_saved_and_its_field_says_why(manager, built, fields, field, words):
    campaign = make_contextual(manager, built)
    response = plan(manager, built, campaign, "save", **fields)
    page = response.content.decode()
    assert response.status_code == 400
    errors = re.search(rf'data-testid="error-{field}">(.*?)</ul>', page, re.S)
    assert errors and words in errors.group(1)
    campaign.refresh_from_db()
    assert campaign.assumptions == {}


def test_those_who_only_read_may_recalculate_but_not_save(client, built):
    client.force_login(built["cast"].users["smm_manager"])
    campaign = make_contextual(client, built)
    client.force_login(built["cast"].users["content_manager"])
    page = client.get(url(built["cast"], f"{campaign.pk}/")).content.decode()
    assert 'data-testid="plan-recalculate"' in page and 'data-testid="plan-save"' not in page
    assert plan(client, built, campaign, "recalculate", ctr="10").status_code == 200
    assert plan(client, built, campaign, "save", ctr="10").status_code == 403
    campaign.refresh_from_db()
    assert campaign.assumptions == {}


def ad_post(client, built, campaign, ad, **fields):
    data = {"headlines": "\n".join(ad.headlines), "descriptions": "\n".join(ad.descriptions), **fields}
    return client.post(url(built["cast"], f"{campaign.pk}/ads/{ad.pk}/"), data)


def test_the_ad_editor_shows_sitelinks_with_counters_at_the_platforms_limits(manager, built):
    for platform, text, description in (("google", 25, 35), ("yandex", 30, 60)):
        campaign = make_contextual(manager, built, name=f"Links {platform}", platform=platform)
        ad = campaign.ads.first()
        page = manager.get(url(built["cast"], f"{campaign.pk}/")).content.decode()
        form = page[page.index(f'id="ad-{ad.pk}"') :]
        form = form[: form.index("</form>")]
        assert form.count('data-testid="sitelink"') == max(4, len(ad.sitelinks) + 2)
        assert f'name="sitelink_0_text" value="{ad.sitelinks[0]["text"]}"' in form
        assert re.search(rf'name="sitelink_0_text"[^>]*data-limit="{text}"', form)
        assert re.search(rf'name="sitelink_0_description"[^>]*data-limit="{description}"', form)
        assert ('name="sitelink_0_description2"' in form) is (platform == "google")
        assert f'data-counter-for="ad{ad.pk}_sitelink_0_text"' in form


def test_sitelinks_are_saved_from_the_slots_that_are_filled(manager, built):
    campaign = make_contextual(manager, built, platform="yandex")
    ad = campaign.ads.first()
    response = ad_post(
        manager, built, campaign, ad,
        sitelink_0_text="Цены", sitelink_0_url="https://salon.example/prices", sitelink_0_description="От 600 ₽",
        sitelink_2_text="Запись", sitelink_2_url="http://salon.example/book",
    )  # fmt: skip
    assert response.status_code == 302
    ad.refresh_from_db()
    assert ad.sitelinks == [
        {"text": "Цены", "url": "https://salon.example/prices", "description": "От 600 ₽"},
        {"text": "Запись", "url": "http://salon.example/book", "description": ""},
    ]


@pytest.mark.parametrize(
    ("platform", "slot", "fields", "field", "words"),
    [
        ("yandex", 1, {"text": "Цены", "url": "ftp://salon.example/"}, "url", "http(s)"),
        ("yandex", 1, {"text": "Цены", "url": "javascript:alert(1)"}, "url", "http(s)"),
        ("yandex", 3, {"text": "с" * 31, "url": "https://s.example/"}, "text", "the limit is 30"),
        ("yandex", 0, {"text": "Цены!", "url": "https://s.example/"}, "text", "! ? [ ]"),
        ("yandex", 0, {"url": "https://s.example/"}, "text", "is required"),
        ("google", 1, {"text": "т" * 26, "url": "https://s.example/"}, "text", "the limit is 25"),
        (
            "google", 2, {"text": "Цены", "url": "https://s.example/", "description": "Стрижки от 600 ₽"},
            "description2", "both description lines",
        ),
    ],
)  # fmt: skip
def test_a_bad_sitelink_is_refused_on_its_own_field(manager, built, platform, slot, fields, field, words):
    campaign = make_contextual(manager, built, platform=platform)
    ad = campaign.ads.first()
    before = ad.sitelinks
    posted = {f"sitelink_{slot}_{part}": value for part, value in fields.items()}
    response = ad_post(manager, built, campaign, ad, **posted)
    page = response.content.decode()
    assert response.status_code == 400
    errors = re.search(rf'data-testid="error-sitelink_{slot}_{field}">(.*?)</ul>', page, re.S)
    assert errors and words in errors.group(1)
    ad.refresh_from_db()
    assert ad.sitelinks == before


def test_too_many_characters_across_four_direct_sitelinks_is_said_above_the_form(manager, built):
    campaign = make_contextual(manager, built, platform="yandex")
    ad = campaign.ads.first()
    posted = {}
    for slot in range(4):
        posted |= {
            f"sitelink_{slot}_text": f"Страница номер {slot}{slot}",
            f"sitelink_{slot}_url": "https://s.example/",
        }
    response = ad_post(manager, built, campaign, ad, **posted)  # 4 × 17 = 68 characters
    assert response.status_code == 400
    assert 'data-testid="form-errors"' in response.content.decode()
    assert "68 characters together, the limit is 66" in response.content.decode()
