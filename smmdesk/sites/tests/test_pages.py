"""Building, editing and publishing pages, and what the rendered page contains."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from smmdesk.sites import actions
from smmdesk.sites.audit import Parsed
from smmdesk.sites.models import Page
from smmdesk.sites.render import Links, render_page
from smmdesk.sites.tests.fixtures import cluster, member
from smmdesk.sites.text import slug_of


class Strict(HTMLParser):
    """Checks that every non-void element is closed in order (well-formedness for our templates)."""

    VOID = {"meta", "link", "img", "br", "input", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.doctype = [], [], False

    def handle_decl(self, decl):
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def parse(html: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(html)
    return parsed


def test_slugs_are_transliterated():
    assert slug_of("Женская стрижка в Ленинском районе") == "zhenskaya-strizhka-v-leninskom-rayone"
    assert slug_of("dámsky strih Petržalka") == "damsky-strih-petrzalka"
    assert slug_of("Men's haircut!") == "men-s-haircut"


def test_build_pages_makes_one_page_per_cluster(site):
    counts = actions.build_pages(site["owner"])
    assert counts["created"] == 2
    pages = {p.cluster_id: p for p in Page.objects.filter(workspace=site["workspace"])}
    page = pages[site["clusters"][0].pk]
    assert page.slug == "zhenskaya-strizhka-v-leninskom-rayone"
    assert page.title.startswith("Женская стрижка в ленинском районе")
    assert len(page.title) <= 60 and len(page.description) <= 160
    assert "женская стрижка в ленинском районе" in page.intro.casefold()
    assert [s["kind"] for s in page.sections] == ["service", "prices", "address", "hours"]
    questions = [q["question"] for q in page.faq]
    assert "Как ухаживать за волосами после стрижки?" in questions
    assert any(q.startswith("Идеи женских стрижек") and q.endswith("?") for q in questions)


def test_rebuild_keeps_edited_pages_and_addresses(site):
    actions.build_pages(site["owner"])
    page = Page.objects.get(cluster=site["clusters"][0])
    actions.update_page(site["owner"], page, {"title": "Моя стрижка"})
    other = Page.objects.get(cluster=site["clusters"][1])
    Page.objects.filter(pk=other.pk).update(intro="old")
    counts = actions.build_pages(site["owner"])
    assert (counts["created"], counts["updated"], counts["kept"]) == (0, 1, 1)
    assert Page.objects.get(pk=page.pk).title == "Моя стрижка"
    assert Page.objects.get(pk=other.pk).intro != "old"


def test_slug_unique_per_workspace(site):
    ws = site["workspace"]
    cluster(ws, "Мужская стрижка, Оренбург", site["services"][1])  # same words, another cluster
    actions.build_pages(site["owner"])
    slugs = sorted(Page.objects.filter(workspace=ws).values_list("slug", flat=True))
    assert "muzhskaya-strizhka-orenburg" in slugs and "muzhskaya-strizhka-orenburg-2" in slugs


def test_update_page_names_the_field(site):
    actions.build_pages(site["owner"])
    page = Page.objects.get(cluster=site["clusters"][0])
    with pytest.raises(actions.PageError) as error:
        actions.update_page(site["owner"], page, {"title": "x" * 121})
    assert error.value.field == "title"
    with pytest.raises(actions.PageError) as error:
        actions.update_page(site["owner"], page, {"sections": [{"heading": "", "text": "a"}]})
    assert error.value.field == "sections[0].heading"
    with pytest.raises(actions.PageError) as error:
        actions.update_page(site["owner"], page, {"faq": [{"question": "Q?", "answer": 5}]})
    assert error.value.field == "faq[0].answer"
    assert not Page.objects.get(pk=page.pk).edited  # nothing half-written


def test_roles(site):
    actions.build_pages(site["owner"])
    page = Page.objects.get(cluster=site["clusters"][0])
    with pytest.raises(actions.NotAllowed):
        actions.build_pages(member(site["cast"], "content_manager"))
    with pytest.raises(actions.NotAllowed):
        actions.set_published(member(site["cast"], "content_manager"), page, True)
    with pytest.raises(actions.NotAllowed):
        actions.update_page(member(site["cast"], "agent"), page, {"title": "x"})
    actions.update_page(member(site["cast"], "content_manager"), page, {"title": "Стрижка"})


def rendered(site, base="https://smm.example"):
    actions.build_pages(site["owner"])
    pages = list(Page.objects.filter(workspace=site["workspace"]))
    page = next(p for p in pages if p.cluster_id == site["clusters"][0].pk)
    return page, render_page(page, Links(base), pages)


def test_rendered_page_is_well_formed(site):
    page, html = rendered(site)
    strict = Strict()
    strict.feed(html)
    assert strict.doctype and not strict.errors and not strict.stack
    parsed = parse(html)
    assert parsed.lang == "ru"
    assert len(parsed.h1) == 1
    assert parsed.canonical == "https://smm.example/site/salon/zhenskaya-strizhka-v-leninskom-rayone/"
    assert "https://www.openstreetmap.org/search?query=" in html
    assert "/site/salon/muzhskaya-strizhka-orenburg/" in parsed.links  # internal link to the other page
    assert 'aria-label="breadcrumbs"' in html


def test_json_ld_parses_with_required_fields(site):
    _page, html = rendered(site)
    blocks = {b["@type"]: b for b in map(json.loads, parse(html).json_ld)}
    business = blocks["HairSalon"]  # a hairdresser by its services
    assert business["@context"] == "https://schema.org"
    assert business["name"] == "Парикмахерская «Локон»"
    assert business["address"]["streetAddress"] == "Оренбург, ул. Чкалова, 12"
    assert business["telephone"] == "+7 3532 00-00-00"
    assert len(business["openingHoursSpecification"]) == 6
    assert blocks["Service"]["offers"]["price"] == "1200.00"
    assert blocks["FAQPage"]["mainEntity"][0]["acceptedAnswer"]["text"]
    assert [i["position"] for i in blocks["BreadcrumbList"]["itemListElement"]] == [1, 2]


def test_not_a_hairdresser_is_a_local_business(site):
    ws = site["workspace"]
    for s in ws.services.all():
        s.name = s.name.replace("стрижка", "чистка")
        s.save()
    ws.profile.name = "Химчистка"
    ws.profile.save()
    ws.name = "Cleaners"
    ws.save()
    _page, html = rendered(site)
    types = [json.loads(b)["@type"] for b in parse(html).json_ld]
    assert "LocalBusiness" in types and "HairSalon" not in types


def test_service_name_with_script_is_inert(site):
    women = site["services"][0]
    women.name = '</script><script>alert(1)</script> & "x"'
    women.save()
    page, html = rendered(site)
    assert "<script>alert(1)" not in html
    assert "</script><script>" not in html
    blocks = [json.loads(b) for b in parse(html).json_ld]
    service = next(b for b in blocks if b["@type"] == "Service")
    assert service["name"] == women.name  # the JSON still carries the exact text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all('type="application/ld+json"' in s for s in scripts)  # no widget channel, no other script


def test_unsafe_image_src_is_dropped(site):
    actions.build_pages(site["owner"])
    page = Page.objects.get(cluster=site["clusters"][0])
    page.images = [
        {"src": "javascript:alert(1)", "alt": "x"},
        {"src": "https://img.example/a.jpg", "alt": "a"},
    ]
    page.save()
    html = render_page(page, Links(""), [page])
    assert "javascript:" not in html and "https://img.example/a.jpg" in html
