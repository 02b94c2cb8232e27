"""The SEO audit on a generated (good) page, and each rule failing on a page broken for it."""

from __future__ import annotations

import pytest

from smmdesk.sites import actions
from smmdesk.sites.audit import audit, check_html
from smmdesk.sites.models import Page
from smmdesk.sites.render import Links, render_page


@pytest.fixture
def pages(site):
    actions.build_pages(site["owner"])
    pages = list(
        Page.objects.filter(workspace=site["workspace"]).select_related("cluster__main", "cluster__service")
    )
    good = next(p for p in pages if p.cluster_id == site["clusters"][0].pk)
    return good, pages


def failed(result) -> set[str]:
    return {item.code for item in result.todo}


def test_generated_page_passes_every_check(pages):
    good, siblings = pages
    result = audit(good, siblings)
    assert failed(result) == set(), [i.message for i in result.todo]
    assert result.score == 100


def broken(page, **fields):
    for name, value in fields.items():
        setattr(page, name, value)
    return page


CASES = {
    "query_title": {"title": "Лучший салон города"},
    "query_h1": {"h1": "Добро пожаловать"},
    "query_intro": {"intro": "Мы рады вас видеть."},
    "title_length": {"title": "Женская стрижка в ленинском районе — " + "очень " * 10},
    "description_length": {"description": "Коротко."},
    "image_alt": {"images": [{"src": "https://img.example/1.jpg", "alt": ""}]},
    "thin_content": {"sections": [], "faq": []},
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_fails_on_its_bad_page(pages, code):
    good, siblings = pages
    page = broken(good, **CASES[code])
    result = audit(page, siblings)
    assert code in failed(result)
    assert result.score < 100
    assert all(item.message for item in result.todo)


def test_address_without_the_query(pages):
    good, siblings = pages
    good.slug = "page-1"
    assert "query_url" in failed(audit(good, siblings))


def test_duplicates_across_pages(pages):
    good, siblings = pages
    other = next(p for p in siblings if p.pk != good.pk)
    other.title, other.description = good.title, good.description
    result = failed(audit(good, siblings))
    assert {"duplicate_title", "duplicate_description"} <= result


def test_no_links_to_other_pages(pages):
    good, siblings = pages
    html = render_page(good, Links(""), [good])  # rendered without its siblings
    assert "internal_links" in failed(check_html(html, good, siblings))


def test_html_level_rules(pages):
    good, siblings = pages
    html = render_page(good, Links(""), siblings)
    two_h1 = html.replace("</h1>", "</h1><h1>again</h1>", 1)
    assert "one_h1" in failed(check_html(two_h1, good, siblings))
    no_lang = html.replace('<html lang="ru">', "<html>")
    assert "lang" in failed(check_html(no_lang, good, siblings))
    no_canonical = html.replace('rel="canonical"', 'rel="alternate"')
    assert "canonical" in failed(check_html(no_canonical, good, siblings))
    bad_json = html.replace(
        '<script type="application/ld+json">{', '<script type="application/ld+json">{,', 1
    )
    assert "json_ld" in failed(check_html(bad_json, good, siblings))
    no_name = html.replace('"name":"Парикмахерская «Локон»","url"', '"url"', 1)
    assert no_name != html and "json_ld" in failed(check_html(no_name, good, siblings))
    no_faq = html.replace('"mainEntity":', '"other":')
    assert "json_ld" in failed(check_html(no_faq, good, siblings))
