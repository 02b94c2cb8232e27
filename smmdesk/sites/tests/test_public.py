"""Public serving, sitemap.xml, robots.txt, the widget embed, the static export and the workspace UI."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from smmdesk.channels.actions import create_channel
from smmdesk.sites import actions
from smmdesk.sites.audit import Parsed
from smmdesk.sites.export import export_zip
from smmdesk.sites.models import Page

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def built(site, settings):
    settings.SMMDESK_PUBLIC_URL = "https://smm.example"
    actions.build_pages(site["owner"])
    pages = list(Page.objects.filter(workspace=site["workspace"]).order_by("slug"))
    actions.set_published(site["owner"], pages[0], True)  # muzhskaya-...
    return site, pages


def test_only_published_pages_are_served(built, client):
    _site, pages = built
    assert client.get(f"/site/salon/{pages[0].slug}/").status_code == 200
    assert client.get(f"/site/salon/{pages[1].slug}/").status_code == 404
    assert client.get("/site/nope/").status_code == 404
    index = client.get("/site/salon/").content.decode()
    assert pages[0].slug in index and pages[1].slug not in index


def test_sitemap_lists_exactly_the_published_pages(built, client):
    site, pages = built
    actions.set_published(site["owner"], pages[1], True)
    actions.set_published(site["owner"], pages[0], False)
    root = ElementTree.fromstring(client.get("/site/salon/sitemap.xml").content)
    locs = [e.text for e in root.iter(f"{SITEMAP_NS}loc")]
    assert locs == [f"https://smm.example/site/salon/{pages[1].slug}/"]


def test_robots_names_the_sitemap(built, client):
    response = client.get("/site/salon/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: https://smm.example/site/salon/sitemap.xml" in response.content.decode()


def test_widget_is_embedded_only_with_a_webchat_channel(built, client):
    _site, pages = built
    url = f"/site/salon/{pages[0].slug}/"
    assert "/hooks/chat/" not in client.get(url).content.decode()
    channel = create_channel(built[0]["workspace"], "webchat", "Site chat", {})
    key = channel.typed_config().public_key
    html = client.get(url).content.decode()
    assert f'<script src="/hooks/chat/{key}/widget.js" async></script>' in html
    # The default policy lets the page load its own stylesheet and the widget.
    assert "script-src 'self'" in client.get(url)["Content-Security-Policy"]


def test_export_zip_is_a_relative_static_site(built):
    site, pages = built
    actions.set_published(site["owner"], pages[1], True)
    channel = create_channel(site["workspace"], "webchat", "Site chat", {})
    archive = zipfile.ZipFile(io.BytesIO(export_zip(site["workspace"], "http://127.0.0.1:8000")))
    names = set(archive.namelist())
    assert names == {
        "index.html", "sitemap.xml", "robots.txt", "assets/site.css",
        *(f"{p.slug}/index.html" for p in pages),
    }  # fmt: skip
    for name in ("index.html", *(f"{p.slug}/index.html" for p in pages)):
        parsed = Parsed()
        html = archive.read(name).decode()
        parsed.feed(html)
        local = [h for h in parsed.links if not h.startswith(("http://", "https://"))]
        assert local and all(not h.startswith("/") for h in local), (name, local)
        folder = name.rpartition("/")[0]
        for href in local:  # every relative link lands on a file in the archive
            target = "/".join(p for p in (folder + "/" + href).split("/") if p)
            while "/../" in "/" + target:
                target = re.sub(r"(^|/)[^/]+/\.\.(/|$)", r"\1", target, count=1)
            assert target.lstrip("/") in names, (name, href, target)
        key = channel.typed_config().public_key
        assert f'src="http://127.0.0.1:8000/hooks/chat/{key}/widget.js"' in html
    assert 'href="../assets/site.css"' in archive.read(f"{pages[0].slug}/index.html").decode()


def test_workspace_ui_and_permissions(built, client):
    site, pages = built
    cast = site["cast"]
    client.force_login(cast.users["content_manager"])
    assert client.get("/w/salon/sites/").status_code == 200
    editor = f"/w/salon/sites/{pages[0].pk}/"
    assert client.get(editor).status_code == 200
    response = client.post(editor, {"title": "", "description": "d", "h1": "h", "intro": "i"})
    assert response.status_code == 422 and "title" in response.content.decode()
    assert client.post(f"/w/salon/sites/{pages[0].pk}/publish/", {"published": "0"}).status_code == 403
    assert client.post("/w/salon/sites/build/").status_code == 403
    counter = client.get(f"/w/salon/sites/{pages[0].pk}/counter/", {"field": "title", "title": "x" * 61})
    assert "61 / 60" in counter.content.decode() and "over" in counter.content.decode()
    client.force_login(cast.users["agent"])
    assert client.get(editor).status_code == 403
    client.force_login(cast.outsider)
    assert client.get(editor).status_code == 404
    client.force_login(cast.users["content_manager"])
    assert client.get("/w/salon/sites/export.zip").status_code == 403
    client.force_login(cast.users["owner"])
    zipped = client.get("/w/salon/sites/export.zip")
    assert zipped["Content-Type"] == "application/zip" and zipfile.is_zipfile(io.BytesIO(zipped.content))


class EditorForm(HTMLParser):
    """The editor form's fields as a browser would submit them: inputs, ticked checkboxes, textareas."""

    def __init__(self):
        super().__init__()
        self.inside, self.fields, self.textarea = False, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("data-testid") == "page-editor"
        elif self.inside and tag == "input" and attrs.get("name") and attrs.get("type") != "hidden":
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.fields[attrs["name"]] = attrs.get("value") or ""
        elif self.inside and tag == "textarea":
            self.textarea = attrs["name"]
            self.fields[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data


def test_editor_form_saves_a_valid_edit(built, client):
    site, pages = built
    page = pages[0]
    client.force_login(site["cast"].users["content_manager"])
    editor = f"/w/salon/sites/{page.pk}/"
    form = EditorForm()
    form.feed(client.get(editor).content.decode())
    fields = form.fields
    # The form shows the page as stored: submitting it unchanged would keep every value.
    assert fields["title"] == page.title and fields["intro"] == page.intro
    assert fields["section-0-heading"] == page.sections[0]["heading"]
    assert len(page.faq) >= 2 and fields["faq-1-question"] == page.faq[1]["question"]
    fields.update({
        "title": "Женская стрижка в Ленинском районе — «Локон»",
        "section-0-text": "Стрижём по записи и без.\n\nКофе бесплатно.",
        "faq-0-delete": "1",
        "faq-new-question": "Можно ли прийти с ребёнком?",
        "faq-new-answer": "Да, у нас есть детское кресло.",
    })  # fmt: skip

    response = client.post(editor, fields)

    assert response.status_code == 302 and response["Location"] == editor
    assert "Saved." in client.get(editor).content.decode()
    saved = Page.objects.get(pk=page.pk)
    assert saved.edited
    assert saved.title == "Женская стрижка в Ленинском районе — «Локон»"
    assert (saved.description, saved.h1, saved.intro) == (page.description, page.h1, page.intro)
    assert saved.sections[0]["text"] == "Стрижём по записи и без.\n\nКофе бесплатно."
    # A section's kind is not in the form, and survives the save (it says which live facts follow).
    assert [s.get("kind") for s in saved.sections] == [s.get("kind") for s in page.sections]
    assert [s["heading"] for s in saved.sections] == [s["heading"] for s in page.sections]
    assert saved.faq == [
        *page.faq[1:],
        {"question": "Можно ли прийти с ребёнком?", "answer": "Да, у нас есть детское кресло."},
    ]
    public = client.get(f"/site/salon/{page.slug}/").content.decode()
    assert "<title>Женская стрижка в Ленинском районе — «Локон»</title>" in public
    assert "Можно ли прийти с ребёнком?" in public


def test_api(built, client):
    site, pages = built
    client.force_login(site["cast"].users["owner"])
    listed = client.get("/api/w/salon/sites/pages")
    assert listed.status_code == 200 and len(listed.json()) == 2
    answer = client.patch(
        f"/api/w/salon/sites/pages/{pages[0].pk}", json.dumps({"title": ""}), content_type="application/json"
    )
    assert answer.status_code == 422 and "title" in answer.content.decode()
    audit = client.get(f"/api/w/salon/sites/pages/{pages[0].pk}/audit").json()
    assert 0 <= audit["score"] <= 100 and {i["check"] for i in audit["items"]} >= {"one_h1", "json_ld"}
    publish = f"/api/w/salon/sites/pages/{pages[1].pk}/publish"
    assert client.post(publish, "{}", content_type="application/json").status_code == 422
    answer = client.post(publish, json.dumps({"published": True}), content_type="application/json")
    assert answer.status_code == 200 and answer.json()["published"] is True
    client.force_login(site["cast"].users["viewer"])
    assert client.get("/api/w/salon/sites/pages").status_code == 403
    client.force_login(site["cast"].outsider)
    assert client.get(f"/api/w/salon/sites/pages/{pages[0].pk}").status_code == 404
